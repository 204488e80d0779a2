"""WAL-2 through the service: moving a booked make-up to another session in one step — the
credit stays used and its history says so, the cut-off of the current booking with its
boundary, every booking rule for the new session, the freed place to its watchers, staff
moving a guest, and two families moving in opposite directions at once on PostgreSQL."""

import contextlib
import threading
from datetime import date, time, timedelta

import pytest
from django.core import mail
from django.db import connection
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState, MakeupBooking
from bookings.services import attendance_set_state
from credits.models import CancellationPolicy, CreditEvent, CreditState, MakeupCredit, SessionWatch
from credits.selectors.policies import is_on_time
from makeup.errors import DomainError
from makeup.models import OutboxMessage
from makeups.selectors.eligibility import session_places, with_occupancy
from makeups.selectors.moving import move_deadline
from makeups.services import makeup_book, makeup_cancel, makeup_move, moving, watch_create
from portal.selectors.audit import audit_lines
from programmes.models import Session
from tests import factories as f

from .conftest import NOW, ava_and_host, credit_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def mv(world):
    """Ava's make-up booked on Tue 24 Nov 17:00 (``s1``) in Host (2 places, any age); ``s2``
    is Host's Thu 26 Nov 17:00 session. The programme's policy: 24 hours before."""
    w = ava_and_host(world, home="Home", host="Host")
    w.s1 = w.session
    w.s2 = f.SessionFactory(klass=w.host, local_date=date(2026, 11, 26))
    w.staff = world.staff_a
    with scope(company=w.company):
        w.credit = credit_for(w.ava)
        w.booking = makeup_book(credit=w.credit, session=w.s1, actor=w.parent, now=NOW)
        yield w


def _move(w, session, *, now=NOW, actor=None, booking=None, **kwargs):
    """Move Ava's make-up as the page would: the booking as it is now, unless given."""
    return makeup_move(
        booking=booking or MakeupBooking.objects.get(pk=w.booking.pk),
        session=session,
        actor=actor or w.parent,
        now=now,
        **kwargs,
    )


def _taken(session) -> int:
    return session_places(with_occupancy(Session.objects.filter(pk=session.pk)).get())[0]


