"""MKP-1…MKP-11 and CRD-3 through the booking service the portal and staff pages use,
with their boundaries; BEY-2 watches."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceChange, MakeupBooking
from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state, enrolment_withdraw
from credits.models import CreditState, MakeupCredit, SessionWatch
from credits.services import credit_add_manual
from makeup.errors import DomainError
from makeups.selectors.eligibility import evaluate, makeup_candidates, with_occupancy
from makeups.services import makeup_book, makeup_cancel, watch_create
from programmes.models import Session
from tests import factories as f

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


class World:
    pass


@pytest.fixture
def mk(world, db):
    """A home class where Ava (born 1 Jun 2020) is enrolled, a host class of the same
    programme (ages 5-8, capacity 2) with a session on Tue 24 Nov 17:00, and Ava's credit."""
    w = World()
    w.company = world.company_a
    w.staff = world.staff_a
    w.programme = f.ProgrammeFactory(company=w.company)
    w.home = f.ClassFactory(programme=w.programme, name="Home")
    w.host = f.ClassFactory(
        programme=w.programme,
        name="Host",
        capacity=2,
        min_age_months=60,
        max_age_months=8 * 12 + 11,
    )
    w.ava = f.EnrolmentFactory(
        klass=w.home, student__first_name="Ava", student__date_of_birth=date(2020, 6, 1)
    )
    w.session = f.SessionFactory(klass=w.host)
    with scope(company=w.company):
        w.credit = credit_add_manual(
            enrolment=w.ava, reason="test", actor=None, valid_days=30, now=NOW - timedelta(days=1)
        )
        yield w


def _credit(enrolment, days=30):
    return credit_add_manual(
        enrolment=enrolment, reason="test", actor=None, valid_days=days, now=NOW - timedelta(days=1)
    )


def _checks(w, credit=None, session=None, now=NOW):
    """Every check for one session, offered in the search or not."""
    credit = credit or w.credit
    credit.refresh_from_db()
    target = with_occupancy(Session.objects.filter(pk=(session or w.session).pk)).get()
    return evaluate(student=credit.enrolment.student, credit=credit, sessions=[target], now=now)[0]


def _failed_rules(candidate):
    return [c.rule for c in candidate.failed]


def test_mkp_1_only_the_same_programme_is_offered(mk):
    other = f.ClassFactory(programme__company=mk.company)
    elsewhere = f.SessionFactory(klass=other)
    sessions = {c.session.klass_id for c in makeup_candidates(credit=mk.credit, now=NOW)}
    assert other.pk not in sessions and mk.host.pk in sessions
    with pytest.raises(DomainError, match="Another programme"):
        makeup_book(credit=mk.credit, actor=f.parent_of(mk.credit), session=elsewhere, now=NOW)


def test_mkp_2_age_on_the_session_date(mk):
    # Ava turns 6 y 6 m on 1 Dec; a class for 6 y 6 m and over takes her from that day.
    mk.host.min_age_months = 78
    mk.host.save()
    before = f.SessionFactory(klass=mk.host, local_date=date(2026, 11, 30))
    on_birthday = f.SessionFactory(klass=mk.host, local_date=date(2026, 12, 1))
    assert _failed_rules(_checks(mk, session=before)) == ["MKP-2"]
    assert _checks(mk, session=on_birthday).bookable
    assert "Ava will be 6 y 5 m on 30 Nov" in _checks(mk, session=before).failed[0].text


def test_mkp_3_class_switch_and_programme_switch(mk):
    mk.host.allow_makeups = False
    mk.host.save()
    assert _failed_rules(_checks(mk)) == ["MKP-3"]
    mk.host.allow_makeups = True
    mk.host.save()
    mk.programme.makeups_enabled = False
    mk.programme.save()
    assert _failed_rules(_checks(mk)) == ["MKP-3"]


def test_mkp_4_a_class_sold_only_per_course_takes_no_make_ups(mk):
    mk.host.price_per_session, mk.host.course_price = None, Decimal("200")
    mk.host.save()
    assert _failed_rules(_checks(mk)) == ["MKP-4"]


