"""ATT-1…ATT-7 through the attendance service the views use."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from bookings.models import Attendance, AttendanceChange, AttendanceState
from bookings.services import attendance_mark_all_present, attendance_set_state, session_cancel
from credits.models import CancellationPolicy, PolicyMode, WeeklyCutoff
from makeup.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db
S = AttendanceState


@pytest.fixture
def lesson(world):
    """A Tuesday 24 Nov 2026 17:00 Sydney lesson with three enrolled students."""
    klass = f.ClassFactory(programme__company=world.company_a)
    session = f.SessionFactory(klass=klass)
    enrolments = [f.EnrolmentFactory(klass=klass) for _ in range(3)]
    with scope(company=world.company_a):
        yield session, enrolments


def _local(session, y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=session.company.tzinfo)


def test_att_1_a_student_without_a_row_is_expected_and_states_are_the_six(lesson):
    session, enrolments = lesson
    assert not Attendance.objects.filter(session=session).exists()
    assert set(S.values) == {
        "expected",
        "present",
        "cancelled",
        "late_cancelled",
        "no_show",
        "staff_cancelled",
    }
    a = attendance_set_state(
        now=timezone.now(), enrolment=enrolments[0], session=session, state=S.PRESENT
    )
    assert a.state == S.PRESENT
    assert Attendance.objects.filter(session=session).count() == 1


def test_att_3_client_cancellation_records_when_the_client_cancelled(lesson, world):
    session, (e, *_) = lesson
    told_us = _local(session, 2026, 11, 20, 9)
    now = _local(session, 2026, 11, 21, 10)
    a = attendance_set_state(
        enrolment=e,
        session=session,
        state=S.CANCELLED,
        cancelled_at=told_us,
        now=now,
        actor=world.staff_a,
    )
    assert a.cancelled_at == told_us
    # Default: now.
    a = attendance_set_state(enrolment=e, session=session, state=S.CANCELLED, now=now)
    assert a.cancelled_at == now


def test_att_3_cancellation_time_in_the_future_is_refused(lesson):
    session, (e, *_) = lesson
    now = _local(session, 2026, 11, 21, 10)
    with pytest.raises(DomainError, match="future"):
        attendance_set_state(
            enrolment=e,
            session=session,
            state=S.CANCELLED,
            cancelled_at=now + timedelta(hours=1),
            now=now,
        )


def test_att_4_on_time_or_late_is_decided_by_the_policy_hours_before(lesson):
    """Default policy: 24 hours before. Exactly at the cut-off is on time; a second later
    is late — whatever state the caller asked for."""
    session, (e1, e2, e3) = lesson
    cutoff = session.starts_at - timedelta(hours=24)
    now = session.starts_at - timedelta(hours=1)
    at = attendance_set_state(
        enrolment=e1, session=session, state=S.LATE_CANCELLED, cancelled_at=cutoff, now=now
    )
    assert at.state == S.CANCELLED
    late = attendance_set_state(
        enrolment=e2,
        session=session,
        state=S.CANCELLED,
        cancelled_at=cutoff + timedelta(seconds=1),
        now=now,
    )
    assert late.state == S.LATE_CANCELLED


def test_att_4_weekly_cut_off_is_wall_clock_across_dst(world):
    """POL-1 weekly mode: "a Monday lesson is late after 20:00 on the Sunday before",
    with DST starting in Sydney at 02:00 on Sunday 4 Oct 2026."""
    klass = f.ClassFactory(
        programme__company=world.company_a, start_date=datetime(2026, 9, 1).date()
    )
    session = f.SessionFactory(klass=klass, local_date=datetime(2026, 10, 5).date())
    e = f.EnrolmentFactory(klass=klass)
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=klass.programme)
        policy.mode = PolicyMode.WEEKLY_CUTOFF
        policy.save()
        WeeklyCutoff.objects.create(
            company=world.company_a,
            policy=policy,
            lesson_weekday=0,
            cutoff_weekday=6,
            cutoff_time=datetime(2000, 1, 1, 20).time(),
        )
        now = _local(session, 2026, 10, 5, 12)
        on_time = attendance_set_state(
            enrolment=e,
            session=session,
            state=S.CANCELLED,
            cancelled_at=_local(session, 2026, 10, 4, 20, 0),
            now=now,
        )
        assert on_time.state == S.CANCELLED
        late = attendance_set_state(
            enrolment=e,
            session=session,
            state=S.CANCELLED,
            cancelled_at=_local(session, 2026, 10, 4, 20, 1),
            now=now,
        )
        assert late.state == S.LATE_CANCELLED


def test_att_5_any_state_can_be_corrected_to_any_other(lesson):
    session, (e, *_) = lesson
    now = session.starts_at + timedelta(hours=2)
    for state in [S.NO_SHOW, S.PRESENT, S.STAFF_CANCELLED, S.EXPECTED, S.CANCELLED, S.NO_SHOW]:
        a = attendance_set_state(
            enrolment=e,
            session=session,
            state=state,
            cancelled_at=session.starts_at - timedelta(days=3),
            now=now,
        )
    assert a.state == S.NO_SHOW and a.cancelled_at is None


def test_att_6_every_change_is_kept_with_who_when_from_to(lesson, world):
    session, (e, *_) = lesson
    attendance_set_state(
        now=timezone.now(), enrolment=e, session=session, state=S.PRESENT, actor=world.staff_a
    )
    attendance_set_state(
        now=timezone.now(), enrolment=e, session=session, state=S.NO_SHOW, actor=world.admin_a
    )
    attendance_set_state(
        now=timezone.now(), enrolment=e, session=session, state=S.NO_SHOW, actor=world.admin_a
    )
    changes = list(AttendanceChange.objects.filter(attendance__enrolment=e).order_by("pk"))
    assert [(c.from_state, c.to_state, c.changed_by) for c in changes] == [
        (S.EXPECTED, S.PRESENT, world.staff_a),
        (S.PRESENT, S.NO_SHOW, world.admin_a),
    ]  # the repeated no-show changed nothing and wrote nothing
    assert all(c.changed_at for c in changes)


def test_att_7_cancelling_a_session_marks_every_expected_student(lesson, world):
    session, (e1, e2, e3) = lesson
    now = session.starts_at - timedelta(hours=30)
    attendance_set_state(
        enrolment=e1,
        session=session,
        state=S.CANCELLED,
        cancelled_at=now - timedelta(days=1),
        now=now,
    )
    marked = session_cancel(session=session, reason="Pool closed", actor=world.staff_a, now=now)
    assert marked == 2
    states = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "state"))
    assert states == {e1.pk: S.CANCELLED, e2.pk: S.STAFF_CANCELLED, e3.pk: S.STAFF_CANCELLED}
    session.refresh_from_db()
    assert session.is_cancelled and session.cancel_reason == "Pool closed"
    assert AttendanceChange.objects.filter(source="session_cancel", note="Pool closed").count() == 2
    with pytest.raises(DomainError, match="already cancelled"):
        session_cancel(session=session, reason="again", now=now)


def test_att_7_cancelling_needs_a_reason(lesson):
    session, _ = lesson
    with pytest.raises(DomainError, match="Say why"):
        session_cancel(now=timezone.now(), session=session, reason="  ")


def test_all_present_marks_only_students_still_expected(lesson):
    session, (e1, e2, e3) = lesson
    attendance_set_state(now=timezone.now(), enrolment=e1, session=session, state=S.NO_SHOW)
    assert attendance_mark_all_present(now=timezone.now(), session=session) == 2
    states = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "state"))
    assert states == {e1.pk: S.NO_SHOW, e2.pk: S.PRESENT, e3.pk: S.PRESENT}


def test_a_student_not_enrolled_on_that_day_is_refused(lesson):
    session, (e, *_) = lesson
    e.withdrawn_from = session.local_date
    e.save()
    with pytest.raises(DomainError, match="not enrolled"):
        attendance_set_state(now=timezone.now(), enrolment=e, session=session, state=S.PRESENT)
    other_session = f.SessionFactory(local_date=session.local_date)
    with pytest.raises(DomainError, match="not in this class"):
        attendance_set_state(
            now=timezone.now(), enrolment=e, session=other_session, state=S.PRESENT
        )
