"""DAY-5: can a parent's "Can't come" still be undone? One answer for the portal's button and
for the service that undoes it (:func:`makeups.services.cancelling.lesson_cancel_undo`)."""

from datetime import datetime

from django.utils.translation import gettext as _

from bookings.models import CLIENT_CANCELLED_STATES, Attendance, AttendanceChange
from credits.models import CreditState, MakeupCredit
from programmes.models import Session

from .eligibility import session_held, session_places


def lesson_cancel_undo_refusal(
    *,
    attendance: Attendance | None,
    last_change: AttendanceChange | None,
    credit: MakeupCredit | None,
    session: Session,
    now: datetime,
) -> str | None:
    """Why this lesson's "Can't come" can't be undone now, or ``None`` when it can (DAY-5).

    Only the parent's own cancellation from the portal (the attendance's latest change, made
    there), before the lesson starts and while the school hasn't cancelled it; the credit it
    earned (``credit``: its live one, if any) still unused and not given to a sibling
    (WAL-1); and the place still free — the session, without this student, has room, or
    holds no make-up guest who could have taken it nor a place offered to a watcher (WAL-5).
    ``session`` is annotated by :func:`makeups.selectors.eligibility.with_occupancy`."""
    if attendance is None or attendance.state not in CLIENT_CANCELLED_STATES:
        return _("There is no “Can't come” to undo on this lesson.")
    if (
        last_change is None
        or last_change.source != AttendanceChange.Source.PORTAL
        or last_change.to_state != attendance.state
    ):
        return _("The school recorded this cancellation: please contact them to change it.")
    if session.starts_at <= now:
        return _("This lesson has already started.")
    if session.cancelled_at is not None:
        return _("This lesson is cancelled by the school.")
    if credit is not None and credit.is_transferred:  # WAL-1: the sibling's now, as if spent
        return _(
            "The credit from this cancellation was given to a brother or sister: the lesson "
            "stays cancelled."
        )
    if credit is not None and credit.state != CreditState.AVAILABLE:
        if credit.state == CreditState.USED:
            return _(
                "The credit from this cancellation is already booked for a make-up: cancel "
                "that make-up first."
            )
        return _(
            "The credit from this cancellation is {state}: the lesson stays cancelled."
        ).format(state=credit.get_state_display().lower())
    taken, limit = session_places(session)
    if taken >= limit and session.makeups:
        return _("Another child has taken the place meanwhile: the lesson stays cancelled.")
    if taken >= limit and session_held(session):  # WAL-5: the freed place is on offer
        return _(
            "The place has been offered to a family on the watch list meanwhile: the lesson "
            "stays cancelled."
        )
    return None
