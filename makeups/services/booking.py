"""Booking a make-up (MKP-1…MKP-11, CRD-3, CRD-4, BAL-2…BAL-6, FRN-1…FRN-5): the one entry
point for a place at the family's own school or at a partner branch.

The service holds every rule of who may act, not only the pages: a portal booking needs the
family's own parent with a confirmed login (MKP-9), a staff booking a member of the credit's
company (MKP-11), a booking from a watch the watch's parent (BEY-2); the session must be of
the credit's company or an approved partner's (FRN-1); a family acting on its own is held by
the balance gate, staff get past it (BAL-4, BAL-6). So a new entry point (an API, a task, an
SMS reply) can't skip one. Capacity is protected by the session lock (MKP-8,
:mod:`makeups.services.capacity`).
"""

from contextlib import nullcontext
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from bookings.models import MakeupBooking
from bookings.selectors.account import BalanceGate, balance_gate
from bookings.services import check_portal_parent
from credits.models import MakeupCredit, SessionWatch
from credits.services import credit_spend
from makeup import outbox
from makeup.errors import DomainError
from makeup.shapes import Shape
from makeup.tenancy import membership_of
from programmes.models import Session

from .. import hooks
from ..selectors.eligibility import (
    PORTAL_ONLY_RULES,
    Check,
    evaluate,
    session_company_allowed,
)
from .capacity import lock_session


def balance_refusal(
    gate: BalanceGate, *, watching: bool = False, moving: bool = False
) -> DomainError:
    """BAL-3, BAL-6: why a family blocked by the balance gate can't book, watch or move a
    make-up itself."""
    values = {"currency": gate.currency, "amount": f"{gate.due:.2f}", "days": gate.days}
    if moving:
        text = _(
            "Your account has {currency} {amount} due from the last {days} days: please pay "
            "it before moving a make-up, or ask us to move it for you."
        )
    elif watching:
        text = _(
            "Your account has {currency} {amount} due from the last {days} days: please pay "
            "it before watching a full session."
        )
    else:
        text = _(
            "Your account has {currency} {amount} due from the last {days} days: please pay "
            "it before booking a make-up, or ask us to book it for you."
        )
    return DomainError(text.format(**values), code="balance_due")


def _check_session_company(*, credit: MakeupCredit, company_id: int) -> None:
    """A credit is spent only at its own company or an approved partner (FRN-1, FRN-5),
    whoever books: staff pages offer their own company's sessions, but the service holds it."""
    if not session_company_allowed(credit=credit, company_id=company_id):
        raise DomainError(
            _(
                "This session belongs to a company that is not linked with the family's "
                "school: the credit can't be used there."
            ),
            code="not_partner",
        )


def host_side(*, credit: MakeupCredit, company_id: int):
    """The scope a make-up of ``credit`` at a session of ``company_id`` is booked in: the
    family's own company as it is, an approved partner's with scoping lifted (FRN-5) — the
    booking reads and writes only the session, its counts and the credit, by id. Any other
    company is refused first (FRN-1)."""
    _check_session_company(credit=credit, company_id=company_id)
    return nullcontext() if company_id == credit.company_id else scopes_disabled()


def booking_actor(
    *, source: str, actor, watch: SessionWatch | None, credit: MakeupCredit, session_id: int
):
    """Who may book, by source (MKP-9, MKP-11, BEY-2); returns the user the booking is
    recorded for.

    - ``portal``: ``actor`` is a parent of the student's family with their own login and a
      confirmed e-mail address (:func:`bookings.services.check_portal_parent`).
    - ``watch``: booked for the parent who started ``watch`` — this student's active watch of
      this session —, who must still be such a parent (``actor`` is not used).
    - ``staff``: ``actor`` is a member (staff, admin or owner) of the credit's company.

    The student is the one who holds the credit: the one who earned it, or the sibling it
    was given to (WAL-1) — of the same family either way.
    """
    student = credit.holder_student
    if source == MakeupBooking.Source.STAFF:
        if membership_of(actor, credit.company_id) is None:
            raise DomainError(
                _("Only staff of the family's school can book a make-up for it."),
                code="not_staff",
            )
        return actor
    if source == MakeupBooking.Source.PORTAL:
        check_portal_parent(family=student.family, user=actor)
        return actor
    if source == MakeupBooking.Source.WATCH:
        if (
            watch is None
            or watch.state != SessionWatch.State.ACTIVE
            or watch.session_id != session_id
            or watch.student_id != student.pk
        ):
            raise DomainError(
                _("Only an active watch of this session by this student can book it."),
                code="no_watch",
            )
        check_portal_parent(family=student.family, user=watch.created_by)
        return watch.created_by
    raise ValueError(f"Unknown booking source {source!r}")