def test_mkp_5_lead_time_to_the_minute_and_staff_override(mk):
    """A class starting Sat 28 Nov is offered from Tue 24 Nov 00:00 Sydney (4 days)."""
    future = f.ClassFactory(
        programme=mk.programme,
        start_date=date(2026, 11, 28),
        end_date=date(2027, 2, 1),
        min_age_months=None,
        max_age_months=None,
    )
    session = f.SessionFactory(klass=future, local_date=date(2026, 11, 28), local_time=time(9))
    opens = datetime(2026, 11, 24, 0, 0, tzinfo=mk.company.tzinfo)
    assert _failed_rules(_checks(mk, session=session, now=opens - timedelta(minutes=1))) == [
        "MKP-5"
    ]
    assert _checks(mk, session=session, now=opens).bookable
    with pytest.raises(DomainError, match="Offered for make-ups from Tue 24 Nov 2026, 00:00"):
        makeup_book(
            credit=mk.credit,
            actor=f.parent_of(mk.credit),
            session=session,
            now=opens - timedelta(minutes=1),
        )
    booking = makeup_book(
        credit=mk.credit,
        session=session,
        actor=mk.staff,
        source="staff",
        override_reason="Family moving away; agreed with the owner",
        now=opens - timedelta(minutes=1),
    )
    assert booking.override_reason.startswith("Family moving away")
    assert "overrode: Offered for make-ups from" in booking.override_reason


def test_mkp_6_future_not_cancelled_before_expiry_and_not_already_in(mk):
    assert _failed_rules(_checks(mk, now=mk.session.starts_at)) == ["MKP-6"]
    # Expiry exactly at the start is fine; a second earlier is not.
    short = MakeupCredit.objects.filter(pk=mk.credit.pk)
    short.update(expires_at=mk.session.starts_at)
    mk.credit.refresh_from_db()
    assert _checks(mk).bookable
    short.update(expires_at=mk.session.starts_at - timedelta(seconds=1))
    mk.credit.refresh_from_db()
    assert not [
        c for c in makeup_candidates(credit=mk.credit, now=NOW) if c.session.pk == mk.session.pk
    ]  # not even offered
    with pytest.raises(DomainError, match="starts after the credit expires"):
        makeup_book(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)
    short.update(expires_at=NOW + timedelta(days=30))
    mk.credit.refresh_from_db()
    own = f.SessionFactory(klass=mk.home)  # Ava's own class that day
    assert _failed_rules(_checks(mk, session=own)) == ["MKP-6"]
    mk.session.cancelled_at = NOW
    mk.session.save()
    with pytest.raises(DomainError, match="cancelled"):
        makeup_book(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)


def test_mkp_7_capacity_counts_regulars_cancellations_and_make_ups(mk):
    r1, r2 = f.EnrolmentFactory.create_batch(2, klass=mk.host)  # capacity 2: full
    assert _failed_rules(_checks(mk)) == ["MKP-7"]
    assert _checks(mk).failed[0].text == "2 of 2 places taken (2 + 0 for make-ups)."
    # A regular who cancelled frees their place for a make-up.
    attendance_set_state(
        enrolment=r1, session=mk.session, state=S.CANCELLED, cancelled_at=NOW, now=NOW
    )
    assert _checks(mk).bookable
    makeup_book(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)
    other = f.EnrolmentFactory(klass=mk.home, student__date_of_birth=date(2020, 1, 1))
    with pytest.raises(DomainError, match="2 of 2 places taken"):
        makeup_book(credit=_credit(other), actor=f.parent_of(other), session=mk.session, now=NOW)


@pytest.mark.parametrize(
    ("company_extra", "class_extra", "mode", "limit"),
    [
        (1, 0, "add", 3),
        (1, 2, "add", 5),
        (1, 0, "replace", 2),
        (1, 2, "replace", 4),
    ],
)
def test_mkp_7_extra_capacity_add_and_replace_with_zero(
    mk, company_extra, class_extra, mode, limit
):
    mk.company.settings.makeup_extra_capacity = company_extra
    mk.company.settings.save()
    mk.host.extra_makeup_capacity, mk.host.extra_capacity_mode = class_extra, mode
    mk.host.save()
    f.EnrolmentFactory.create_batch(2, klass=mk.host)
    candidate = _checks(mk)
    assert candidate.checks[-1].text.startswith(f"2 of {limit} places taken")
    assert candidate.bookable is (limit > 2)


