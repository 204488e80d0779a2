"""iCalendar injection: names typed by staff (a class, a company address, a family name, a
booking note) never add a line to the invitation parents receive nor to the private feeds.
Both are written by the ``icalendar`` library and read back with it here."""

from datetime import UTC, datetime

import icalendar
import pytest
from django.core import mail
from django_scopes import scope

from bookings.services import feed_for_family, feed_for_instructor
from makeups.calendar import makeup_ics
from makeups.services import makeup_book
from portal.selectors.feeds import feed_calendar
from tests.factories import parent_of

from .conftest import NOW

pytestmark = pytest.mark.django_db

CLASS_NAME = "Host Sharks\rX-INJ-CLASS:1\r\nX-INJ-CRLF:1\nX-INJ-LF:1"
ADDRESS = "1 River Rd\r\nRiverside NSW 2000\rX-INJ-ADDRESS:1"


def _poison(pf):
    pf.host.name = CLASS_NAME
    pf.host.save(update_fields=["name"])
    pf.home.name = "Home\r\nBEGIN:VEVENT\r\nSUMMARY:Free lessons"
    pf.home.save(update_fields=["name"])
    pf.company.address = ADDRESS
    pf.company.save(update_fields=["address"])
    pf.family.name = "Parker\rX-INJ-FAMILY:1"
    pf.family.save(update_fields=["name"])


def _parse(text: str) -> icalendar.Calendar:
    assert isinstance(text, str)
    assert "\r" not in text.replace("\r\n", "") and "\n" not in text.replace("\r\n", "")
    return icalendar.Calendar.from_ical(text)


def _no_injected_property(calendar: icalendar.Calendar) -> None:
    for component in calendar.walk():
        assert not [name for name in component if name.startswith("X-INJ")], component
    lines = calendar.to_ical().decode().replace("\r\n ", "").split("\r\n")
    assert not [line for line in lines if line.startswith(("X-INJ", "SUMMARY:Free"))]


def _book(pf):
    with scope(company=pf.company):
        return makeup_book(
            credit=pf.credit,
            session=pf.session,
            actor=parent_of(pf.credit),
            note="Bring\r\nX-INJ-NOTE:1",
            now=NOW,
        )


def test_mkp_10_makeup_invitation_a_class_name_with_cr_adds_no_property(pf):
    _poison(pf)
    booking = _book(pf)
    calendar = _parse(makeup_ics(booking))
    _no_injected_property(calendar)
    (event,) = calendar.walk("VEVENT")
    assert (
        str(event["SUMMARY"]) == "Make-up: Host Sharks X-INJ-CLASS:1 X-INJ-CRLF:1 X-INJ-LF:1 (Ava)"
    )
    assert str(event["LOCATION"]) == (
        "Lake pool, Alpha Swim, 1 River Rd, Riverside NSW 2000, X-INJ-ADDRESS:1"
    )
    assert str(event["DESCRIPTION"]) == "Bring\nX-INJ-NOTE:1"
    assert event.decoded("DTSTART") == pf.session.starts_at
    assert event.decoded("DTEND") == pf.session.ends_at
    assert str(event["UID"]).startswith(f"makeup-{booking.pk}@")
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_mkp_10_the_emailed_invitation_parses_with_one_event(
    pf, django_capture_on_commit_callbacks
):
    _poison(pf)
    with django_capture_on_commit_callbacks(execute=True):
        _book(pf)
    (message,) = mail.outbox
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("make-up.ics", "text/calendar")
    calendar = _parse(content)
    _no_injected_property(calendar)
    assert len(calendar.walk("VEVENT")) == 1


def test_family_feed_with_cr_in_names_parses_with_the_right_events(pf, client):
    _poison(pf)
    _book(pf)
    with scope(company=pf.company):
        feed = feed_for_family(family=pf.family)
    calendar = _parse(client.get(f"/calendar/{feed.token}.ics").content.decode())
    _no_injected_property(calendar)
    assert str(calendar["X-WR-CALNAME"]) == "Parker X-INJ-FAMILY:1 family · Alpha Swim"
    events = {
        (str(e["SUMMARY"]), e.decoded("DTSTART"), str(e["STATUS"])) for e in calendar.walk("VEVENT")
    }
    assert events == {
        (
            "Ava: Home BEGIN:VEVENT SUMMARY:Free lessons",
            pf.lesson.starts_at,
            "CONFIRMED",
        ),
        (
            "Ava: Home BEGIN:VEVENT SUMMARY:Free lessons",
            pf.next_lesson.starts_at,
            "CONFIRMED",
        ),
        (
            "Ava: make-up — Host Sharks X-INJ-CLASS:1 X-INJ-CRLF:1 X-INJ-LF:1",
            pf.session.starts_at,
            "CONFIRMED",
        ),
    }
    for event in calendar.walk("VEVENT"):
        assert str(event["LOCATION"]).endswith("1 River Rd, Riverside NSW 2000, X-INJ-ADDRESS:1")


def test_instructor_feed_with_cr_in_names_parses_with_the_right_events(pf, world):
    _poison(pf)
    pf.host.instructor = world.staff_a
    pf.host.save(update_fields=["instructor"])
    with scope(company=pf.company):
        feed = feed_for_instructor(company=pf.company, user=world.staff_a)
        calendar = _parse(feed_calendar(feed=feed, now=NOW))
    _no_injected_property(calendar)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Host Sharks X-INJ-CLASS:1 X-INJ-CRLF:1 X-INJ-LF:1"
    assert event.decoded("DTSTART") == pf.session.starts_at
    assert event.decoded("DTSTAMP") == NOW.astimezone(UTC)
    assert event.decoded("DTSTAMP") == datetime(2026, 11, 21, tzinfo=UTC)
