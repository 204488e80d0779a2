"""Booking and cancelling make-ups (MKP-6…MKP-11, CRD-3), and watching full sessions (BEY-2).

The services hold every rule of who may act, not only the pages: a portal booking and a
watch need the family's own parent with a confirmed login (MKP-9), a staff booking a member
of the credit's company (MKP-11), the session must be of the credit's company or an approved
partner's (FRN-1), and a family acting on its own — booking in the portal, starting a watch,
being booked from a watch — is held by the balance gate; only staff get past it (BAL-4,
BAL-6). So a new entry point (an API, a task, an SMS reply) can't skip one.

Capacity is protected by locking the session row before counting (MKP-8): every booking of
a session serialises on that lock, so two families racing for the last place get one
booking and one clear refusal. On PostgreSQL the wait is bounded by a lock timeout, which
becomes "busy, please try again".
"""

from contextlib import nullcontext
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scopes_disabled

from bookings.models import (
    Attendance,
    AttendanceChange,
    AttendanceState,
    Enrolment,
    MakeupBooking,
    Student,
)
from bookings.selectors.account import BalanceGate, balance_gate
from bookings.services import attendance_set_state, check_portal_parent
from bookings.services.attendance import check_client_cancellation_time
from makeup import outbox
from makeup.errors import DomainError
from makeup.tenancy import membership_of
from programmes.models import Session

from .eligibility import PORTAL_ONLY_RULES, evaluate, session_company_allowed, with_occupancy
from .models import CreditState, MakeupCredit, SessionWatch
from .policy import cutoff_instant, policy_for
from .services import credit_reinstate, credit_return, credit_spend

LOCK_TIMEOUT = "5s"
MAX_WATCHES_PER_STUDENT = 2


def _lock_session(session_id: int) -> Session:
    """Lock the session row (the capacity lock); refuse politely if it stays busy."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("The session lock needs a transaction.")
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        Session.objects.select_for_update().filter(pk=session_id).values_list("pk").get()
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
            raise DomainError(
                _("This session is busy right now: please try again in a moment."), code="busy"
            ) from error
        raise
    return with_occupancy(Session.objects.filter(pk=session_id)).get()


def _guest_side(booking: MakeupBooking):
    """A guest from a partner branch spent a credit of their home company on this booking:
    the host's cancellation gives back exactly that credit (found by the booking), so its
    company's scope is lifted for it (FRN-5, CRD-3). Own-company guests stay in scope."""
    if booking.home_company_id == booking.company_id:
        return nullcontext()
    return scopes_disabled()


def _balance_refused(gate: BalanceGate, *, watching: bool = False) -> DomainError:
    """BAL-3, BAL-6: why a family blocked by the balance gate can't book or watch itself."""
    values = {"currency": gate.currency, "amount": f"{gate.due:.2f}", "days": gate.days}
    if watching:
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


def _booked_by(
    *, source: str, actor, watch: SessionWatch | None, credit: MakeupCredit, session_id: int
):
    """Who may book, by source (MKP-9, MKP-11, BEY-2); returns the user the booking is
    recorded for.

    - ``portal``: ``actor`` is a parent of the student's family with their own login and a
      confirmed e-mail address (:func:`bookings.services.check_portal_parent`).
    - ``watch``: booked for the parent who started ``watch`` — this student's active watch of
      this session —, who must still be such a parent (``actor`` is not used).
    - ``staff``: ``actor`` is a member (staff, admin or owner) of the credit's company.
    """
    student = credit.enrolment.student
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


