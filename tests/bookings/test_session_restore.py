"""CLO-6 through ATT-5: a cancelled session that has not started is restored. The students
its cancellation marked go back to expected through the staff correction, so the credit
decision revokes their unused school credits and flags the spent ones; nobody else's state
changes. Time is fixed: Fri 20 Nov 2026, 11:00 in Sydney; the lesson is Tue 24 Nov 17:00."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import transaction
from django_scopes import scope

from bookings import hooks
from bookings.models import Attendance, AttendanceChange, MakeupBooking
from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state, session_cancel, session_restore
from credits.models import CreditDecision, CreditState, DecisionReason, MakeupCredit
from credits.services import credit_add_manual
from makeup.datacache import data_versions
from makeup.errors import DomainError
from makeups.services import makeup_book
from programmes.models import ClosureCredits
from programmes.services import closure_create
from tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # Fri 20 Nov, 11:00 in Sydney
CANCELLED_AT = NOW
RESTORED_AT = NOW + timedelta(days=1)


class Lesson:
    pass


@pytest.fixture
def lesson(world):
    """Three students in a class with a lesson on Tue 24 Nov 17:00; a second class of the same
    programme (room for make-ups) with a lesson on Wed 25 Nov 16:00."""
    w = Lesson()
    w.world = world
    w.company = world.company_a
    w.klass = f.ClassFactory(programme__company=w.company, name="Dolphins")
    w.other = f.ClassFactory(programme=w.klass.programme, name="Sharks")
    w.session = f.SessionFactory(klass=w.klass, local_date=date(2026, 11, 24))
    w.other_session = f.SessionFactory(
        klass=w.other, local_date=date(2026, 11, 25), local_time=time(16)
    )
    w.students = [
        f.EnrolmentFactory(
            klass=w.klass, student__first_name=name, student__date_of_birth=date(2020, 6, 1)
        )
        for name in ("Ava", "Ben", "Cy")
    ]
    with scope(company=w.company):
        yield w


def _state(enrolment, session) -> str:
    return Attendance.objects.get(enrolment=enrolment, session=session).state


def _school_credit(enrolment, session) -> MakeupCredit:
    return MakeupCredit.objects.get(attendance__enrolment=enrolment, attendance__session=session)


def _latest_decision(enrolment, session) -> CreditDecision:
    return (
        CreditDecision.objects.filter(attendance__enrolment=enrolment, attendance__session=session)
        .order_by("-pk")
        .first()
    )


def test_clo_6_att_5_restoring_revokes_the_unused_school_credits(lesson):
    ava, ben, cy = lesson.students
    session_cancel(session=lesson.session, reason="Pool closed", now=CANCELLED_AT)
    credits = [_school_credit(e, lesson.session) for e in lesson.students]
    assert {c.state for c in credits} == {CreditState.AVAILABLE}

    restored = session_restore(session=lesson.session, actor=lesson.world.admin_a, now=RESTORED_AT)

    assert restored == 3
    assert {_state(e, lesson.session) for e in lesson.students} == {S.EXPECTED}
    for credit in credits:
        credit.refresh_from_db()
        assert credit.state == CreditState.REVOKED
    assert _latest_decision(ava, lesson.session).reason == DecisionReason.REVOKED
    lesson.session.refresh_from_db()
    assert not lesson.session.is_cancelled
    assert (lesson.session.cancel_reason, lesson.session.cancelled_by) == ("", None)
    # ATT-6: the restore is in the history, told apart from a staff correction.
    change = AttendanceChange.objects.filter(attendance__enrolment=ava).order_by("pk").last()
    assert (change.from_state, change.to_state) == (S.STAFF_CANCELLED, S.EXPECTED)
    assert change.source == AttendanceChange.Source.SESSION_RESTORE
    assert (change.changed_at, change.changed_by) == (RESTORED_AT, lesson.world.admin_a)


def test_clo_6_att_5_a_spent_school_credit_stays_used_and_is_flagged(lesson):
    ava, ben, _cy = lesson.students
    session_cancel(session=lesson.session, reason="Pool closed", now=CANCELLED_AT)
    spent = _school_credit(ava, lesson.session)
    booking = makeup_book(
        credit=spent,
        session=lesson.other_session,
        actor=lesson.world.staff_a,
        source=MakeupBooking.Source.STAFF,
        now=CANCELLED_AT + timedelta(hours=1),
    )

    session_restore(session=lesson.session, now=RESTORED_AT)

    spent.refresh_from_db()
    booking.refresh_from_db()
    assert spent.state == CreditState.USED and spent.booking_id == booking.pk
    assert booking.state == MakeupBooking.State.BOOKED  # the make-up still happens
    conflict = _latest_decision(ava, lesson.session)
    assert conflict.reason == DecisionReason.SPENT_CONFLICT
    assert conflict.needs_attention and conflict.credit_id == spent.pk
    assert _state(ava, lesson.session) == S.EXPECTED
    # Ben's credit was unused: revoked, nothing to review.
    assert _school_credit(ben, lesson.session).state == CreditState.REVOKED
    assert not _latest_decision(ben, lesson.session).needs_attention


def test_clo_6_a_student_who_had_cancelled_before_keeps_their_state_and_credit(lesson):
    ava, ben, cy = lesson.students
    told = CANCELLED_AT - timedelta(days=1)
    attendance_set_state(
        enrolment=ava, session=lesson.session, state=S.CANCELLED, cancelled_at=told, now=told
    )
    own_credit = _school_credit(ava, lesson.session)
    # Cy was marked by staff alone (not by the session's cancellation) before it.
    attendance_set_state(enrolment=cy, session=lesson.session, state=S.STAFF_CANCELLED, now=told)
    assert session_cancel(session=lesson.session, reason="Storm", now=CANCELLED_AT) == 1

    assert session_restore(session=lesson.session, now=RESTORED_AT) == 1

    assert _state(ava, lesson.session) == S.CANCELLED
    assert _state(ben, lesson.session) == S.EXPECTED
    assert _state(cy, lesson.session) == S.STAFF_CANCELLED
    own_credit.refresh_from_db()
    assert own_credit.state == CreditState.AVAILABLE
    assert _school_credit(cy, lesson.session).state == CreditState.AVAILABLE


def test_clo_6_a_correction_made_after_the_cancellation_is_kept(lesson):
    ava, ben, _cy = lesson.students
    session_cancel(session=lesson.session, reason="Storm", now=CANCELLED_AT)
    # Staff record that Ava's family had told them earlier: a client cancellation now.
    attendance_set_state(
        enrolment=ava,
        session=lesson.session,
        state=S.CANCELLED,
        cancelled_at=CANCELLED_AT - timedelta(days=2),
        now=CANCELLED_AT + timedelta(hours=1),
    )
    assert session_restore(session=lesson.session, now=RESTORED_AT) == 2
    assert _state(ava, lesson.session) == S.CANCELLED
    assert _state(ben, lesson.session) == S.EXPECTED


def test_clo_6_a_started_session_or_one_not_cancelled_is_refused(lesson):
    with pytest.raises(DomainError, match="not cancelled"):
        session_restore(session=lesson.session, now=RESTORED_AT)
    session_cancel(session=lesson.session, reason="Pool closed", now=CANCELLED_AT)
    for moment in (lesson.session.starts_at, lesson.session.starts_at + timedelta(hours=2)):
        with pytest.raises(DomainError, match="already started"):
            session_restore(session=lesson.session, now=moment)
    lesson.session.refresh_from_db()
    assert lesson.session.is_cancelled
    assert {_state(e, lesson.session) for e in lesson.students} == {S.STAFF_CANCELLED}
    # A second before the start it still can be.
    assert (
        session_restore(session=lesson.session, now=lesson.session.starts_at - timedelta(seconds=1))
        == 3
    )


def test_clo_6_make_up_guests_are_not_booked_again(lesson):
    guest = f.EnrolmentFactory(
        klass=lesson.other, student__first_name="Gus", student__date_of_birth=date(2020, 6, 1)
    )
    credit = credit_add_manual(
        enrolment=guest, reason="test", actor=None, valid_days=30, now=NOW - timedelta(days=1)
    )
    booking = makeup_book(
        credit=credit,
        session=lesson.session,
        actor=lesson.world.staff_a,
        source=MakeupBooking.Source.STAFF,
        now=NOW - timedelta(hours=1),
    )
    session_cancel(session=lesson.session, reason="Pool closed", now=CANCELLED_AT)
    session_restore(session=lesson.session, now=RESTORED_AT)
    booking.refresh_from_db()
    credit.refresh_from_db()
    assert booking.state == MakeupBooking.State.CANCELLED
    assert credit.state == CreditState.AVAILABLE and credit.booking_id is None


def test_clo_6_a_closure_cancellation_is_cleared_and_its_no_credit_students_come_back(lesson):
    closure = closure_create(
        company=lesson.company,
        name="Pool maintenance",
        first_day=date(2026, 11, 24),
        last_day=date(2026, 11, 24),
        credits=ClosureCredits.NONE,
        now=NOW,
    )
    session_cancel(session=lesson.session, reason="Pool maintenance", now=NOW, closure=closure)
    assert not MakeupCredit.objects.filter(attendance__session=lesson.session).exists()
    assert session_restore(session=lesson.session, now=RESTORED_AT) == 3
    lesson.session.refresh_from_db()
    assert lesson.session.closure is None and not lesson.session.is_cancelled
    assert {_state(e, lesson.session) for e in lesson.students} == {S.EXPECTED}
    # It can be cancelled again afterwards, and restored again.
    session_cancel(session=lesson.session, reason="Storm", now=RESTORED_AT)
    assert session_restore(session=lesson.session, now=RESTORED_AT + timedelta(hours=1)) == 3


def test_clo_6_higher_apps_hear_of_a_restore(lesson, monkeypatch):
    heard = []

    def listener(*, session, restored, actor, now):
        heard.append((session.pk, sorted(a.enrolment_id for a in restored), actor, now))

    monkeypatch.setattr(hooks, "_session_restore_listeners", [listener])
    session_cancel(session=lesson.session, reason="Pool closed", now=CANCELLED_AT)
    session_restore(session=lesson.session, actor=lesson.world.staff_a, now=RESTORED_AT)
    assert heard == [
        (
            lesson.session.pk,
            sorted(e.pk for e in lesson.students),
            lesson.world.staff_a,
            RESTORED_AT,
        )
    ]


@pytest.mark.datacache
@pytest.mark.django_db(transaction=True)
def test_clo_6_restoring_retires_cached_pages_like_cancelling(world):
    """A restored session is bookable again: as with a cancellation, the company's data
    version changes when the restore commits, so no cached page keeps the old state."""
    klass = f.ClassFactory(programme__company=world.company_a)
    session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
    f.EnrolmentFactory(klass=klass)
    with scope(company=world.company_a):
        before = data_versions([world.company_a.pk])
        with transaction.atomic():
            session_cancel(session=session, reason="Pool closed", now=CANCELLED_AT)
        cancelled = data_versions([world.company_a.pk])
        assert cancelled != before
        with transaction.atomic():
            session_restore(session=session, now=RESTORED_AT)
        assert data_versions([world.company_a.pk]) != cancelled