def booking_checks(
    *,
    credit: MakeupCredit,
    session: Session,
    source: str,
    override_reason: str = "",
    now: datetime,
    moving: MakeupBooking | None = None,
) -> list[Check]:
    """Every rule of a make-up with ``credit`` on ``session`` (locked by the caller and
    annotated with its places): the one eligibility function's checks (MKP-1…MKP-7, CRD-4,
    FRN-1…FRN-5), then, for a family acting on its own (not ``staff``), the balance gate
    (BAL-3, BAL-6). Staff book past the portal-only rules (MKP-5) with an
    ``override_reason`` (MKP-11); capacity holds for everyone. ``moving``: the booked make-up
    ``credit`` is spent on, being moved to ``session`` (WAL-2). Raises :class:`DomainError`
    with the readable reasons (code ``full`` when only capacity fails); returns the
    portal-only checks the staff's reason booked past."""
    student = credit.holder_student  # WAL-1: who holds it spends it
    candidate = evaluate(
        student=student, credit=credit, sessions=[session], now=now, moving=moving
    )[0]
    failed = candidate.failed
    override_reason = override_reason.strip()
    if failed and source == MakeupBooking.Source.STAFF and override_reason:
        failed = [c for c in failed if c.rule not in PORTAL_ONLY_RULES]
    if failed:
        code = "full" if all(c.rule == "MKP-7" for c in failed) else "not_eligible"
        raise DomainError(" ".join(c.text for c in failed), code=code)
    if source != MakeupBooking.Source.STAFF:
        # The session's company, locked with its settings, is the family's at home.
        gate = balance_gate(family=student.family, now=now, company=session.company)
        if gate.blocked:
            raise balance_refusal(gate, moving=moving is not None)
    return [c for c in candidate.failed if c.rule in PORTAL_ONLY_RULES]


def override_text(reason: str, overridden: list[str]) -> str:
    """What a booking keeps of a staff override (MKP-11): the reason and the rules it
    booked past, or nothing when none was needed."""
    if not overridden:
        return ""
    return _("{reason} (overrode: {checks})").format(
        reason=reason.strip(), checks="; ".join(overridden)
    )[:200]


@transaction.atomic
def makeup_book(
    *,
    credit: MakeupCredit,
    session: Session,
    actor=None,
    note: str = "",
    family_message: str = "",
    source: str = MakeupBooking.Source.PORTAL,
    override_reason: str = "",
    watch: SessionWatch | None = None,
    now: datetime,
) -> MakeupBooking:
    """Spend ``credit`` on a place in ``session`` (MKP-1…MKP-11, CRD-3, CRD-4, BAL-2…BAL-6).

    Locks the session, re-runs every eligibility check with fresh counts, and refuses with
    the readable reasons. Who may book depends on ``source`` (see :func:`booking_actor`): the
    family's own confirmed parent in the portal, a watch the parent started, or staff of
    the credit's company. The session must be of the credit's company or an approved
    partner's. A family acting on its own (portal, watch) is held by the balance gate;
    staff get past it (BAL-4), and past portal-only rules (MKP-5) with an
    ``override_reason``, which is stored and shown; capacity holds for everyone (MKP-11).
    A booking from a watch marks the watch booked. At a partner branch the host's session
    is read and written with scoping lifted (:func:`host_side`). Moving a booked make-up to
    another session runs the same pieces (:func:`makeups.services.moving.makeup_move`).

    ``note`` is shown on the attendance list and the family page; the confirmation e-mail
    shows it back only to a parent who wrote it in the portal (a staff note stays internal).
    ``family_message`` is what staff want the e-mail to tell the family.
    """
    with host_side(credit=credit, company_id=session.company_id):
        return _book(
            credit=credit,
            session=session,
            actor=actor,
            note=note,
            family_message=family_message,
            source=source,
            override_reason=override_reason,
            watch=watch,
            now=now,
        )


def _book(
    *,
    credit: MakeupCredit,
    session: Session,
    actor,
    note: str,
    family_message: str,
    source: str,
    override_reason: str,
    watch: SessionWatch | None,
    now: datetime,
) -> MakeupBooking:
    locked = lock_session(session.pk, now=now)
    if locked.company_id != session.company_id:
        _check_session_company(credit=credit, company_id=locked.company_id)
    credit = _LOCKED_CREDIT.get(credit_id=credit.pk)
    if watch is not None:
        watch = SessionWatch.objects.select_for_update(of=("self",)).get(pk=watch.pk)
    booked_by = booking_actor(
        source=source, actor=actor, watch=watch, credit=credit, session_id=locked.pk
    )
    student = credit.holder.student  # WAL-1: who holds it spends it
    overridden = booking_checks(
        credit=credit, session=locked, source=source, override_reason=override_reason, now=now
    )
    booking = MakeupBooking.objects.create(
        company_id=locked.company_id,
        home_company_id=credit.company_id,
        session=locked,
        student=student,
        enrolment=credit.holder,
        note=note.strip()[:200],
        family_message=family_message.strip()[:300],
        source=source,
        override_reason=override_text(override_reason, [c.text for c in overridden]),
        booked_at=now,
        booked_by=booked_by,
    )
    credit_spend(credit=credit, session=locked, actor=booked_by, now=now)
    MakeupCredit.objects.filter(pk=credit.pk).update(booking=booking)
    if watch is not None:
        SessionWatch.objects.filter(pk=watch.pk).update(
            state=SessionWatch.State.BOOKED, booking=booking, ended_at=now
        )
    outbox.enqueue(
        "makeups.tasks.send_makeup_booked",
        booking.home_company_id,
        booking.pk,
        key=f"makeup-booked:{booking.pk}",
    )
    hooks.makeups_announce(event="booked", bookings=[booking], now=now)
    return booking


_LOCKED_CREDIT = Shape(
    lambda credit_id: (
        MakeupCredit.objects.filter(pk=credit_id)
        .select_for_update(of=("self",))
        .select_related(
            "enrolment__student__family", "enrolment__klass__programme", "holder__student__family"
        )
    )
)
