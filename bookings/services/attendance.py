"""Attendance: one service for every change of state (ATT-1…ATT-7), cancelling a whole
session and restoring it (CLO-6)."""

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from makeup.dates import CANCELLATION_LEAD, check_in_range
from makeup.errors import DomainError
from programmes.models import Closure, Session

from .. import hooks
from ..models import (
    CLIENT_CANCELLED_STATES,
    Attendance,
    AttendanceChange,
    AttendanceState,
    Enrolment,
)
from ..selectors.attendance import expected_enrolments, session_makeup_guests
from .account import account_apply_attendance
from .guests import makeup_set_attendance
from .packages import package_apply_attendance

# A client cancellation stamped a little ahead of the server clock is still "now".
CLOCK_SKEW = timedelta(minutes=2)


def check_client_cancellation_time(*, session: Session, cancelled_at: datetime, now: datetime):
    """ATT-3: the time a client told us they cancel is a real one: in 2000…2100, not in the
    future, and not more than a year before the session's class starts (or the session, if
    it starts earlier). Checked before any arithmetic, which year 1 would overflow."""
    check_in_range(cancelled_at)
    if cancelled_at > now + CLOCK_SKEW:
        raise DomainError(_("The cancellation time can't be in the future."))
    tz = session.company.tzinfo
    class_start = datetime.combine(session.klass.start_date, time(0), tzinfo=tz)
    if cancelled_at < min(class_start, session.starts_at) - CANCELLATION_LEAD:
        raise DomainError(
            _(
                "The cancellation time can't be more than a year before the class starts ({day})."
            ).format(day=date_format(session.klass.start_date, "DAY_FORMAT"))
        )


def _locked_attendance(*, enrolment: Enrolment, session: Session) -> Attendance:
    attendance = (
        Attendance.objects.select_for_update().filter(enrolment=enrolment, session=session).first()
    )
    if attendance is not None:
        return attendance
    try:
        with transaction.atomic():
            Attendance.objects.create(
                company_id=session.company_id, enrolment=enrolment, session=session
            )
    except IntegrityError:
        pass  # created meanwhile by a concurrent change: lock that one
    return Attendance.objects.select_for_update().get(enrolment=enrolment, session=session)


@transaction.atomic
def attendance_set_state(
    *,
    enrolment: Enrolment,
    session: Session,
    state: str,
    actor=None,
    cancelled_at: datetime | None = None,
    source: str = AttendanceChange.Source.STAFF,
    note: str = "",
    now: datetime,
) -> Attendance:
    """Set a student's state for a session, keep the change in the history (ATT-6) and let the
    credit decision and package/charge rules react (hooks), all in one transaction.

    A client cancellation (``cancelled`` or ``late_cancelled`` asked for alike) records when
    the client cancelled — ``cancelled_at``, default now (ATT-3) — and whether it was on time
    is decided by the programme's policy, never by the caller (ATT-4). Setting the same state
    again changes nothing. Corrections are allowed from any state to any other (ATT-5).
    """
    if state not in AttendanceState.values:
        raise DomainError(_("Unknown attendance state {state}.").format(state=repr(state)))
    if enrolment.company_id != session.company_id or enrolment.klass_id != session.klass_id:
        raise DomainError(_("That student is not in this class."))
    if not enrolment.is_active_on(session.local_date):
        raise DomainError(
            _("{student} is not enrolled on {day}.").format(
                student=enrolment.student, day=date_format(session.local_date, "DAY_FORMAT")
            )
        )

    if state in CLIENT_CANCELLED_STATES:
        cancelled_at = cancelled_at or now
        check_client_cancellation_time(session=session, cancelled_at=cancelled_at, now=now)
        on_time = hooks.classify_client_cancellation(session=session, cancelled_at=cancelled_at)
        state = AttendanceState.CANCELLED if on_time else AttendanceState.LATE_CANCELLED
    else:
        cancelled_at = None

    attendance = _locked_attendance(enrolment=enrolment, session=session)
    if attendance.state == state and attendance.cancelled_at == cancelled_at:
        return attendance
    previous = attendance.state
    attendance.state = state
    attendance.cancelled_at = cancelled_at
    attendance.save(update_fields=["state", "cancelled_at", "updated_at"])
    AttendanceChange.objects.create(
        company_id=attendance.company_id,
        attendance=attendance,
        from_state=previous,
        to_state=state,
        cancelled_at=cancelled_at,
        changed_at=now,
        changed_by=actor,
        source=source,
        note=note,
    )
    covered = package_apply_attendance(attendance=attendance, now=now)  # PKG-1
    account_apply_attendance(attendance=attendance, covered=covered, now=now)  # BAL-1
    hooks.attendance_changed(attendance=attendance, previous_state=previous, actor=actor, now=now)
    return attendance


def _expected_now(session: Session) -> list[Enrolment]:
    """Enrolments of the session whose state is (still) expected."""
    rows = expected_enrolments(session)
    states = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "state"))
    return [
        e for e in rows if states.get(e.pk, AttendanceState.EXPECTED) == AttendanceState.EXPECTED
    ]