def _events(credit) -> list[str]:
    return list(
        CreditEvent.objects.filter(credit=credit)
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def test_wal_2_a_move_keeps_the_credit_used_and_takes_the_place_along(mv):
    moved = _move(mv, mv.s2)
    assert moved.pk == mv.booking.pk and moved.session_id == mv.s2.pk
    assert moved.state == MakeupBooking.State.BOOKED
    credit = MakeupCredit.objects.get(pk=mv.credit.pk)
    assert credit.state == CreditState.USED and credit.booking_id == mv.booking.pk
    assert (_taken(mv.s1), _taken(mv.s2)) == (0, 1)
    assert moved.filled == []


def test_wal_2_the_credit_history_gets_a_moved_event_and_the_audit_log_shows_who(mv):
    mv.parent.full_name = "Pat Parker"
    mv.parent.save()
    _move(mv, mv.s2, now=NOW + timedelta(hours=1))
    assert _events(mv.credit) == ["issued", "used", "moved"]
    event = CreditEvent.objects.get(credit=mv.credit, kind=CreditEvent.Kind.MOVED)
    assert (event.from_state, event.to_state) == (CreditState.USED, CreditState.USED)
    assert event.actor == mv.parent and event.at == NOW + timedelta(hours=1)
    assert event.note == "Moved: Host, 24 Nov 2026, 17:00 → Host, 26 Nov 2026, 17:00"
    [line] = [line for line in audit_lines(mv.company, "credit") if "moved" in line.what]
    assert line.who == "Pat Parker" and line.at == NOW + timedelta(hours=1)
    assert "Make-up moved to another session" in line.what


def test_wal_2_the_family_is_e_mailed_once_with_the_new_time(
    mv, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _move(mv, mv.s2)
    [message] = mail.outbox
    assert message.subject == "Make-up moved: Ava, Host"
    assert "Thursday 26 November 2026, 17:00" in message.body
    assert "Instead of: Host, Tuesday 24 November 2026, 17:00" in message.body
    [(name, ics, _type)] = message.attachments
    assert name == "make-up.ics"
    assert f"UID:makeup-{mv.booking.pk}@" in ics and "SEQUENCE:1" in ics
    with scopes_disabled():
        keys = list(
            OutboxMessage.objects.filter(task="makeups.tasks.send_makeup_moved").values_list(
                "key", flat=True
            )
        )
    assert len(keys) == 1 and keys[0].startswith(f"makeup-moved:{mv.booking.pk}:")


@pytest.mark.parametrize("offset", [0, -1], ids=["exactly-at", "one-second-before"])
def test_wal_2_move_exactly_at_the_cut_off_and_one_second_before(mv, offset):
    """24 hours before Tue 17:00 is Mon 23 Nov 17:00 Sydney: a move then still counts, as a
    cancellation then still gets the credit back (the same rule, is_on_time)."""
    deadline = move_deadline(Session.objects.select_related("klass__programme").get(pk=mv.s1.pk))
    assert deadline.cutoff == mv.s1.starts_at - timedelta(hours=24)
    instant = deadline.cutoff + timedelta(seconds=offset)
    policy = CancellationPolicy.objects.get(programme=mv.programme)
    assert is_on_time(policy=policy, session=mv.s1, cancelled_at=instant)
    moved = _move(mv, mv.s2, now=instant)
    assert moved.session_id == mv.s2.pk
    assert _events(mv.credit) == ["issued", "used", "moved"]


def test_wal_2_after_the_cut_off_a_move_is_refused_with_the_companys_instructions(mv):
    late = mv.s1.starts_at - timedelta(hours=24) + timedelta(seconds=1)
    policy = CancellationPolicy.objects.get(programme=mv.programme)
    assert not is_on_time(policy=policy, session=mv.s1, cancelled_at=late)
    with pytest.raises(DomainError, match="too late to move this make-up online") as refused:
        _move(mv, mv.s2, now=late)
    assert refused.value.code == "late_refused"
    assert "23 Nov 2026, 17:00" in refused.value.message
    policy.portal_late_cancellation = "refuse"
    policy.late_cancellation_instructions = "Call us on 02 9999 0000."
    policy.save()
    with pytest.raises(DomainError) as refused:
        _move(mv, mv.s2, now=late)
    assert refused.value.message == "Call us on 02 9999 0000."
    booking = MakeupBooking.objects.get(pk=mv.booking.pk)
    assert booking.session_id == mv.s1.pk
    assert _events(mv.credit) == ["issued", "used"]


def test_wal_2_the_freed_place_goes_to_the_first_watcher(mv):
    """s1 is full (one regular and Ava); Ben watches it. Ava moves: Ben is booked into s1."""
    f.EnrolmentFactory(klass=mv.host)
    ben = f.EnrolmentFactory(klass=mv.home, student__first_name="Ben")
    ben_credit = credit_for(ben)
    watch = watch_create(credit=ben_credit, session=mv.s1, actor=f.parent_of(ben), now=NOW)
    moved = _move(mv, mv.s2)
    [filled] = moved.filled
    assert filled.session_id == mv.s1.pk and filled.student_id == ben.student_id
    assert filled.source == MakeupBooking.Source.WATCH
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.BOOKED
    assert (_taken(mv.s1), _taken(mv.s2)) == (2, 2)  # the regular is in both


def test_wal_2_moving_into_a_full_session_is_refused_and_nothing_changes(mv):
    f.EnrolmentFactory.create_batch(2, klass=mv.host)  # s1 and s2 both hold 2 regulars now
    with pytest.raises(DomainError, match="2 of 2 places taken") as refused:
        _move(mv, mv.s2)
    assert refused.value.code == "full"
    assert MakeupBooking.objects.get(pk=mv.booking.pk).session_id == mv.s1.pk
    assert MakeupCredit.objects.get(pk=mv.credit.pk).state == CreditState.USED
    assert _events(mv.credit) == ["issued", "used"]


def test_wal_2_a_credit_not_eligible_for_the_new_session_is_refused(mv):
    other_programme = f.SessionFactory(
        klass=f.ClassFactory(programme__company=mv.company, min_age_months=None),
        local_date=date(2026, 11, 26),
    )
    with pytest.raises(DomainError, match="Another programme") as refused:
        _move(mv, other_programme)
    assert refused.value.code == "not_eligible"
    # After the credit's expiry (valid 30 days from 20 Nov): refused too (CRD-4).
    after_expiry = f.SessionFactory(klass=mv.host, local_date=date(2026, 12, 22))
    with pytest.raises(DomainError, match="after the credit expires"):
        _move(mv, after_expiry)
    toddlers = f.SessionFactory(
        klass=f.ClassFactory(programme=mv.programme, min_age_months=12, max_age_months=36),
        local_date=date(2026, 11, 26),
    )
    with pytest.raises(DomainError, match="the class is for"):
        _move(mv, toddlers)
    assert MakeupBooking.objects.get(pk=mv.booking.pk).session_id == mv.s1.pk


def test_wal_2_same_cancelled_started_or_closed_sessions_are_refused_plainly(mv):
    with pytest.raises(DomainError, match="already booked for this session") as refused:
        _move(mv, mv.s1)
    assert refused.value.code == "same_session"
    cancelled = f.SessionFactory(
        klass=mv.host, local_date=date(2026, 11, 27), cancelled_at=NOW - timedelta(hours=1)
    )
    with pytest.raises(DomainError, match="That session is cancelled"):
        _move(mv, cancelled)
    started = f.SessionFactory(
        klass=mv.host, local_date=date(2026, 11, 21), local_time=time(10, 30)
    )  # 10:30 Sydney, half an hour before now
    with pytest.raises(DomainError, match="already started"):
        _move(mv, started)
    archived_class = f.ClassFactory(programme=mv.programme, min_age_months=None)
    closed = f.SessionFactory(klass=archived_class, local_date=date(2026, 11, 27))
    archived_class.archived_at = NOW
    archived_class.save()
    with pytest.raises(DomainError, match="That class is closed"):
        _move(mv, closed)
    assert MakeupBooking.objects.get(pk=mv.booking.pk).session_id == mv.s1.pk


def test_wal_2_a_cancelled_make_up_or_a_stale_one_is_not_moved(mv):
    s3 = f.SessionFactory(klass=mv.host, local_date=date(2026, 11, 27))
    stale = MakeupBooking.objects.get(pk=mv.booking.pk)
    _move(mv, mv.s2)
    with pytest.raises(DomainError, match="just been changed") as refused:
        _move(mv, s3, booking=stale)  # a second tap from the old page
    assert refused.value.code == "changed"
    makeup_cancel(booking=MakeupBooking.objects.get(pk=mv.booking.pk), actor=mv.parent, now=NOW)
    with pytest.raises(DomainError, match="cancelled|no credit"):
        _move(mv, s3, booking=MakeupBooking.objects.get(pk=mv.booking.pk))


def test_wal_2_only_the_familys_parent_moves_in_the_portal(mv, world):
    stranger = f.GuardianFactory(family__company=mv.company).user
    for who in (stranger, world.staff_a, None):
        with pytest.raises(DomainError):
            makeup_move(booking=mv.booking, session=mv.s2, actor=who, now=NOW)
    assert MakeupBooking.objects.get(pk=mv.booking.pk).session_id == mv.s1.pk


def test_wal_2_staff_move_a_guest_past_the_cut_off_only_with_a_reason(mv, world):
    late = mv.s1.starts_at - timedelta(hours=2)
    with pytest.raises(DomainError, match="Give a reason to move it anyway"):
        _move(mv, mv.s2, now=late, actor=mv.staff, by_staff=True)
    moved = _move(
        mv,
        mv.s2,
        now=late,
        actor=mv.staff,
        by_staff=True,
        override_reason="Mum phoned: flu",
        family_message="See you Thursday",
    )
    assert moved.session_id == mv.s2.pk and moved.family_message == "See you Thursday"
    assert moved.override_reason.startswith("Mum phoned: flu (overrode: Past the family's")
    event = CreditEvent.objects.get(credit=mv.credit, kind=CreditEvent.Kind.MOVED)
    assert event.actor == mv.staff and event.note.endswith("(Mum phoned: flu)")
    # Staff of another company can't move this family's make-up, nor can staff into a full
    # session (capacity holds for everyone).
    with pytest.raises(DomainError, match="Only staff of the family's school"):
        _move(mv, mv.s1, actor=world.staff_b, by_staff=True)
    f.EnrolmentFactory.create_batch(2, klass=mv.host)
    with pytest.raises(DomainError) as refused:
        _move(mv, mv.s1, actor=mv.staff, by_staff=True, override_reason="please")
    assert refused.value.code == "full"


def test_wal_2_staff_move_past_the_lead_time_with_a_reason(mv):
    """MKP-5 for the new session: a class starting Sat 5 Dec is offered from Tue 1 Dec."""
    later = f.ClassFactory(
        programme=mv.programme,
        start_date=date(2026, 12, 5),
        end_date=date(2027, 2, 1),
        min_age_months=None,
        max_age_months=None,
    )
    first = f.SessionFactory(klass=later, local_date=date(2026, 12, 5), local_time=time(9))
    with pytest.raises(DomainError, match="Offered for make-ups from"):
        _move(mv, first)
    moved = _move(mv, first, actor=mv.staff, by_staff=True, override_reason="Trial")
    assert moved.session_id == first.pk and "(overrode: Offered for make-ups" in (
        moved.override_reason
    )


def test_wal_2_a_childs_watch_of_the_new_session_ends_with_the_move(mv):
    """Ava watches a full s3 with her second credit; the class then gets a place more (no
    watcher was booked: nothing freed). Ava's make-up moves into s3: her watch has what it
    waited for and ends; the second credit stays available."""
    s3 = f.SessionFactory(klass=mv.host, local_date=date(2026, 11, 27))
    f.EnrolmentFactory.create_batch(2, klass=mv.host, start_date=date(2026, 11, 27))
    second = credit_for(mv.ava)
    watch = watch_create(credit=second, session=s3, actor=mv.parent, now=NOW)
    mv.host.capacity = 3
    mv.host.save()
    _move(mv, s3)
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.ENDED
    assert watch.end_reason == "A make-up was moved into this session."
    assert MakeupCredit.objects.get(pk=second.pk).state == CreditState.AVAILABLE


def test_wal_2_the_service_locks_the_two_sessions_in_id_order(mv, monkeypatch):
    seen = []
    real = moving.lock_session

    def spy(pk, *, now):
        seen.append(pk)
        return real(pk, now=now)

    monkeypatch.setattr(moving, "lock_session", spy)
    high = f.SessionFactory(klass=mv.host, local_date=date(2026, 11, 27))
    _move(mv, high)  # s1 -> high: s1 has the lower id
    _move(mv, mv.s1)  # high -> s1: s1 still first
    assert seen == [mv.s1.pk, high.pk, mv.s1.pk, high.pk]


# --- MKP-8 under WAL-2: two families moving in opposite directions on PostgreSQL ----------


def _opposite_moves(world, *, barrier_timeout: float):
    """Ava is booked on s1, Ben on s2, each session at its last place (capacity 2: one
    regular and the guest, plus one free place each). At once, Ava moves s1→s2 and Ben
    s2→s1. Each thread waits after its first session lock until the other has taken its own
    first lock (or ``barrier_timeout`` passes): with the locks in a fixed order the second
    thread can't take its first lock, the wait times out and both go on one after the
    other; in the order each booking came from, the two would hold one lock each and
    deadlock."""
    w = ava_and_host(world, home="Home", host="Host")
    w.host.capacity = 3
    w.host.save()
    s1 = w.session
    s2 = f.SessionFactory(klass=w.host, local_date=date(2026, 11, 26))
    f.EnrolmentFactory(klass=w.host)  # a regular in both sessions
    with scope(company=w.company):
        ben = f.EnrolmentFactory(klass=w.home, student__first_name="Ben")
        ava_booking = makeup_book(credit=credit_for(w.ava), session=s1, actor=w.parent, now=NOW)
        ben_parent = f.parent_of(ben)
        ben_booking = makeup_book(credit=credit_for(ben), session=s2, actor=ben_parent, now=NOW)
    # Each session: the regular, one guest and the last free place of 3.
    barrier = threading.Barrier(2, timeout=barrier_timeout)
    local = threading.local()
    real = moving.lock_session

    def lock_then_wait(pk, *, now):
        locked = real(pk, now=now)
        if not getattr(local, "waited", False):
            local.waited = True
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return locked

    outcomes: list[str] = []

    def attempt(booking, session, parent):
        try:
            with scope(company=w.company):
                makeup_move(booking=booking, session=session, actor=parent, now=NOW)
                outcomes.append("moved")
        except DomainError as error:
            outcomes.append(error.code)
        except Exception as error:  # a deadlock the database broke up, for the report
            outcomes.append(type(error).__name__ + ": " + str(error).splitlines()[0])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(ava_booking, s2, w.parent)),
        threading.Thread(target=attempt, args=(ben_booking, s1, ben_parent)),
    ]
    moving.lock_session = lock_then_wait
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        moving.lock_session = real
    return w, s1, s2, ava_booking, ben_booking, outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_wal_2_two_families_moving_in_opposite_directions_neither_deadlock_nor_overbook(world):
    w, s1, s2, ava, ben, outcomes = _opposite_moves(world, barrier_timeout=2)
    assert outcomes == ["moved", "moved"]
    with scope(company=w.company):
        assert MakeupBooking.objects.get(pk=ava.pk).session_id == s2.pk
        assert MakeupBooking.objects.get(pk=ben.pk).session_id == s1.pk
        for session in (s1, s2):
            taken, limit = session_places(
                with_occupancy(Session.objects.filter(pk=session.pk)).get()
            )
            assert taken <= limit
        assert MakeupCredit.objects.filter(booking__in=[ava.pk, ben.pk], state="used").count() == 2


def test_wal_2_bal_6_a_family_behind_on_payments_asks_the_school_to_move_it(mv):
    """The balance gate holds for a family moving on its own (as for booking); staff get
    past it (BAL-4)."""
    settings = mv.company.settings
    settings.balance_gate_enabled, settings.balance_gate_days = True, 30
    settings.save()
    past = f.SessionFactory(klass=mv.home, local_date=date(2026, 11, 18))
    attendance_set_state(enrolment=mv.ava, session=past, state=AttendanceState.PRESENT, now=NOW)
    with pytest.raises(DomainError, match="before moving a make-up, or ask us to move it") as no:
        _move(mv, mv.s2)
    assert no.value.code == "balance_due"
    assert _move(mv, mv.s2, actor=mv.staff, by_staff=True).session_id == mv.s2.pk
