"""Closures in the private calendar feeds: a lesson on a closed day is cancelled in the
family's and the instructor's calendar — with the closure's name, under the same UID, so
calendar apps update the event instead of adding a second one — from the moment the closure
is on the calendar, before and after its sessions are cancelled; a make-up the closure
cancelled stays in the feed as cancelled. The closures are read once per feed.
Ava (Parker family, Alpha) has lessons on Tue 24 Nov and Tue 1 Dec at 17:00 Sydney time at
the Main pool and a make-up booked on Wed 25 Nov 16:00 at the Lake pool; time is frozen on
Sat 21 Nov 2026."""

import re
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from bookings.models import CalendarFeed, MakeupBooking
from bookings.services import feed_for_family, feed_for_instructor, session_cancel
from franchise.models import CompanyLink
from makeups.services import makeup_book, makeup_cancel
from programmes.services import closure_create, closure_mark_removed
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db


def unfold(body: str) -> str:
    return body.replace("\r\n ", "")


def events_by_uid(body: str) -> dict[str, str]:
    """Each VEVENT of the feed, unfolded, by its UID (the part before the site's host)."""
    found = {}
    for chunk in unfold(body).split("BEGIN:VEVENT")[1:]:
        event = chunk.split("END:VEVENT")[0]
        uid = re.search(r"\r\nUID:([^\r]+)\r\n", event).group(1)
        found[uid.split("@")[0]] = event
    return found


def fetch(feed: CalendarFeed) -> dict[str, str]:
    response = Client().get(f"/calendar/{feed.token}.ics")
    assert response.status_code == 200
    return events_by_uid(response.content.decode())


def lesson_uid(session, enrolment) -> str:
    return f"session-{session.pk}-student-{enrolment.student_id}"


def close(company, name, day, **kwargs):
    with scope(company=company):
        return closure_create(
            company=company, name=name, first_day=day, last_day=day, now=NOW, **kwargs
        )


@pytest.fixture
def family(pf):
    with scope(company=pf.company):
        pf.feed = feed_for_family(family=pf.family)
        pf.booking = makeup_book(
            credit=pf.credit, actor=f.parent_of(pf.credit), session=pf.session, now=NOW
        )
    return pf


def test_a_lesson_on_a_closed_day_is_cancelled_in_the_family_feed_under_the_same_uid(family):
    uid = lesson_uid(family.next_lesson, family.ava)
    before = fetch(family.feed)
    assert "STATUS:CONFIRMED" in before[uid]

    close(family.company, "Pool maintenance", date(2026, 12, 1))
    after = fetch(family.feed)

    assert set(after) == set(before)  # the same events: none added, none dropped
    event = after[uid]
    assert "STATUS:CANCELLED" in event
    assert "SUMMARY:Cancelled (Pool maintenance): Ava: Home Dolphins" in event
    assert "Cancelled by Alpha Swim: closed for Pool maintenance." in event
    assert "STATUS:CONFIRMED" in after[lesson_uid(family.lesson, family.ava)]


def test_a_closure_covers_only_its_locations_and_programmes_in_the_feed(family):
    makeup_uid = lesson_uid(family.session, family.ava)
    close(family.company, "Lake pool repairs", date(2026, 11, 25), locations=["Lake pool"])
    with scope(company=family.company):
        other = f.ProgrammeFactory(company=family.company)
    close(family.company, "Other programme", date(2026, 11, 24), programmes=[other])
    events = fetch(family.feed)
    makeup = events[makeup_uid]
    assert "STATUS:CANCELLED" in makeup
    assert "SUMMARY:Cancelled (Lake pool repairs): Ava: make-up — Host Sharks" in makeup
    assert "closed for Lake pool repairs" in makeup
    # The Main pool lesson of the 24th is of another programme's closure: held.
    lesson = events[lesson_uid(family.lesson, family.ava)]
    assert "STATUS:CONFIRMED" in lesson and "Cancelled" not in lesson


def test_a_part_day_closure_cancels_only_the_lessons_it_overlaps(family):
    close(
        family.company,
        "Swim gala",
        date(2026, 11, 24),
        start_time=time(17, 15),
        end_time=time(19),
    )
    close(family.company, "Morning works", date(2026, 12, 1), start_time=time(8), end_time=time(17))
    events = fetch(family.feed)
    # 17:00-17:30 overlaps 17:15-19:00; 1 Dec 17:00 starts as the morning works end.
    assert "SUMMARY:Cancelled (Swim gala)" in events[lesson_uid(family.lesson, family.ava)]
    assert "STATUS:CONFIRMED" in events[lesson_uid(family.next_lesson, family.ava)]


def test_an_applied_closure_keeps_its_name_and_its_cancelled_make_up_stays_cancelled(family):
    makeup_uid = lesson_uid(family.session, family.ava)
    closure = close(family.company, "Pool maintenance", date(2026, 11, 25))
    with scope(company=family.company):
        session_cancel(session=family.session, reason="Closed all day", now=NOW, closure=closure)
    family.booking.refresh_from_db()
    assert family.booking.state == MakeupBooking.State.CANCELLED
    makeup = fetch(family.feed)[makeup_uid]
    assert "STATUS:CANCELLED" in makeup
    assert "SUMMARY:Cancelled (Pool maintenance): Ava: make-up — Host Sharks" in makeup
    assert "closed for Pool maintenance.\\nClosed all day" in makeup