@transaction.atomic
def makeup_book(
    *,
    credit: MakeupCredit,
    session: Session,
    actor=None,
    note: str = "",
    source: str = MakeupBooking.Source.PORTAL,
    override_reason: str = "",
    watch: SessionWatch | None = None,
    now: datetime,
) -> MakeupBooking:
    """Spend ``credit`` on a place in ``session`` (MKP-1…MKP-11, CRD-3, CRD-4, BAL-2…BAL-6).

    Locks the session, re-runs every eligibility check with fresh counts, and refuses with
    the readable reasons. Who may book depends on ``source`` (see :func:`_booked_by`): the
    family's own confirmed parent in the portal, a watch the parent started, or staff of
    the credit's company. The session must be of the credit's company or an approved
    partner's. A family acting on its own (portal, watch) is held by the balance gate;
    staff get past it (BAL-4), and past portal-only rules (MKP-5) with an
    ``override_reason``, which is stored and shown; capacity holds for everyone (MKP-11).
    A booking from a watch marks the watch booked.
    """
    _check_session_company(credit=credit, company_id=session.company_id)
    locked = _lock_session(session.pk)
    if locked.company_id != session.company_id:
        _check_session_company(credit=credit, company_id=locked.company_id)
    credit = (
        MakeupCredit.objects.select_for_update(of=("self",))
        .select_related("enrolment__student__family", "enrolment__klass__programme")
        .get(pk=credit.pk)
    )
    if watch is not None:
        watch = SessionWatch.objects.select_for_update(of=("self",)).get(pk=watch.pk)
    booked_by = _booked_by(
        source=source, actor=actor, watch=watch, credit=credit, session_id=locked.pk
    )
    student = credit.enrolment.student
    candidate = evaluate(student=student, credit=credit, sessions=[locked], now=now)[0]
    failed = candidate.failed
    override_reason = override_reason.strip()
    if failed and source == MakeupBooking.Source.STAFF and override_reason:
        failed = [c for c in failed if c.rule not in PORTAL_ONLY_RULES]
    if failed:
        code = "full" if all(c.rule == "MKP-7" for c in failed) else "not_eligible"
        raise DomainError(" ".join(c.text for c in failed), code=code)
    if source != MakeupBooking.Source.STAFF:
        gate = balance_gate(family=student.family, now=now)
        if gate.blocked:
            raise _balance_refused(gate)
    overridden = [c for c in candidate.failed if c.rule in PORTAL_ONLY_RULES]
    booking = MakeupBooking.objects.create(
        company_id=locked.company_id,
        home_company_id=credit.company_id,
        session=locked,
        student=student,
        enrolment=credit.enrolment,
        note=note.strip()[:200],
        source=source,
        override_reason=(
            _("{reason} (overrode: {checks})").format(
                reason=override_reason, checks="; ".join(c.text for c in overridden)
            )[:200]
            if overridden
            else ""
        ),
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
        "credits.tasks.send_makeup_booked",
        booking.home_company_id,
        booking.pk,
        key=f"makeup-booked:{booking.pk}",
    )
    return booking


@transaction.atomic
def makeup_cancel(
    *,
    booking: MakeupBooking,
    actor=None,
    now: datetime,
    cancelled_at: datetime | None = None,
) -> bool:
    """Cancel a make-up booking. On time by the host programme's policy the credit comes back
    with its original expiry; late, it stays used (CRD-3). The freed place goes to the first
    watcher in line at once (BEY-2). Returns whether the credit came back."""
    cancelled_at = cancelled_at or now
    locked = _lock_session(booking.session_id)
    check_client_cancellation_time(session=locked, cancelled_at=cancelled_at, now=now)
    booking = MakeupBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.state != MakeupBooking.State.BOOKED:
        raise DomainError(_("This make-up is already cancelled."))
    if locked.starts_at <= now:
        raise DomainError(_("This make-up has already started; staff record what happened."))
    returned = False
    with _guest_side(booking):
        credit = MakeupCredit.objects.filter(booking=booking, state=CreditState.USED).first()
        if credit is not None:
            returned = credit_return(
                credit=credit, session=locked, cancelled_at=cancelled_at, actor=actor, now=now
            )
    booking.state = MakeupBooking.State.CANCELLED
    booking.cancelled_at, booking.cancelled_by = cancelled_at, actor
    booking.cancelled_late = not returned
    booking.save(update_fields=["state", "cancelled_at", "cancelled_by", "cancelled_late"])
    watch_fill(session=locked, now=now)
    return returned


