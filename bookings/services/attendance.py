"""Attendance: one service for every change of state (ATT-1…ATT-7), cancelling a whole
session and restoring it (CLO-6)."""

from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, time, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from makeup.datacache import data_changed, narrow_writes
from makeup.dates import CANCELLATION_LEAD, check_in_range
from makeup.errors import DomainError
from makeup.shapes import Shape
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
from .account import account_apply_attendance, account_release_attendances
from .guests import makeup_set_attendance
from .packages import package_apply_attendance, packages_release_attendances
from .places import recount_places

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


_LOCKED = Shape(
    lambda enrolment_id, session_id: (
        Attendance.objects.select_for_update()
        .filter(enrolment_id=enrolment_id, session_id=session_id)
        .order_by("pk")[:1]
    )
)


def _locked_attendance(*, enrolment: Enrolment, session: Session) -> Attendance:
    attendance = _LOCKED.first(enrolment_id=enrolment.pk, session_id=session.pk)
    if attendance is not None:
        return attendance
    try:
        with transaction.atomic():
            Attendance.objects.create(
                company_id=session.company_id, enrolment=enrolment, session=session
            )
    except IntegrityError:
        pass  # created meanwhile by a concurrent change: lock that one
    return _LOCKED.first(
        enrolment_id=enrolment.pk, session_id=session.pk
    ) or Attendance.objects.select_for_update().get(enrolment=enrolment, session=session)


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

    # A lesson that has started is offered to nobody: marking it concerns only the student's
    # family, whose cached make-up search alone is retired (makeup.datacache). A lesson
    # ahead frees or takes a place others may see: everything of the company is retired.
    with (
        narrow_writes(
            company_id=session.company_id,
            enrolment_id=enrolment.pk,
            family_id=enrolment.student.family_id,
        )
        if session.starts_at <= now
        else nullcontext()
    ):
        attendance = _locked_attendance(enrolment=enrolment, session=session)
        if attendance.state == state and attendance.cancelled_at == cancelled_at:
            return attendance
        # The rules below read the lesson and the enrolment: the caller's, not a read each.
        attendance.session, attendance.enrolment = session, enrolment
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
        hooks.attendance_changed(
            attendance=attendance, previous_state=previous, actor=actor, now=now
        )
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
    A session already cancelled is refused (``code`` ``"already_cancelled"``).

    ``closure``: the closure cancelling it (CLO-3), recorded on the session so the credit
    decision follows the closure's choice and reports can tell closures apart."""
    locked = (
        Session.objects.select_for_update()
        .filter(pk=session.pk)
        .values_list("cancelled_at", flat=True)
    )
    if locked.get() is not None:
        raise DomainError(_("This session is already cancelled."), code="already_cancelled")
    return sum(
        sessions_cancel(
            sessions=[session], reason=reason, actor=actor, now=now, closure=closure
        ).values()
    )


def sessions_cancel(
    *,
    sessions: Sequence[Session],
    reason: str,
    actor=None,
    now: datetime,
    closure: Closure | None = None,
) -> dict[int, int]:
    """ATT-7 for several sessions together, in one transaction: each of them not cancelled
    yet is cancelled exactly as :func:`session_cancel` does (those already cancelled are
    left as they are), so each is either fully cancelled — its students, their credits, its
    guests and watches — or, should anything fail, untouched with all the others. Returns
    ``{session id: students marked}`` for the sessions it cancelled.

    The students are marked together at a fixed number of queries whatever the number of
    sessions and students (a closure cancels thousands of sessions, CLO-7): rows written,
    each change kept (ATT-6), what a package or the account held released, and the listeners
    told in their batch form. Should a row appear meanwhile (a parent's "can't come" at
    this very moment), it starts again with the students one by one through
    :func:`attendance_set_state`."""
    reason = reason.strip()[:200]
    if not reason:
        raise DomainError(_("Say why the session is cancelled (parents see it)."))
    ids = sorted({session.pk for session in sessions})
    cancel = partial(_cancel_sessions, ids, reason=reason, actor=actor, now=now, closure=closure)
    try:
        with transaction.atomic():
            return cancel(together=True)
    except IntegrityError:
        with transaction.atomic():
            return cancel(together=False)


