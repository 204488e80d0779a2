"""Moving a booked make-up to another session in one step (WAL-2).

The booking row itself moves: its session (and host company) change, so the credit stays
spent on the same booking — ``used`` throughout, never free for a moment — and the calendar
invitation keeps its identity (the same event, at a new time). What moved, who moved it and
when is kept in the credit's history (a ``moved`` event, CRD-2), which the owners' audit log
shows. Every rule of a new booking runs again for the new session, through the same pieces
:func:`makeups.services.booking.makeup_book` uses; the place given up goes to the first
watcher in line (BEY-2), as when a make-up is cancelled.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from bookings.models import AttendanceState, MakeupBooking
from credits.models import CreditState, MakeupCredit, SessionWatch
from credits.services import credit_move
from makeup import outbox
from makeup.errors import DomainError
from programmes.models import Session

from .. import hooks
from ..selectors.moving import move_deadline
from .booking import booking_actor, booking_checks, host_side, override_text
from .cancelling import guest_side
from .capacity import lock_session
from .watches import watch_end, watch_fill


def _target_refusal(session: Session, now: datetime) -> str | None:
    """Why ``session`` can't take a moved make-up whatever the credit, in plain words."""
    if session.cancelled_at is not None:
        if session.closure_id is not None:
            return _("The school is closed on that day: pick another session.")
        return _("That session is cancelled: pick another one.")
    if session.starts_at <= now:
        return _("That session has already started: pick a later one.")
    if session.klass.archived_at is not None:
        return _("That class is closed: pick another session.")
    return None


@transaction.atomic
def makeup_move(
    *,
    booking: MakeupBooking,
    session: Session,
    actor,
    now: datetime,
    by_staff: bool = False,
    override_reason: str = "",
    family_message: str = "",
) -> MakeupBooking:
    """Move the booked make-up ``booking`` to ``session`` in one transaction (WAL-2).

    Both sessions are locked in a fixed order (by id, :func:`lock_session`), so two families
    moving in opposite directions neither deadlock nor overbook (MKP-8). The new session
    must take this credit as a new booking would (:func:`booking_checks`: MKP-1…MKP-7,
    CRD-4, FRN-1…FRN-5, and the balance gate for a family acting on its own), with the
    credit counted as free for it. Who may move: the family's own confirmed parent (MKP-9),
    or with ``by_staff`` a member of the credit's company (MKP-11) — past the portal-only
    rules with an ``override_reason``, never past capacity.

    The family can move it until the host programme's on-time cut-off for the current
    session — exactly at the cut-off still counts, as for a cancellation; after it the move
    is refused with the company's instructions (POL-11), so a late change never hands the
    credit back in disguise. Staff may move past the cut-off with a reason, which is kept.

    The credit stays ``used`` and gets a ``moved`` history row with who and when; the
    family is e-mailed once with the new time and the calendar invitation; the place given
    up goes to the first watcher in line (BEY-2). Returns the booking, with ``filled``: the
    bookings made from the old session's watch list."""
    if session.pk == booking.session_id:
        raise DomainError(
            _("The make-up is already booked for this session: pick another one."),
            code="same_session",
        )
    with guest_side(booking):
        credit = MakeupCredit.objects.filter(booking_id=booking.pk).first()
        if credit is None:
            raise DomainError(
                _("This make-up has no credit to move with it: cancel it and book again."),
                code="no_credit",
            )
        # The new session must be of the credit's company or an approved partner's (FRN-1).
        with host_side(credit=credit, company_id=session.company_id):
            return _move(
                booking=booking,
                session=session,
                actor=actor,
                now=now,
                by_staff=by_staff,
                override_reason=override_reason.strip(),
                family_message=family_message.strip(),
            )


def _move(
    *,
    booking: MakeupBooking,
    session: Session,
    actor,
    now: datetime,
    by_staff: bool,
    override_reason: str,
    family_message: str,
) -> MakeupBooking:
    locked: dict[int, Session] = {}
    for pk in sorted((booking.session_id, session.pk)):  # the fixed order: no deadlock
        locked[pk] = lock_session(pk, now=now)
    current = MakeupBooking.objects.select_for_update(of=("self",)).get(pk=booking.pk)
    if current.state != MakeupBooking.State.BOOKED:
        raise DomainError(_("This make-up is cancelled: there is nothing to move."))
    if current.session_id != booking.session_id:
        raise DomainError(
            _("This make-up has just been changed: please look at it again."), code="changed"
        )
    old, new = locked[current.session_id], locked[session.pk]
    if old.starts_at <= now:
        raise DomainError(_("This make-up has already started; staff record what happened."))
    if current.attendance_state != AttendanceState.EXPECTED:
        raise DomainError(_("Attendance is already recorded for this make-up: it can't be moved."))
    refusal = _target_refusal(new, now)
    if refusal:
        raise DomainError(refusal, code="not_eligible")
    credit = (
        MakeupCredit.objects.select_for_update(of=("self",))
        .select_related(
            "enrolment__student__family", "holder__student__family", "enrolment__klass__programme"
        )
        .filter(booking_id=current.pk, state=CreditState.USED)
        .first()
    )
    if credit is None:
        raise DomainError(
            _("This make-up has no credit to move with it: cancel it and book again."),
            code="no_credit",
        )
    source = MakeupBooking.Source.STAFF if by_staff else MakeupBooking.Source.PORTAL
    moved_by = booking_actor(
        source=source, actor=actor, watch=None, credit=credit, session_id=new.pk
    )
    deadline = move_deadline(old)
    late = deadline.passed(now)
    if late and not by_staff:
        raise DomainError(deadline.refusal, code="late_refused")
    if late and not override_reason:
        raise DomainError(
            _("{deadline} Give a reason to move it anyway.").format(
                deadline=deadline.staff_refusal
            ),
            code="late_refused",
        )
    overridden = booking_checks(
        credit=credit,
        session=new,
        source=source,
        override_reason=override_reason,
        now=now,
        moving=current,
    )
    passed = [c.text for c in overridden] + ([deadline.staff_refusal] if late else [])
    event = credit_move(
        credit=credit,
        from_session=old,
        to_session=new,
        actor=moved_by,
        now=now,
        note=override_reason if passed else "",
    )
    current.session, current.company_id = new, new.company_id
    current.override_reason = override_text(override_reason, passed)
    if by_staff and family_message:
        current.family_message = family_message[:300]
    current.save(update_fields=["session", "company", "override_reason", "family_message"])
    # A watch of the new session by this child has what it waited for.
    for watch in SessionWatch.objects.filter(
        session_id=new.pk, student_id=current.student_id, state__in=SessionWatch.WAITING
    ):
        watch_end(watch=watch, reason=_("A make-up was moved into this session."), now=now)
    outbox.enqueue(
        "makeups.tasks.send_makeup_moved",
        current.home_company_id,
        current.pk,
        old.pk,
        new.pk,
        key=f"makeup-moved:{current.pk}:{event.pk}",
    )
    hooks.makeups_announce(event="moved", bookings=[current], from_session=old, now=now)
    current.filled = watch_fill(session=old, now=now)
    return current
