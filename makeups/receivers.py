"""How makeups plugs into the lower apps: a place freed by a regular's cancellation or
withdrawal goes to the first watcher in line (BEY-2); the school cancelling a session
cancels its make-ups with their credits back (ATT-7)."""

from datetime import datetime

from bookings.models import PLACE_FREEING_STATES
from credits.models import SessionWatch
from programmes.models import Session

from .services import (
    makeups_cancel_for_cancelled_session,
    makeups_cancel_for_cancelled_sessions,
    watch_fill,
)


def _frees_a_place(attendance, previous_state: str) -> bool:
    return attendance.state in PLACE_FREEING_STATES and previous_state not in PLACE_FREEING_STATES


def fill_watches_after_attendance(*, attendance, previous_state: str, actor, now: datetime) -> None:
    """A regular who cancels frees a place, which the first watcher in line takes (BEY-2).
    Registered after the credit decision (credits is installed before makeups). A session
    the school cancelled frees nothing: its watches end with it (ATT-7)."""
    if _frees_a_place(attendance, previous_state) and attendance.session.cancelled_at is None:
        watch_fill(session=attendance.session, now=now)


def fill_watches_after_attendances(
    *, attendances, previous_states: dict, actor, now: datetime
) -> None:
    """The same for many attendances changed together: each session once."""
    sessions = {
        attendance.session_id: attendance.session
        for attendance in attendances
        if _frees_a_place(attendance, previous_states[attendance.pk])
    }
    for session in sessions.values():
        if session.cancelled_at is None:
            watch_fill(session=session, now=now)


def cancel_makeups_of_cancelled_session(*, session, reason: str, actor, now: datetime) -> None:
    makeups_cancel_for_cancelled_session(session=session, reason=reason, actor=actor, now=now)


def cancel_makeups_of_cancelled_sessions(*, sessions, reason: str, actor, now: datetime) -> None:
    makeups_cancel_for_cancelled_sessions(sessions=sessions, reason=reason, actor=actor, now=now)


def fill_watches_after_withdrawal(*, enrolment, now: datetime) -> None:
    """A withdrawal frees the student's place in the class's sessions from that day on."""
    sessions = Session.objects.filter(
        klass_id=enrolment.klass_id,
        local_date__gte=enrolment.withdrawn_from,
        starts_at__gt=now,
        watches__state=SessionWatch.State.ACTIVE,
    ).distinct()
    for session in sessions:
        watch_fill(session=session, now=now)