def test_mkp_8_the_last_place_goes_to_one_booking_and_the_other_gets_a_clear_refusal(mk):
    f.EnrolmentFactory(klass=mk.host)  # one place left
    other = f.EnrolmentFactory(klass=mk.home, student__date_of_birth=date(2020, 1, 1))
    makeup_book(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)
    second = _credit(other)
    with pytest.raises(DomainError) as refused:
        makeup_book(credit=second, actor=f.parent_of(second), session=mk.session, now=NOW)
    assert refused.value.code == "full"
    second.refresh_from_db()
    assert second.state == CreditState.AVAILABLE  # the refused attempt spent nothing


def test_mkp_10_a_booking_carries_its_note(mk):
    booking = makeup_book(
        credit=mk.credit,
        actor=f.parent_of(mk.credit),
        session=mk.session,
        note="Make-up for missed lesson 30/10",
        now=NOW,
    )
    assert booking.note == "Make-up for missed lesson 30/10"
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.USED and mk.credit.booking == booking


def test_mkp_11_capacity_holds_for_staff_too(mk):
    f.EnrolmentFactory.create_batch(2, klass=mk.host)
    with pytest.raises(DomainError, match="places taken"):
        makeup_book(
            credit=mk.credit,
            session=mk.session,
            actor=mk.staff,
            source="staff",
            override_reason="Please squeeze her in",
            now=NOW,
        )


def test_crd_3_cancelling_a_make_up_on_time_returns_the_credit_late_keeps_it_used(mk):
    booking = makeup_book(
        credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
    )
    assert makeup_cancel(booking=booking, now=NOW).credit_returned is True
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.AVAILABLE and mk.credit.booking is None
    booking = makeup_book(
        credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
    )
    late = mk.session.starts_at - timedelta(hours=2)
    assert makeup_cancel(booking=booking, now=late).credit_returned is False
    mk.credit.refresh_from_db()
    booking.refresh_from_db()
    assert mk.credit.state == CreditState.USED and booking.cancelled_late


def test_bey_2_a_freed_place_goes_to_the_first_watcher_in_line(mk):
    r1, r2 = f.EnrolmentFactory.create_batch(2, klass=mk.host)  # full
    second_kid = f.EnrolmentFactory(klass=mk.home, student__date_of_birth=date(2020, 3, 1))
    first = watch_create(
        credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
    )
    later = watch_create(
        credit=_credit(second_kid),
        actor=f.parent_of(second_kid),
        session=mk.session,
        now=NOW + timedelta(minutes=5),
    )
    attendance_set_state(
        enrolment=r1,
        session=mk.session,
        state=S.CANCELLED,
        cancelled_at=NOW + timedelta(hours=1),
        now=NOW + timedelta(hours=1),
    )
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.state == SessionWatch.State.BOOKED and later.state == SessionWatch.State.ACTIVE
    assert MakeupBooking.objects.get(session=mk.session).source == "watch"
    # A withdrawal frees the next place for the next watcher.
    enrolment_withdraw(
        enrolment=r2, withdrawn_from=mk.session.local_date, now=NOW + timedelta(hours=2)
    )
    later.refresh_from_db()
    assert later.state == SessionWatch.State.BOOKED