@transaction.atomic
def attendance_mark_all_present(*, session: Session, now: datetime, actor=None) -> int:
    """ "All present": every student still expected becomes present; others keep their state."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    if session.cancelled_at is not None:
        raise DomainError(_("This session is cancelled."))
    enrolments = _expected_now(session)
    for enrolment in enrolments:
        attendance_set_state(
            enrolment=enrolment,
            session=session,
            state=AttendanceState.PRESENT,
            actor=actor,
            now=now,
        )
    return len(enrolments)


@transaction.atomic
def session_mark_all_present(*, session: Session, now: datetime, actor=None) -> int:
    """ "All present" on the attendance view: every regular (:func:`attendance_mark_all_present`)
    and every make-up guest still expected becomes present (MKP-10: guests are marked like any
    other), all or nothing. Returns how many were marked."""
    count = attendance_mark_all_present(now=now, session=session, actor=actor)
    for guest in session_makeup_guests(session):
        if guest.attendance_state == AttendanceState.EXPECTED:
            makeup_set_attendance(
                now=now, booking=guest, state=AttendanceState.PRESENT, actor=actor
            )
            count += 1
    return count


@transaction.atomic
def session_cancel(
    *, session: Session, reason: str, actor=None, now: datetime, closure: Closure | None = None
) -> int:
    """ATT-7: the business cancels the whole session. Every student still expected becomes
    ``staff_cancelled`` at once (the staff path of the policy decides about credits);
    students who had already cancelled keep their state; make-up guests' bookings are
    cancelled and their credits given back (credits listens). Returns how many were marked.

    ``closure``: the closure cancelling it (CLO-3), recorded on the session so the credit
    decision follows the closure's choice and reports can tell closures apart."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the session is cancelled (parents see it)."))
    session = Session.objects.select_for_update().select_related("klass").get(pk=session.pk)
    if session.cancelled_at is not None:
        raise DomainError(_("This session is already cancelled."))
    session.cancelled_at, session.cancel_reason, session.cancelled_by = now, reason[:200], actor
    session.closure = closure
    session.save(update_fields=["cancelled_at", "cancel_reason", "cancelled_by", "closure"])
    enrolments = _expected_now(session)
    for enrolment in enrolments:
        attendance_set_state(
            enrolment=enrolment,
            session=session,
            state=AttendanceState.STAFF_CANCELLED,
            actor=actor,
            source=AttendanceChange.Source.SESSION_CANCEL,
            note=reason[:200],
            now=now,
        )
    hooks.session_cancelled(session=session, reason=reason[:200], actor=actor, now=now)
    return len(enrolments)


def _cancelled_by_the_session(session: Session) -> list[Attendance]:
    """The attendances ``session``'s cancellation turned ``staff_cancelled`` and that nobody
    has changed since: their latest change is that cancellation's own (source
    ``session_cancel``, at the session's ``cancelled_at``). Two queries."""
    attendances = {
        a.pk: a
        for a in Attendance.objects.filter(
            session=session, state=AttendanceState.STAFF_CANCELLED
        ).select_related("enrolment__student")
    }
    latest: dict[int, AttendanceChange] = {}
    for change in AttendanceChange.objects.filter(attendance_id__in=list(attendances)).order_by(
        "changed_at", "pk"
    ):
        latest[change.attendance_id] = change
    return [
        attendance
        for pk, attendance in attendances.items()
        if (change := latest.get(pk)) is not None
        and change.source == AttendanceChange.Source.SESSION_CANCEL
        and change.to_state == AttendanceState.STAFF_CANCELLED
        and change.changed_at == session.cancelled_at
    ]


@transaction.atomic
def session_restore(*, session: Session, actor=None, now: datetime) -> int:
    """CLO-6 (through ATT-5): un-cancel a cancelled session that has not started. The
    cancellation is cleared (its time, reason, who, and the closure that caused it), and every
    student the cancellation itself turned ``staff_cancelled`` goes back to ``expected``
    through :func:`attendance_set_state`, as a staff correction does — so the credit decision
    runs again for each: an unused school-path credit is revoked, one already spent on a
    make-up stays spent and its decision is flagged for an admin.

    Students whose state is not the cancellation's doing keep it: those who had cancelled
    themselves before, and any attendance corrected after the cancellation. A student no
    longer enrolled on the day is left as it is. Make-up guests whose bookings the
    cancellation ended are not booked again: their credits were given back and may be spent
    elsewhere by now; the place is simply free again. Higher apps are told through
    :func:`bookings.hooks.session_restored`. Returns how many students were restored."""
    session = Session.objects.select_for_update().select_related("klass").get(pk=session.pk)
    if session.cancelled_at is None:
        raise DomainError(_("This session is not cancelled: there is nothing to restore."))
    if session.starts_at <= now:
        raise DomainError(_("This session has already started: it can't be restored."))
    restorable = [
        attendance
        for attendance in _cancelled_by_the_session(session)
        if attendance.enrolment.is_active_on(session.local_date)
    ]
    session.cancelled_at, session.cancel_reason, session.cancelled_by = None, "", None
    session.closure = None
    session.save(update_fields=["cancelled_at", "cancel_reason", "cancelled_by", "closure"])
    restored = []
    for attendance in sorted(restorable, key=lambda a: a.pk):
        restored.append(
            attendance_set_state(
                enrolment=attendance.enrolment,
                session=session,
                state=AttendanceState.EXPECTED,
                actor=actor,
                source=AttendanceChange.Source.SESSION_RESTORE,
                note=_("The session takes place after all."),
                now=now,
            )
        )
    hooks.session_restored(session=session, restored=restored, actor=actor, now=now)
    return len(restored)
