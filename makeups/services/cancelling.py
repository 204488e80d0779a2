"""What a family or the school cancels: a make-up (its credit back on time by the host's
policy, CRD-3), every make-up of a session the school cancelled (ATT-7), and a regular
lesson the parent can't come to (ATT-3, ATT-4, POL-9, POL-11), and taking that back while
the place is still free (DAY-5). A freed place goes to the
first watcher in line at once (BEY-2)."""

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from bookings.models import Attendance, AttendanceChange, AttendanceState, Enrolment, MakeupBooking
from bookings.services import attendance_set_state, check_portal_parent
from bookings.services.attendance import check_client_cancellation_time
from bookings.services.places import recount_places
from credits.models import CreditState, MakeupCredit, SessionWatch
from credits.selectors.policies import cutoff_instant, policy_for
from credits.services import (
    credit_return,
    credit_revoke,
    credits_reinstate_many,
)
from makeup import outbox
from makeup.datacache import data_changed
from makeup.errors import DomainError
from makeup.shapes import Shape
from programmes.models import Session

from .. import hooks
from ..selectors.cancelling import lesson_cancel_undo_refusal
from .capacity import lock_session
from .watches import watch_fill

CANCELLED_TASK = "makeups.tasks.send_makeup_cancelled"


@dataclass(frozen=True)
class MakeupCancelled:
    """What cancelling a make-up did: whether its credit came back (CRD-3), and the bookings
    the freed place went to from the watch list (BEY-2), for the page to say so."""

    credit_returned: bool
    filled: list[MakeupBooking] = field(default_factory=list)


def tell_family_cancelled(
    booking: MakeupBooking, *, credit_id: int | None, returned: bool, by_school: bool
) -> None:
    """The "make-up cancelled" e-mail to the family (through the outbox, after the commit):
    whether the credit came back or stays used, or that the school cancelled the session.
    Once per booking (a booking is cancelled once)."""
    key, args = _cancelled_notice(
        booking, credit_id=credit_id, returned=returned, by_school=by_school
    )
    outbox.enqueue(CANCELLED_TASK, *args, key=key)


def _cancelled_notice(
    booking: MakeupBooking, *, credit_id: int | None, returned: bool, by_school: bool
) -> tuple[str, tuple]:
    """The outbox key and arguments of a booking's "make-up cancelled" e-mail."""
    args = (booking.home_company_id, booking.pk, credit_id, returned, by_school)
    return f"makeup-cancelled:{booking.pk}", args


def guest_side(booking: MakeupBooking):
    """A guest from a partner branch spent a credit of their home company on this booking:
    the host's cancellation gives back exactly that credit (found by the booking), so its
    company's scope is lifted for it (FRN-5, CRD-3). Own-company guests stay in scope."""
    if booking.home_company_id == booking.company_id:
        return nullcontext()
    return scopes_disabled()


@transaction.atomic
def makeup_cancel(
    *,
    booking: MakeupBooking,
    actor=None,
    now: datetime,
    cancelled_at: datetime | None = None,
) -> MakeupCancelled:
    """Cancel a make-up booking. On time by the host programme's policy the credit comes back
    with its original expiry; late, it stays used (CRD-3). The family is e-mailed either way.
    The freed place goes to the first watcher in line at once (BEY-2). Returns whether the
    credit came back and the bookings made from the watch list. The host's staff and the
    guest's home school (FRN-7) cancel alike: a guest's booking is read and written with
    scoping lifted (:func:`guest_side`)."""
    with guest_side(booking):
        return _cancel(booking=booking, actor=actor, now=now, cancelled_at=cancelled_at or now)