@pytest.mark.parametrize("machine_clock", [timedelta(days=365), timedelta(days=-365)])
def test_bey_2_the_freed_place_is_judged_at_the_changes_now_not_the_machines_clock(
    mk, machine_clock
):
    """The clock is an argument: a cancellation recorded with ``now`` before the session
    fills the watch at that ``now`` whatever the machine's clock says — a year later (when the
    session has long started) or a year earlier."""
    regular, _ = f.EnrolmentFactory.create_batch(2, klass=mk.host)  # full
    watch = watch_create(
        credit=mk.credit, session=mk.session, actor=f.parent_of(mk.credit), now=NOW
    )
    changed_at = NOW + timedelta(hours=1)
    with time_machine.travel(NOW + machine_clock, tick=False):
        attendance_set_state(
            enrolment=regular,
            session=mk.session,
            state=S.CANCELLED,
            cancelled_at=changed_at,
            now=changed_at,
        )
    watch.refresh_from_db()
    mk.credit.refresh_from_db()
    assert watch.state == SessionWatch.State.BOOKED
    assert mk.credit.state == CreditState.USED
    booking = MakeupBooking.objects.get(session=mk.session)
    assert booking.source == "watch" and booking.booked_at == changed_at
    # The attendance history says when the change was made: the service's now (ATT-6).
    change = AttendanceChange.objects.filter(attendance__enrolment=regular).latest("pk")
    assert change.changed_at == changed_at


def test_bey_2_at_most_two_watches_per_student_and_only_on_full_sessions(mk):
    with pytest.raises(DomainError, match="free place"):
        watch_create(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)
    sessions = [
        f.SessionFactory(klass=mk.host, local_date=date(2026, 11, 24) + timedelta(weeks=i))
        for i in range(1, 4)
    ]
    f.EnrolmentFactory.create_batch(2, klass=mk.host)
    watch_create(credit=mk.credit, actor=f.parent_of(mk.credit), session=sessions[0], now=NOW)
    watch_create(credit=mk.credit, actor=f.parent_of(mk.credit), session=sessions[1], now=NOW)
    with pytest.raises(DomainError, match="already watches 2 sessions"):
        watch_create(credit=mk.credit, actor=f.parent_of(mk.credit), session=sessions[2], now=NOW)


def test_bey_2_a_watch_ends_when_its_credit_can_no_longer_be_used(mk):
    r1, _ = f.EnrolmentFactory.create_batch(2, klass=mk.host)
    watch = watch_create(
        credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
    )
    MakeupCredit.objects.filter(pk=mk.credit.pk).update(expires_at=NOW + timedelta(hours=1))
    attendance_set_state(
        enrolment=r1,
        session=mk.session,
        state=S.CANCELLED,
        cancelled_at=NOW + timedelta(hours=2),
        now=NOW + timedelta(hours=2),
    )
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.ENDED and "expired" in watch.end_reason


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_mkp_8_twenty_families_race_for_the_last_place_on_postgresql(world):
    programme = f.ProgrammeFactory(company=world.company_a)
    host = f.ClassFactory(programme=programme, capacity=3, min_age_months=None, max_age_months=None)
    f.EnrolmentFactory.create_batch(2, klass=host)  # one place left
    session = f.SessionFactory(klass=host)
    home = f.ClassFactory(programme=programme)
    with scope(company=world.company_a):
        credits = [_credit(f.EnrolmentFactory(klass=home)) for _ in range(20)]
    parents = {credit.pk: f.parent_of(credit) for credit in credits}
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def attempt(credit):
        try:
            with scope(company=world.company_a):
                barrier.wait()
                makeup_book(credit=credit, actor=parents[credit.pk], session=session, now=NOW)
                outcomes.append("booked")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in credits]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("booked") == 1
    assert outcomes.count("full") == 19
    with scope(company=world.company_a):
        assert MakeupBooking.objects.filter(session=session).count() == 1
        assert (
            MakeupCredit.objects.filter(pk__in=[c.pk for c in credits], state="used").count() == 1
        )


def test_pol_11_portal_late_cancellation_taken_or_refused_with_instructions(mk):
    from credits.models import CancellationPolicy
    from makeups.services import lesson_cancel_by_parent

    regular = f.EnrolmentFactory(klass=mk.host)
    late = mk.session.starts_at - timedelta(hours=2)
    attendance = lesson_cancel_by_parent(
        enrolment=regular, session=mk.session, actor=None, now=late
    )
    assert attendance.state == S.LATE_CANCELLED  # taken: the place is freed
    policy = CancellationPolicy.objects.get(programme=mk.programme)
    policy.portal_late_cancellation = "refuse"
    policy.late_cancellation_instructions = "Call us on 02 9999 0000."
    policy.save()
    other = f.EnrolmentFactory(klass=mk.host)
    with pytest.raises(DomainError, match="Call us on 02 9999 0000"):
        lesson_cancel_by_parent(enrolment=other, session=mk.session, actor=None, now=late)
    on_time = lesson_cancel_by_parent(
        enrolment=other,
        session=mk.session,
        actor=None,
        now=mk.session.starts_at - timedelta(days=2),
    )
    assert on_time.state == S.CANCELLED