def test_a_make_up_the_family_cancelled_leaves_the_feed_one_the_school_cancelled_stays(family):
    makeup_uid = lesson_uid(family.session, family.ava)
    with scope(company=family.company):
        makeup_cancel(booking=family.booking, actor=f.parent_of(family.credit), now=NOW)
    assert makeup_uid not in fetch(family.feed)
    # The school cancels the session afterwards: the family's own cancellation still leaves
    # no event behind.
    with scope(company=family.company):
        session_cancel(session=family.session, reason="Storm", now=NOW + timedelta(hours=1))
    assert makeup_uid not in fetch(family.feed)


def test_a_removed_closure_gives_the_lesson_back_under_the_same_uid(family):
    uid = lesson_uid(family.next_lesson, family.ava)
    closure = close(family.company, "Pool maintenance", date(2026, 12, 1))
    assert "STATUS:CANCELLED" in fetch(family.feed)[uid]
    with scope(company=family.company):
        closure_mark_removed(closure=closure, now=NOW)
    event = fetch(family.feed)[uid]
    assert "STATUS:CONFIRMED" in event and "SUMMARY:Ava: Home Dolphins" in event


def test_a_home_closure_leaves_a_make_up_at_a_partner_branch_as_it_is(pf):
    """The closures are the family's school's own: a make-up at a partner branch on a day the
    home school is closed still takes place."""
    beta = f.CompanyFactory(name="Beta Lakes", slug="beta-lakes")
    programme = f.ProgrammeFactory(
        company=beta, code=pf.programme.code, accept_partner_makeups=True
    )
    klass = f.ClassFactory(programme=programme, name="Lake Sharks", location="Lake pool")
    session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 26), local_time=time(16))
    CompanyLink.objects.create(
        inviter=pf.company,
        invitee=beta,
        invitee_email="owner@beta.example",
        state=CompanyLink.State.APPROVED,
        created_at=NOW,
    )
    with scope(company=pf.company):
        makeup_book(credit=add_credit(pf.ava), actor=f.parent_of(pf.ava), session=session, now=NOW)
        feed = feed_for_family(family=pf.family)
    close(pf.company, "Staff training", date(2026, 11, 26))
    event = fetch(feed)[lesson_uid(session, pf.ava)]
    assert "STATUS:CONFIRMED" in event and "Lake Sharks" in event


def test_the_instructor_feed_cancels_sessions_on_closed_days(pf, world):
    pf.home.instructor = world.staff_a
    pf.home.save()
    with scope(company=pf.company):
        feed = feed_for_instructor(company=pf.company, user=world.staff_a)
    uid = f"session-{pf.next_lesson.pk}"
    assert "STATUS:CONFIRMED" in fetch(feed)[uid]
    closure = close(pf.company, "Pool maintenance", date(2026, 12, 1))
    event = fetch(feed)[uid]
    assert "STATUS:CANCELLED" in event
    assert "SUMMARY:Cancelled (Pool maintenance): Home Dolphins" in event
    assert "Cancelled: closed for Pool maintenance." in event
    with scope(company=pf.company):
        session_cancel(session=pf.next_lesson, reason="Pool maintenance", now=NOW, closure=closure)
    event = fetch(feed)[uid]
    assert "SUMMARY:Cancelled (Pool maintenance): Home Dolphins" in event
    assert "Pool maintenance.\\nPool maintenance" not in event  # the reason is not repeated
    assert "STATUS:CONFIRMED" in fetch(feed)[f"session-{pf.lesson.pk}"]


def _cost(feed) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fetch(feed)
    return len(ctx.captured_queries)


def test_closures_are_read_once_per_feed(family, world):
    """The feeds cost the same with one closure as with many, over many more lessons."""
    family.home.instructor = world.staff_a
    family.home.save()
    with scope(company=family.company):
        staff_feed = feed_for_instructor(company=family.company, user=world.staff_a)
    close(family.company, "Pool maintenance", date(2026, 12, 1))
    few = (_cost(family.feed), _cost(staff_feed))
    for week in range(2, 12):
        f.SessionFactory(klass=family.home, local_date=date(2026, 11, 24) + timedelta(weeks=week))
    with scope(company=family.company):
        other = f.ProgrammeFactory(company=family.company)
    close(family.company, "Gala", date(2026, 12, 15), start_time=time(16), end_time=time(18))
    close(family.company, "Lake pool", date(2026, 11, 25), locations=["Lake pool"])
    close(family.company, "Other", date(2026, 12, 22), programmes=[other])
    close(family.company, "Christmas", date(2026, 12, 24))
    many = (_cost(family.feed), _cost(staff_feed))
    assert few == many, (few, many)
    body = fetch(family.feed)
    assert sum("STATUS:CANCELLED" in e for e in body.values()) == 3  # 1 Dec, 15 Dec, make-up