@transaction.atomic
def lesson_cancel_by_parent(*, enrolment, session: Session, actor, now: datetime):
    """A parent cancels an upcoming regular lesson in the portal: a client cancellation
    stamped now (ATT-3), on time or late by the policy (ATT-4), decided at once (POL-9).
    POL-11: where the policy refuses late portal cancellations, a late one is refused with
    the company's own instructions."""
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
        source=AttendanceChange.Source.PORTAL,
        now=now,
    )


def makeups_cancel_for_cancelled_session(
    *, session: Session, reason: str, actor, now: datetime
) -> int:
    """ATT-7 for make-up guests: the school cancelled the session, so every active make-up
    booking on it is cancelled and its credit comes back whatever the time (the family did
    nothing late). Watches of the session end. Runs inside the session-cancel transaction."""
    count = 0
    bookings = MakeupBooking.objects.select_for_update().filter(
        session_id=session.pk, state=MakeupBooking.State.BOOKED
    )
    for booking in bookings:
        booking.state, booking.cancelled_at, booking.cancelled_by = (
            MakeupBooking.State.CANCELLED,
            now,
            actor,
        )
        booking.save(update_fields=["state", "cancelled_at", "cancelled_by"])
        with _guest_side(booking):
            for credit in MakeupCredit.objects.filter(booking=booking, state=CreditState.USED):
                credit_reinstate(
                    credit=credit,
                    actor=actor,
                    now=now,
                    note=_("The school cancelled the make-up session: {reason}").format(
                        reason=reason
                    ),
                )
        count += 1
    for watch in SessionWatch.objects.filter(
        session_id=session.pk, state=SessionWatch.State.ACTIVE
    ):
        watch_end(watch=watch, reason=_("The school cancelled the session."), now=now)
    return count


# --- BEY-2: watching a full session -------------------------------------------------------


@transaction.atomic
def watch_create(
    *, credit: MakeupCredit, session: Session, actor=None, now: datetime
) -> SessionWatch:
    """Watch a full session with a chosen credit (at most two watches per student). Only a
    session that fails on capacity alone can be watched.

    A watch is the family acting on its own: ``actor`` must be a parent of the student's
    family with their own confirmed login (MKP-9; the place is later booked for them), and
    a family blocked by the balance gate can't start one (BAL-6). Staff don't watch for a
    family: they book a make-up for it directly."""
    locked = _lock_session(session.pk)
    credit = MakeupCredit.objects.select_related(
        "enrolment__student__family", "enrolment__klass__programme"
    ).get(pk=credit.pk)
    student = credit.enrolment.student
    check_portal_parent(family=student.family, user=actor)
    candidate = evaluate(student=student, credit=credit, sessions=[locked], now=now)[0]
    if candidate.bookable:
        raise DomainError(_("There is a free place: book it instead of watching."))
    if not candidate.only_full:
        raise DomainError(" ".join(candidate.reasons))
    active = SessionWatch.objects.filter(student=student, state=SessionWatch.State.ACTIVE)
    if active.filter(session=locked).exists():
        raise DomainError(
            _("{name} is already watching this session.").format(name=student.first_name)
        )
    if active.count() >= MAX_WATCHES_PER_STUDENT:
        raise DomainError(
            ngettext(
                "{name} already watches {count} session: stop one first.",
                "{name} already watches {count} sessions: stop one first.",
                MAX_WATCHES_PER_STUDENT,
            ).format(name=student.first_name, count=MAX_WATCHES_PER_STUDENT)
        )
    gate = balance_gate(family=student.family, now=now)
    if gate.blocked:
        raise _balance_refused(gate, watching=True)
    return SessionWatch.objects.create(
        company_id=locked.company_id,
        session=locked,
        student=student,
        credit=credit,
        created_at=now,
        created_by=actor,
    )


@transaction.atomic
def watch_end(*, watch: SessionWatch, reason: str, now: datetime) -> SessionWatch:
    watch = SessionWatch.objects.select_for_update().get(pk=watch.pk)
    if watch.state == SessionWatch.State.ACTIVE:
        watch.state, watch.ended_at = SessionWatch.State.ENDED, now
        watch.end_reason = reason[:200]
        watch.save(update_fields=["state", "ended_at", "end_reason"])
    return watch