def test_mkp_10_makeup_attendance_is_taken_and_keeps_the_credit_used(mk):
    from bookings.services import makeup_set_attendance

    booking = makeup_book(
        credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
    )
    makeup_set_attendance(now=timezone.now(), booking=booking, state=S.NO_SHOW)
    booking.refresh_from_db()
    mk.credit.refresh_from_db()
    assert booking.attendance_state == S.NO_SHOW and mk.credit.state == CreditState.USED
    with pytest.raises(DomainError):
        makeup_set_attendance(now=timezone.now(), booking=booking, state=S.STAFF_CANCELLED)


def test_att_7_a_cancelled_session_gives_make_up_guests_their_credits_back(mk):
    from bookings.services import session_cancel

    f.EnrolmentFactory.create_batch(2, klass=mk.host)
    mk.session.refresh_from_db()
    extra_kid = f.EnrolmentFactory(klass=mk.home, student__date_of_birth=date(2020, 2, 1))
    mk.company.settings.makeup_extra_capacity = 1
    mk.company.settings.save()
    booking = makeup_book(
        credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
    )
    watch = watch_create(
        credit=_credit(extra_kid), actor=f.parent_of(extra_kid), session=mk.session, now=NOW
    )
    # Late by any policy (an hour before), but the school cancelled: the credit comes back.
    session_cancel(
        session=mk.session, reason="Pool closed", now=mk.session.starts_at - timedelta(hours=1)
    )
    booking.refresh_from_db()
    mk.credit.refresh_from_db()
    watch.refresh_from_db()
    assert booking.state == "cancelled" and not booking.cancelled_late
    assert mk.credit.state == CreditState.AVAILABLE and mk.credit.booking is None
    assert watch.state == SessionWatch.State.ENDED


def test_bey_2_the_watcher_is_booked_with_their_soonest_expiring_credit(mk):
    r1, _ = f.EnrolmentFactory.create_batch(2, klass=mk.host)
    soon = _credit(mk.ava, days=5)  # expires before mk.credit (30 days)
    watch_create(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)
    attendance_set_state(
        enrolment=r1,
        session=mk.session,
        state=S.CANCELLED,
        cancelled_at=NOW + timedelta(hours=1),
        now=NOW + timedelta(hours=1),
    )
    soon.refresh_from_db()
    mk.credit.refresh_from_db()
    assert soon.state == CreditState.USED and mk.credit.state == CreditState.AVAILABLE


def test_att_3_a_second_cant_come_does_not_turn_an_on_time_cancellation_late(mk):
    from makeups.services import lesson_cancel_by_parent

    regular = f.EnrolmentFactory(klass=mk.host)
    first = lesson_cancel_by_parent(
        enrolment=regular,
        session=mk.session,
        actor=None,
        now=mk.session.starts_at - timedelta(days=2),
    )
    with pytest.raises(DomainError, match="already marked"):
        lesson_cancel_by_parent(
            enrolment=regular,
            session=mk.session,
            actor=None,
            now=mk.session.starts_at - timedelta(hours=1),
        )
    first.refresh_from_db()
    assert first.state == S.CANCELLED


def test_bal_3_a_booking_and_its_cancellation_take_the_company_from_the_locked_session(mk):
    """The balance gate (BAL-3) of a booking and the watch list (BEY-2) of a cancellation
    read the company's settings from the session the capacity lock loaded, not with a read
    of their own (issue 20: fewer round trips on the busiest writes)."""
    parent = f.parent_of(mk.credit)
    with CaptureQueriesContext(connection) as ctx:
        booking = makeup_book(credit=mk.credit, actor=parent, session=mk.session, now=NOW)
        makeup_cancel(booking=booking, actor=parent, now=NOW)
    reads = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "makeup_company"')
    ]
    assert reads == []