def _cancel_sessions(
    ids: list[int], *, reason: str, actor, now: datetime, closure, together: bool
) -> dict[int, int]:
    locked = list(
        Session.objects.select_for_update(of=("self", "klass"))
        .select_related("klass__programme", "company")
        .filter(pk__in=ids, cancelled_at__isnull=True)
        .order_by("pk")
    )
    if not locked:
        return {}
    Session.objects.filter(pk__in=[s.pk for s in locked]).update(
        cancelled_at=now, cancel_reason=reason, cancelled_by=actor, closure=closure
    )
    for session in locked:
        session.cancelled_at, session.cancel_reason, session.cancelled_by = now, reason, actor
        session.closure = closure
    data_changed(*{session.company_id for session in locked})
    if together:
        marked = _mark_all_staff_cancelled(locked, reason=reason, actor=actor, now=now)
    else:
        marked = {
            session.pk: _mark_each_staff_cancelled(session, reason=reason, actor=actor, now=now)
            for session in locked
        }
    hooks.sessions_cancelled(sessions=locked, reason=reason, actor=actor, now=now)
    return marked


def _mark_each_staff_cancelled(session: Session, *, reason: str, actor, now: datetime) -> int:
    enrolments = _expected_now(session)
    for enrolment in enrolments:
        attendance_set_state(
            enrolment=enrolment,
            session=session,
            state=AttendanceState.STAFF_CANCELLED,
            actor=actor,
            source=AttendanceChange.Source.SESSION_CANCEL,
            note=reason,
            now=now,
        )
    return len(enrolments)


def _mark_all_staff_cancelled(
    sessions: list[Session], *, reason: str, actor, now: datetime
) -> dict[int, int]:
    """What :func:`attendance_set_state` does for each student still expected at
    ``sessions``, for all of them at once: rows written (created, or updated under their
    lock), history kept, package and account released, listeners told. Raises
    ``IntegrityError`` when another transaction created a row meanwhile."""
    enrolments: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in (
        Enrolment.objects.filter(
            klass_id__in={s.klass_id for s in sessions},
            start_date__lte=max(s.local_date for s in sessions),
        )
        .filter(
            Q(withdrawn_from__isnull=True)
            | Q(withdrawn_from__gt=min(s.local_date for s in sessions))
        )
        .order_by("pk")
    ):
        enrolments[enrolment.klass_id].append(enrolment)
    rows = {
        (row.session_id, row.enrolment_id): row
        for row in Attendance.objects.select_for_update().filter(
            session_id__in=[s.pk for s in sessions]
        )
    }
    state = AttendanceState.STAFF_CANCELLED
    expected: list[tuple[Session, Enrolment]] = [
        (session, enrolment)
        for session in sessions
        for enrolment in enrolments[session.klass_id]
        if enrolment.is_active_on(session.local_date)
        and (
            (session.pk, enrolment.pk) not in rows
            or rows[session.pk, enrolment.pk].state == AttendanceState.EXPECTED
        )
    ]
    marked = dict.fromkeys((s.pk for s in sessions), 0)
    if not expected:
        return marked
    existing = [rows[s.pk, e.pk] for s, e in expected if (s.pk, e.pk) in rows]
    if existing:
        Attendance.objects.filter(pk__in=[row.pk for row in existing]).update(
            state=state, cancelled_at=None, updated_at=now
        )
    created = Attendance.objects.bulk_create(
        [
            Attendance(company_id=s.company_id, enrolment=e, session=s, state=state)
            for s, e in expected
            if (s.pk, e.pk) not in rows
        ]
    )
    written = {(row.session_id, row.enrolment_id): row for row in [*existing, *created]}
    attendances = []
    for session, enrolment in expected:
        attendance = written[session.pk, enrolment.pk]
        attendance.state, attendance.cancelled_at = state, None
        attendance.enrolment, attendance.session = enrolment, session
        attendances.append(attendance)
        marked[session.pk] += 1
    recount_places(session_ids=[s.pk for s in sessions], locked=True)  # bulk: no signals
    AttendanceChange.objects.bulk_create(
        [
            AttendanceChange(
                company_id=attendance.company_id,
                attendance=attendance,
                from_state=AttendanceState.EXPECTED,
                to_state=state,
                changed_at=now,
                changed_by=actor,
                source=AttendanceChange.Source.SESSION_CANCEL,
                note=reason,
            )
            for attendance in attendances
        ]
    )
    if existing:  # a row created just now has taken nothing from a package or the account
        packages_release_attendances(attendances=existing, now=now)  # PKG-1
        account_release_attendances(attendances=existing, now=now)  # BAL-1
    hooks.attendances_changed(
        attendances=attendances,
        previous_states=dict.fromkeys((a.pk for a in attendances), AttendanceState.EXPECTED),
        actor=actor,
        now=now,
    )
    return marked


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