def _watch_credits(watch: SessionWatch, now: datetime) -> list[MakeupCredit]:
    """The watcher's usable credits for the watched programme, soonest-expiring first (the
    chosen credit first among equals); open-ended credits last."""
    credits = list(
        MakeupCredit.objects.usable(now)
        .filter(
            enrolment__student_id=watch.student_id,
            enrolment__klass__programme_id=watch.credit.enrolment.klass.programme_id,
        )
        .select_related("enrolment__student", "enrolment__klass__programme")
    )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    credits.sort(key=lambda c: (c.expires_at or far, c.pk != watch.credit_id, c.pk))
    return credits


def watch_fill(*, session: Session, now: datetime) -> list[MakeupBooking]:
    """A place may have freed in ``session``: book watchers in line (oldest watch first)
    while places are left, inside the caller's transaction and the session lock, each with
    their soonest-expiring credit that fits (BEY-2). A watch ends when none of the watcher's
    credits can be used for the session any more (all spent or expired, or the session has
    started), or when the parent who started it can no longer book for the family (MKP-9); a
    watcher not eligible for another reason keeps their place in line. A watcher whose
    family is blocked by the balance gate at ``now`` is passed over for this place — their
    watch stays, the family is told why (once) — and the place goes to the next (BAL-6)."""
    booked: list[MakeupBooking] = []
    watches = list(
        SessionWatch.objects.filter(session_id=session.pk, state=SessionWatch.State.ACTIVE)
        .select_related(
            "credit__enrolment__student__family", "credit__enrolment__klass", "created_by"
        )
        .order_by("created_at", "pk")
    )
    for watch in watches:
        fresh = with_occupancy(Session.objects.filter(pk=session.pk)).get()
        student: Student = watch.credit.enrolment.student
        credits = _watch_credits(watch, now)
        if not credits or fresh.starts_at <= now:
            reason = (
                _("The session has started.")
                if credits
                else _(
                    "No make-up credit of this programme can be used any more (spent or expired)."
                )
            )
            watch_end(watch=watch, reason=reason, now=now)
            continue
        chosen = None
        for credit in credits:
            candidate = evaluate(student=student, credit=credit, sessions=[fresh], now=now)[0]
            if candidate.bookable:
                chosen = credit
                break
            if candidate.only_full:
                break
        if chosen is None:
            if candidate.only_full:
                break  # no place left: the rest of the line waits
            if all(c.rule in ("CRD-4", "MKP-6") for c in candidate.failed):
                watch_end(watch=watch, reason=candidate.failed[0].text, now=now)
            continue
        # A place is free for this watcher. It is booked for the parent who started the
        # watch, who must still be a confirmed parent of the family (MKP-9)…
        try:
            check_portal_parent(family=student.family, user=watch.created_by)
        except DomainError:
            watch_end(
                watch=watch,
                reason=_("The parent who started this watch can no longer book for the family."),
                now=now,
            )
            continue
        # …and, the family acting on its own, the balance gate holds (BAL-6): a blocked
        # family is passed over for this place (its watch stays) and told why, once.
        gate = balance_gate(family=student.family, now=now)
        if gate.blocked:
            _tell_skipped_for_balance(watch=watch, gate=gate)
            continue
        booking = makeup_book(
            credit=chosen,
            session=fresh,
            source=MakeupBooking.Source.WATCH,
            watch=watch,
            note=_("Booked automatically from the watch list"),
            now=now,
        )
        booked.append(booking)
    return booked


def _tell_skipped_for_balance(*, watch: SessionWatch, gate: BalanceGate) -> None:
    """BAL-6: e-mail the family (through the outbox, after the commit) that a place freed
    but went to the next in line because of the amount due — once per watch, however many
    places pass them by."""
    outbox.enqueue(
        "credits.tasks.send_watch_skipped_for_balance",
        watch.credit.company_id,
        watch.pk,
        f"{gate.due:.2f}",
        key=f"watch-skipped-balance:{watch.pk}",
    )