def _cancel(
    *, booking: MakeupBooking, actor, now: datetime, cancelled_at: datetime
) -> MakeupCancelled:
    locked = lock_session(booking.session_id, now=now)
    check_client_cancellation_time(session=locked, cancelled_at=cancelled_at, now=now)
    booking = _LOCKED_BOOKING.get(booking_id=booking.pk)
    if booking.state != MakeupBooking.State.BOOKED:
        raise DomainError(_("This make-up is already cancelled."))
    if locked.starts_at <= now:
        raise DomainError(_("This make-up has already started; staff record what happened."))
    returned = False
    credit = _SPENT_ON.first(booking_id=booking.pk)
    if credit is not None:
        returned = credit_return(
            credit=credit, session=locked, cancelled_at=cancelled_at, actor=actor, now=now
        )
    booking.state = MakeupBooking.State.CANCELLED
    booking.cancelled_at, booking.cancelled_by = cancelled_at, actor
    booking.cancelled_late = not returned
    booking.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancelled_late"])
    tell_family_cancelled(
        booking, credit_id=credit.pk if credit else None, returned=returned, by_school=False
    )
    hooks.makeups_announce(event="cancelled", bookings=[booking], now=now)
    filled = watch_fill(session=locked, now=now)
    return MakeupCancelled(credit_returned=returned, filled=filled)


@transaction.atomic
def lesson_cancel_by_parent(
    *,
    enrolment,
    session: Session,
    actor,
    now: datetime,
    source: str = AttendanceChange.Source.PORTAL,
    note: str = "",
):
    """A parent cancels an upcoming regular lesson in the portal: a client cancellation
    stamped now (ATT-3), on time or late by the policy (ATT-4), decided at once (POL-9).
    POL-11: where the policy refuses late portal cancellations, a late one is refused with
    the company's own instructions. ``source`` and ``note``: the same cancellation passed on
    by another way in (the school's system through the API), kept in the history."""
    # The enrolment row serialises two taps of "Can't come": the second sees the first.
    Enrolment.objects.select_for_update().filter(pk=enrolment.pk).values_list("pk").get()
    current = Attendance.objects.filter(enrolment=enrolment, session=session).first()
    if current is not None and current.state != AttendanceState.EXPECTED:
        raise DomainError(
            _("This lesson is already marked “{state}”.").format(state=current.get_state_display()),
            code="already",
        )
    session = Session.objects.select_related("klass__programme", "company").get(pk=session.pk)
    if session.starts_at <= now:
        raise DomainError(_("This lesson has already started."))
    if session.cancelled_at is not None:
        raise DomainError(_("This lesson is cancelled by the school."))
    policy = policy_for(session.klass.programme)
    if now > cutoff_instant(policy, session) and policy.portal_late_cancellation == "refuse":
        raise DomainError(
            policy.late_cancellation_instructions.strip()
            or _("It's too late to cancel this lesson online: please contact us."),
            code="late_refused",
        )
    return attendance_set_state(
        enrolment=enrolment,
        session=session,
        state=AttendanceState.CANCELLED,
        cancelled_at=now,
        actor=actor,
        source=source,
        note=note,
        now=now,
    )


@transaction.atomic
def lesson_cancel_undo(*, enrolment: Enrolment, session: Session, actor, now: datetime):
    """DAY-5: a parent takes back their "Can't come" — the lesson is on again. Only a
    confirmed parent of the family (MKP-9), and only while :func:`lesson_cancel_undo_refusal`
    finds nothing against it: their own portal cancellation, the lesson not started nor
    cancelled by the school, its credit unused, the place still free (counted under the
    capacity lock, MKP-8). The credit is withdrawn (its history says who, when and why) and
    the attendance goes back to expected through the attendance service
    (ATT-6 keeps the change; a late cancellation's charge is reversed, BAL-1)."""
    check_portal_parent(family=enrolment.student.family, user=actor)
    # Same order as "Can't come" (enrolment, then the session): the two serialise.
    Enrolment.objects.select_for_update().filter(pk=enrolment.pk).values_list("pk").get()
    locked = lock_session(session.pk, now=now)
    attendance = (
        Attendance.objects.select_for_update().filter(enrolment=enrolment, session=locked).first()
    )
    last_change = attendance.changes.order_by("-changed_at", "-pk").first() if attendance else None
    credit = (
        MakeupCredit.objects.select_for_update()
        .filter(attendance=attendance)
        .exclude(state=CreditState.REVOKED)
        .first()
        if attendance
        else None
    )
    refusal = lesson_cancel_undo_refusal(
        attendance=attendance, last_change=last_change, credit=credit, session=locked, now=now
    )
    if refusal:
        raise DomainError(refusal, code="undo_refused")
    if credit is not None:
        # A watch waiting with it goes on with the child's other credits, or ends at its
        # next chance of a place when there are none (BEY-2).
        credit_revoke(
            credit=credit,
            actor=actor,
            now=now,
            note=_("“Can't come” undone: the lesson is on again."),
        )
    return attendance_set_state(
        enrolment=enrolment,
        session=locked,
        state=AttendanceState.EXPECTED,
        actor=actor,
        source=AttendanceChange.Source.PORTAL,
        note=_("“Can't come” undone by the parent."),
        now=now,
    )


