"""WAL-5: a freed place in a watched session is booked for the first watcher (the default,
BEY-2) or, when the company chooses, offered to them for some hours — 21:00 to 07:00 in the
company's zone not counted — then passed to the next watcher."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState as S
from bookings.models import MakeupBooking
from bookings.services import attendance_set_state
from credits.models import CreditState, MakeupCredit, SessionWatch
from makeup.errors import DomainError
from makeup.models import CompanySettings
from makeup.services import company_settings_update
from makeups.selectors.eligibility import makeup_candidates
from makeups.selectors.offers import offer_expiry, offer_link_read, offer_token
from makeups.services import makeup_book, watch_create, watch_offers_expire
from makeups.services.offers import watch_offer_accept
from makeups.tasks import expire_watch_offers
from portal.selectors.audit import audit_lines
from tests import factories as f
from tests.makeups.conftest import ava_and_host, credit_for

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney
SYDNEY = ZoneInfo("Australia/Sydney")
PRAGUE = ZoneInfo("Europe/Prague")


# --- the offer's expiry: a pure function ---------------------------------------------------


def test_wal_5_offer_expiry_skips_the_night():
    evening = datetime(2026, 11, 21, 20, 0, tzinfo=SYDNEY)
    assert offer_expiry(evening, 2, SYDNEY) == datetime(2026, 11, 22, 8, 0, tzinfo=SYDNEY)
    # Boundaries: the day's last counted hour ends at 21:00 sharp; 07:00 starts the next.
    assert offer_expiry(evening - timedelta(hours=1), 2, SYDNEY) == datetime(
        2026, 11, 21, 21, 0, tzinfo=SYDNEY
    )
    morning = datetime(2026, 11, 21, 7, 0, tzinfo=SYDNEY)
    assert offer_expiry(morning, 14, SYDNEY) == datetime(2026, 11, 21, 21, 0, tzinfo=SYDNEY)
    assert offer_expiry(morning, 15, SYDNEY) == datetime(2026, 11, 22, 8, 0, tzinfo=SYDNEY)
    # 72 hours: five full days of 14 counted hours and 2 more.
    assert offer_expiry(morning, 72, SYDNEY) == datetime(2026, 11, 26, 9, 0, tzinfo=SYDNEY)


def test_wal_5_offer_expiry_starting_in_the_quiet_hours_counts_from_seven():
    late = datetime(2026, 11, 21, 23, 30, tzinfo=SYDNEY)
    assert offer_expiry(late, 3, SYDNEY) == datetime(2026, 11, 22, 10, 0, tzinfo=SYDNEY)
    early = datetime(2026, 11, 22, 5, 0, tzinfo=SYDNEY)
    assert offer_expiry(early, 1, SYDNEY) == datetime(2026, 11, 22, 8, 0, tzinfo=SYDNEY)
    at_nine = datetime(2026, 11, 21, 21, 0, tzinfo=SYDNEY)
    assert offer_expiry(at_nine, 1, SYDNEY) == datetime(2026, 11, 22, 8, 0, tzinfo=SYDNEY)
    # The start may be given in any zone (here UTC): the company's zone decides.
    assert offer_expiry(late.astimezone(UTC), 3, SYDNEY) == datetime(
        2026, 11, 22, 10, 0, tzinfo=SYDNEY
    )


def test_wal_5_offer_expiry_across_a_daylight_saving_change():
    # Prague moves to summer time in the night of 28/29 Mar 2026: 20:00 CET + 2 counted
    # hours ends at 08:00 CEST, which is 06:00 UTC (not 07:00).
    spring = datetime(2026, 3, 28, 20, 0, tzinfo=PRAGUE)
    ends = offer_expiry(spring, 2, PRAGUE)
    assert ends == datetime(2026, 3, 29, 8, 0, tzinfo=PRAGUE)
    assert ends.astimezone(UTC) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # …and back to winter time in the night of 24/25 Oct 2026: 08:00 CET is 07:00 UTC.
    autumn = datetime(2026, 10, 24, 20, 0, tzinfo=PRAGUE)
    ends = offer_expiry(autumn, 2, PRAGUE)
    assert ends.astimezone(UTC) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert ends.astimezone(PRAGUE).hour == 8


# --- the setting ---------------------------------------------------------------------------


def test_wal_5_auto_book_is_the_default_and_offer_hours_are_1_to_72(world, db):
    company = world.company_a
    with scope(company=company):
        settings = CompanySettings.objects.get(company=company)
        assert settings.watch_mode == CompanySettings.WatchMode.BOOK
        assert settings.watch_offer_hours == 12
        for hours in (0, 73):
            with pytest.raises(ValidationError):
                company_settings_update(
                    company=company, now=NOW, watch_mode="offer", watch_offer_hours=hours
                )
        updated = company_settings_update(
            company=company, now=NOW, watch_mode="offer", watch_offer_hours=72
        )
        assert (updated.watch_mode, updated.watch_offer_hours) == ("offer", 72)


# --- offering through the services ---------------------------------------------------------


@pytest.fixture
def wo(world, db, django_capture_on_commit_callbacks):
    """Ava watches the full host session (Tue 24 Nov, 17:00 Sydney, 2 places, 2 regulars),
    then Noah of another family; the company offers places for 12 hours."""
    w = ava_and_host(world, home="Home Dolphins", host="Host Sharks")
    settings = w.company.settings
    settings.watch_mode, settings.watch_offer_hours = CompanySettings.WatchMode.OFFER, 12
    settings.save()
    w.r1, w.r2 = f.EnrolmentFactory.create_batch(2, klass=w.host)
    w.capture = django_capture_on_commit_callbacks
    with (
        translation.override("en"),  # the services' texts, whatever a test before left active
        time_machine.travel(NOW, tick=False),
        scope(company=w.company),
    ):
        w.credit = credit_for(w.ava)
        w.watch = watch_create(credit=w.credit, session=w.session, actor=w.parent, now=NOW)
        w.noah = f.EnrolmentFactory(klass=w.home, student__first_name="Noah")
        w.noah_watch = watch_create(
            credit=credit_for(w.noah),
            session=w.session,
            actor=f.parent_of(w.noah),
            now=NOW + timedelta(minutes=5),
        )
        yield w


def _free_a_place(w, enrolment, at):
    with w.capture(execute=True):
        attendance_set_state(
            enrolment=enrolment, session=w.session, state=S.CANCELLED, cancelled_at=at, now=at
        )


def _watch(pk):
    with scopes_disabled():
        return SessionWatch.objects.get(pk=pk)


def test_wal_5_auto_book_stays_the_default(wo):
    settings = wo.company.settings
    settings.watch_mode = CompanySettings.WatchMode.BOOK
    settings.save()
    _free_a_place(wo, wo.r1, NOW)
    assert _watch(wo.watch.pk).state == SessionWatch.State.BOOKED


def test_wal_5_an_offer_is_made_instead_of_a_booking(wo):
    mail.outbox.clear()
    _free_a_place(wo, wo.r1, NOW)
    watch = _watch(wo.watch.pk)
    assert watch.state == SessionWatch.State.OFFERED
    # 11:00 Sat + 12 counted hours: 10 until 21:00, 2 from 07:00 → Sun 22 Nov 09:00 Sydney.
    assert watch.offered_at == NOW
    assert watch.offer_expires_at == datetime(2026, 11, 22, 9, 0, tzinfo=SYDNEY)
    assert not MakeupBooking.objects.filter(student=wo.ava.student).exists()
    assert MakeupCredit.objects.get(pk=wo.credit.pk).state == CreditState.AVAILABLE
    assert _watch(wo.noah_watch.pk).state == SessionWatch.State.ACTIVE  # one offer at a time
    [message] = [m for m in mail.outbox if "accept it" in m.subject]
    assert "/portal/alpha/watches/offer/" in message.body
    assert "WAL-5" not in message.body
    # A second place frees: the open offer waits for its answer, no second offer.
    _free_a_place(wo, wo.r2, NOW + timedelta(hours=1))
    assert _watch(wo.noah_watch.pk).state == SessionWatch.State.ACTIVE


def test_wal_5_an_offer_made_in_the_evening_expires_next_morning(wo):
    settings = wo.company.settings
    settings.watch_offer_hours = 2
    settings.save()
    evening = datetime(2026, 11, 21, 20, 0, tzinfo=SYDNEY)
    with time_machine.travel(evening, tick=False):
        _free_a_place(wo, wo.r1, evening)
    watch = _watch(wo.watch.pk)
    assert watch.state == SessionWatch.State.OFFERED
    assert watch.offer_expires_at == datetime(2026, 11, 22, 8, 0, tzinfo=SYDNEY)


def test_wal_5_the_expiry_task_passes_the_offer_to_the_next_watcher(wo):
    _free_a_place(wo, wo.r1, NOW)
    expires = _watch(wo.watch.pk).offer_expires_at
    assert watch_offers_expire(now=expires - timedelta(seconds=1)) == 0
    assert _watch(wo.watch.pk).state == SessionWatch.State.OFFERED
    with wo.capture(execute=True):
        assert watch_offers_expire(now=expires) == 1
    ava, noah = _watch(wo.watch.pk), _watch(wo.noah_watch.pk)
    assert ava.state == SessionWatch.State.ENDED and "not accepted in time" in ava.end_reason
    assert noah.state == SessionWatch.State.OFFERED and noah.offered_at == expires
    # Idempotent: a second run at the same moment changes nothing.
    assert watch_offers_expire(now=expires) == 0
    assert _watch(wo.noah_watch.pk).offered_at == expires
    # Noah's offer lapses too: nobody is left, the offer just ends.
    later = _watch(wo.noah_watch.pk).offer_expires_at
    assert watch_offers_expire(now=later) == 1
    assert _watch(wo.noah_watch.pk).state == SessionWatch.State.ENDED
    assert not SessionWatch.objects.filter(state=SessionWatch.State.OFFERED).exists()


def test_wal_5_the_expiry_task_runs_from_celery(wo):
    _free_a_place(wo, wo.r1, NOW)
    expires = _watch(wo.watch.pk).offer_expires_at
    with time_machine.travel(expires, tick=False):
        assert expire_watch_offers.apply().get() == 1
    assert _watch(wo.noah_watch.pk).state == SessionWatch.State.OFFERED


def test_wal_5_accepting_books_through_the_service_exactly_once(wo):
    _free_a_place(wo, wo.r1, NOW)
    watch = _watch(wo.watch.pk)
    link = offer_link_read(offer_token(watch))
    later = NOW + timedelta(hours=1)
    with wo.capture(execute=True):
        answer = watch_offer_accept(watch=watch, link=link, actor=wo.parent, now=later)
    assert answer.booking is not None and not answer.problem
    assert answer.booking.session_id == wo.session.pk and answer.booking.booked_by == wo.parent
    assert _watch(watch.pk).state == SessionWatch.State.BOOKED
    assert MakeupCredit.objects.get(pk=wo.credit.pk).state == CreditState.USED
    again = watch_offer_accept(watch=watch, link=link, actor=wo.parent, now=later)
    assert again.booking.pk == answer.booking.pk
    assert MakeupBooking.objects.filter(student=wo.ava.student).count() == 1


def test_wal_5_an_offer_accepted_after_the_place_was_taken_is_refused_plainly(wo):
    _free_a_place(wo, wo.r1, NOW)
    watch = _watch(wo.watch.pk)
    link = offer_link_read(offer_token(watch))
    # Meanwhile the school corrects the cancellation: the regular takes the place back.
    with wo.capture(execute=True):
        attendance_set_state(enrolment=wo.r1, session=wo.session, state=S.EXPECTED, now=NOW)
    answer = watch_offer_accept(watch=watch, link=link, actor=wo.parent, now=NOW)
    assert answer.booking is None
    assert "the place was taken before you accepted" in answer.problem
    assert _watch(watch.pk).state == SessionWatch.State.ACTIVE  # back in line
    assert MakeupCredit.objects.get(pk=wo.credit.pk).state == CreditState.AVAILABLE
    assert not MakeupBooking.objects.filter(student=wo.ava.student).exists()


def _zoe(wo):
    """A child of another family, not watching, with a credit for the session."""
    zoe = f.EnrolmentFactory(klass=wo.home, student__first_name="Zoe")
    return zoe, credit_for(zoe)


def test_wal_5_the_offered_place_is_held_for_the_watcher(wo):
    _free_a_place(wo, wo.r1, NOW)
    zoe, zoe_credit = _zoe(wo)
    # Zoe's search shows the session full (she may watch it); Ava's shows her place.
    found = makeup_candidates(credit=zoe_credit, now=NOW)
    (theirs,) = [c for c in found if c.session == wo.session]
    assert theirs.only_full and theirs.places_left == 0
    assert "offered to a family on the watch list" in theirs.failed[0].text
    (ava,) = [c for c in makeup_candidates(credit=wo.credit, now=NOW) if c.session == wo.session]
    assert ava.bookable and ava.places_left == 1
    # Booking it is refused to anyone else, by the service itself (not only the page).
    with pytest.raises(DomainError, match="2 of 2 places taken"):
        makeup_book(credit=zoe_credit, session=wo.session, actor=f.parent_of(zoe), now=NOW)
    assert _watch(wo.watch.pk).state == SessionWatch.State.OFFERED
    # Ava may book it from the search too: the offer is hers.
    makeup_book(credit=wo.credit, session=wo.session, actor=wo.parent, now=NOW)


def test_wal_5_the_hold_ends_at_the_offer_s_last_instant(wo):
    _free_a_place(wo, wo.r1, NOW)
    expires = _watch(wo.watch.pk).offer_expires_at
    zoe, zoe_credit = _zoe(wo)
    just_before = expires - timedelta(microseconds=1)
    with pytest.raises(DomainError, match="places taken"):
        makeup_book(credit=zoe_credit, session=wo.session, actor=f.parent_of(zoe), now=just_before)
    # At the expiry instant the place is free again, even before the sweep passes it on.
    booking = makeup_book(
        credit=zoe_credit, session=wo.session, actor=f.parent_of(zoe), now=expires
    )
    assert booking.session_id == wo.session.pk
    # The sweep then ends Ava's offer; the session is full, so Noah is offered nothing.
    assert watch_offers_expire(now=expires) == 1
    assert _watch(wo.watch.pk).state == SessionWatch.State.ENDED
    assert _watch(wo.noah_watch.pk).state == SessionWatch.State.ACTIVE


def test_wal_5_the_audit_log_lists_offers_and_how_they_ended(wo):
    _free_a_place(wo, wo.r1, NOW)
    expires = _watch(wo.watch.pk).offer_expires_at
    assert watch_offers_expire(now=expires) == 1  # Ava's passes to Noah
    with timezone.override(SYDNEY):
        lines = [(line.area, line.what) for line in audit_lines(wo.company, "watch")]
    ava, noah = wo.ava.student, wo.noah.student
    assert lines == [
        (
            "watch",
            f"{noah}, Host Sharks Tue 24 Nov, 17:00: a freed place offered until Sun 22 Nov, 21:00",
        ),
        (
            "watch",
            f"{ava}, Host Sharks Tue 24 Nov, 17:00: watch ended — The offered place was not "
            "accepted in time, so it passed to the next in line.",
        ),
        (
            "watch",
            f"{ava}, Host Sharks Tue 24 Nov, 17:00: a freed place offered until Sun 22 Nov, 09:00",
        ),
    ]