def makeups_cancel_for_cancelled_session(
    *, session: Session, reason: str, actor, now: datetime
) -> int:
    """ATT-7 for make-up guests: the school cancelled the session, so every active make-up
    booking on it is cancelled and its credit comes back whatever the time (the family did
    nothing late); each family is e-mailed. Watches of the session end, giving the reason (a
    closure's name, CLO-3). Runs inside the session-cancel transaction."""
    return makeups_cancel_for_cancelled_sessions(
        sessions=[session], reason=reason, actor=actor, now=now
    )


def makeups_cancel_for_cancelled_sessions(
    *, sessions: list[Session], reason: str, actor, now: datetime
) -> int:
    """:func:`makeups_cancel_for_cancelled_session` for one or several sessions cancelled
    together (a closure, CLO-7), at a fixed number of statements: the bookings cancelled,
    their credits given back (a partner's guests' with scoping lifted for exactly those,
    :func:`guest_side`), each family's e-mail queued, the watches ended."""
    ids = [session.pk for session in sessions]
    bookings = list(
        MakeupBooking.objects.select_for_update().filter(
            session_id__in=ids, state=MakeupBooking.State.BOOKED
        )
    )
    credit_of: dict[int, int] = {}
    if bookings:
        MakeupBooking.objects.filter(pk__in=[b.pk for b in bookings]).update(
            state=MakeupBooking.State.CANCELLED, cancelled_at=now, cancelled_by=actor
        )
        recount_places(session_ids=ids)  # a bulk update sends no signals
        for booking in bookings:
            booking.state, booking.cancelled_at = MakeupBooking.State.CANCELLED, now
            booking.cancelled_by = actor
        partners = [b for b in bookings if b.home_company_id != b.company_id]
        with guest_side(partners[0]) if partners else nullcontext():
            used = MakeupCredit.objects.filter(
                booking_id__in=[b.pk for b in bookings], state=CreditState.USED
            ).values_list("pk", "booking_id")
            credit_of = {booking_id: pk for pk, booking_id in used}
            credits_reinstate_many(
                credit_ids=list(credit_of.values()),
                actor=actor,
                now=now,
                note=_("The school cancelled the make-up session: {reason}").format(reason=reason),
            )
        outbox.enqueue_many(
            CANCELLED_TASK,
            [
                _cancelled_notice(
                    booking, credit_id=credit_of.get(booking.pk), returned=True, by_school=True
                )
                for booking in bookings
            ],
        )
        hooks.makeups_announce(event="cancelled", bookings=bookings, now=now)
        data_changed(*{booking.company_id for booking in bookings})
    ended = SessionWatch.objects.filter(session_id__in=ids, state__in=SessionWatch.WAITING).update(
        state=SessionWatch.State.ENDED,
        ended_at=now,
        end_reason=_("The school cancelled the session: {reason}").format(reason=reason)[:200],
    )
    if ended:
        data_changed(*{session.company_id for session in sessions})
    return len(bookings)


_LOCKED_BOOKING = Shape(
    lambda booking_id: MakeupBooking.objects.filter(pk=booking_id).select_for_update()
)
# The credit spent on a booked make-up (at most one).
_SPENT_ON = Shape(
    lambda booking_id: MakeupCredit.objects.filter(booking_id=booking_id, state=CreditState.USED)[
        :1
    ]
)
