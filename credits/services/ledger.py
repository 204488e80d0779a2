"""The credit ledger (CRD-1…CRD-4, POL-3, POL-4, POL-8, WAL-2): a credit's validity, its issue
with its history, spending it on a make-up, moving that make-up, giving it back, and manual
credits. Every change of state writes its history row (CRD-2)."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from bookings.models import Attendance, Enrolment
from makeup import outbox
from makeup.datacache import data_changed
from makeup.errors import DomainError
from makeup.formats import local_datetime
from makeup.shapes import Shape
from programmes.models import Session

from .. import hooks
from ..models import (
    CancellationPolicy,
    CreditEvent,
    CreditPath,
    CreditState,
    MakeupCredit,
    ValidityKind,
    ValidityStart,
)
from ..selectors.policies import is_on_time, policy_for


def _end_of_day(day: date, tz) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def credit_expiry(
    *,
    policy: CancellationPolicy,
    path: str,
    session: Session,
    cancelled_at: datetime | None,
    issued_at: datetime,
) -> datetime | None:
    """POL-3/POL-4: a number of days (wall-clock days in the company's zone, from the
    cancellation or the lesson's start for client paths, from issue for the staff path), the
    end of the class's term, or open-ended (``None``)."""
    kind, days = {
        CreditPath.ON_TIME: (policy.on_time_validity, policy.on_time_validity_days),
        CreditPath.LATE: (policy.late_validity, policy.late_validity_days),
        CreditPath.STAFF: (policy.staff_validity, policy.staff_validity_days),
    }[path]
    tz = session.company.tzinfo
    if kind == ValidityKind.OPEN or (kind == ValidityKind.DAYS and not days):
        return None
    if kind == ValidityKind.TERM_END:
        return _end_of_day(session.klass.end_date, tz)
    if path == CreditPath.STAFF:
        start = issued_at
    else:
        start_kind = (
            policy.on_time_validity_start
            if path == CreditPath.ON_TIME
            else policy.late_validity_start
        )
        start = session.starts_at if start_kind == ValidityStart.SESSION else cancelled_at
    return (start.astimezone(tz) + timedelta(days=days)).astimezone(UTC)


def record_event(
    credit: MakeupCredit,
    *,
    kind: str,
    from_state: str,
    to_state: str,
    at,
    actor,
    note: str = "",
    from_enrolment: Enrolment | None = None,
    to_enrolment: Enrolment | None = None,
) -> CreditEvent:
    """Write one row of a credit's history (CRD-2); a transfer names both sides (WAL-1)."""
    return CreditEvent.objects.create(
        company_id=credit.company_id,
        credit=credit,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        at=at,
        actor=actor,
        note=note[:300],
        from_enrolment=from_enrolment,
        to_enrolment=to_enrolment,
    )


def transition(credit: MakeupCredit, *, to: str, kind: str, at, actor, note: str = "") -> None:
    """Move a credit to another state and write the history row for it (CRD-2)."""
    previous = credit.state
    credit.state, credit.state_changed_at = to, at
    credit.save(update_fields=["state", "state_changed_at"])
    record_event(credit, kind=kind, from_state=previous, to_state=to, at=at, actor=actor, note=note)


def format_moment(moment: datetime | None, tz) -> str:
    """An instant as the credit messages write it, in the zone ``tz``; "open-ended" for none."""
    if not moment:
        return _("open-ended")
    return local_datetime(moment, tz, "DAY_YEAR_TIME_FORMAT")


def create_credit(*, expires_at, now, actor, note: str, **fields) -> MakeupCredit:
    """Issue a credit with its history row (CRD-2) and queue the "credit issued" e-mail
    (CRD-5). A validity that had already run out (POL-4) expires it at once, unannounced.
    Runs inside the caller's transaction."""
    credit = MakeupCredit.objects.create(
        expires_at=expires_at, issued_at=now, state_changed_at=now, created_by=actor, **fields
    )
    record_event(
        credit,
        kind=CreditEvent.Kind.ISSUED,
        from_state="",
        to_state=CreditState.AVAILABLE,
        at=now,
        actor=actor,
        note=note,
    )
    if expires_at is not None and expires_at <= now:
        transition(
            credit,
            to=CreditState.EXPIRED,
            kind=CreditEvent.Kind.EXPIRED,
            at=now,
            actor=None,
            note=_("Its validity had already run out when it was issued."),
        )
    else:
        outbox.enqueue(
            "credits.tasks.send_credit_issued",
            credit.company_id,
            credit.pk,
            key=f"credit-issued:{credit.pk}",
        )
        hooks.credits_announce(event="issued", credit_ids=[credit.pk], now=now)
    return credit


def create_credits(
    *, items: Sequence[tuple[Attendance, datetime | None, str]], path: str, now, actor
) -> list[MakeupCredit]:
    """:func:`create_credit` for many attendances at once (the school cancelling whole
    sessions: ATT-7, CLO-3), each ``(attendance, expires_at, note)``: the credits, their
    "issued" history rows (CRD-2) and their "credit issued" e-mails (CRD-5) in three
    statements. Only for a validity still running at ``now`` (or open-ended): a credit
    expired on issue goes through :func:`create_credit`, which records that. Runs inside the
    caller's transaction."""
    if any(expires_at is not None and expires_at <= now for _a, expires_at, _n in items):
        raise ValueError("create_credits() issues only credits that are still valid.")
    if not items:
        return []
    credits = MakeupCredit.objects.bulk_create(
        [
            MakeupCredit(
                company_id=attendance.company_id,
                enrolment_id=attendance.enrolment_id,
                path=path,
                attendance=attendance,
                cancelled_at=attendance.cancelled_at,
                expires_at=expires_at,
                issued_at=now,
                state=CreditState.AVAILABLE,
                state_changed_at=now,
                created_by=actor,
            )
            for attendance, expires_at, _note in items
        ]
    )
    CreditEvent.objects.bulk_create(
        [
            CreditEvent(
                company_id=credit.company_id,
                credit=credit,
                kind=CreditEvent.Kind.ISSUED,
                from_state="",
                to_state=CreditState.AVAILABLE,
                at=now,
                actor=actor,
                note=note[:300],
            )
            for credit, (_attendance, _expiry, note) in zip(credits, items, strict=True)
        ]
    )
    outbox.enqueue_many(
        "credits.tasks.send_credit_issued",
        [(f"credit-issued:{credit.pk}", (credit.company_id, credit.pk)) for credit in credits],
    )
    hooks.credits_announce(event="issued", credit_ids=[credit.pk for credit in credits], now=now)
    data_changed(*{credit.company_id for credit in credits})
    return credits


@transaction.atomic
def credit_add_manual(
    *,
    enrolment: Enrolment,
    reason: str,
    actor,
    valid_days: int | None = None,
    now: datetime,
) -> MakeupCredit:
    """POL-8: an admin adds a credit by hand, with a reason; caps don't apply. Valid for
    ``valid_days`` from now (wall-clock days in the company's zone), or open-ended."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Say why the credit is added (the family and your team see it)."))
    if valid_days is not None and valid_days < 1:
        raise DomainError(_("Validity must be at least one day, or empty for open-ended."))
    tz = enrolment.company.tzinfo
    expires_at = (
        (now.astimezone(tz) + timedelta(days=valid_days)).astimezone(UTC) if valid_days else None
    )
    return create_credit(
        company_id=enrolment.company_id,
        enrolment_id=enrolment.pk,
        path=CreditPath.MANUAL,
        reason=reason[:200],
        expires_at=expires_at,
        now=now,
        actor=actor,
        note=reason,
    )


@transaction.atomic
def credit_spend(
    *, credit: MakeupCredit, session: Session, actor=None, now: datetime
) -> MakeupCredit:
    """CRD-3: spend a credit on a make-up session (available → used).

    CRD-4: a credit past its expiry can never be spent, whether or not the sweep has run,
    and the make-up must start no later than the credit's expiry.
    """
    credit = _LOCKED.get(credit_id=credit.pk)
    tz = session.company.tzinfo
    if credit.state != CreditState.AVAILABLE:
        raise DomainError(
            _("This credit is {state}: it can't be used.").format(
                state=credit.get_state_display().lower()
            ),
            code="credit_unavailable",
        )
    if credit.expires_at is not None and credit.expires_at <= now:
        raise DomainError(
            _("This credit expired on {date}.").format(date=format_moment(credit.expires_at, tz)),
            code="credit_expired",
        )
    if credit.expires_at is not None and session.starts_at > credit.expires_at:
        raise DomainError(
            _(
                "This credit is valid for lessons starting by {expiry}; this one starts {start}."
            ).format(
                expiry=format_moment(credit.expires_at, tz),
                start=format_moment(session.starts_at, tz),
            ),
            code="after_expiry",
        )
    transition(
        credit,
        to=CreditState.USED,
        kind=CreditEvent.Kind.USED,
        at=now,
        actor=actor,
        note=_("Make-up: {klass}, {date}").format(
            klass=session.klass.name, date=format_moment(session.starts_at, tz)
        ),
    )
    return credit


@transaction.atomic
def credit_return(
    *,
    credit: MakeupCredit,
    session: Session,
    cancelled_at: datetime,
    actor=None,
    now: datetime,
) -> bool:
    """CRD-3: the make-up booked with ``credit`` on ``session`` is cancelled. On time by the
    host programme's policy, the credit is available again with its original expiry (expired
    at once if that has passed meanwhile); late, it stays used. Returns whether it came back.
    """
    credit = _LOCKED.get(credit_id=credit.pk)
    if credit.state != CreditState.USED:
        raise DomainError(_("Only a used credit can be returned."))
    host_policy = policy_for(session.klass.programme)
    if not is_on_time(policy=host_policy, session=session, cancelled_at=cancelled_at):
        return False
    _give_back(
        credit,
        actor=actor,
        now=now,
        note=_("Make-up cancelled on time: {klass}").format(klass=session.klass.name),
    )
    return True


@transaction.atomic
def credit_move(
    *,
    credit: MakeupCredit,
    from_session: Session,
    to_session: Session,
    actor=None,
    now: datetime,
    note: str = "",
) -> CreditEvent:
    """WAL-2: the make-up ``credit`` is spent on moves from ``from_session`` to
    ``to_session``. The credit stays used — it is never free in between, so nobody else can
    spend it and no cap or expiry sweep sees it available — and its history gets a ``moved``
    row with who, when, from where and to where (CRD-2). CRD-4 holds for the new session: it
    must start no later than the credit's expiry. ``note`` adds to the history row (staff's
    reason for a move past a portal-only rule)."""
    credit = _LOCKED.get(credit_id=credit.pk)
    if credit.state != CreditState.USED:
        raise DomainError(
            _("This credit is {state}: only a credit spent on a make-up moves with it.").format(
                state=credit.get_state_display().lower()
            ),
            code="credit_unavailable",
        )
    tz = to_session.company.tzinfo
    if credit.expires_at is not None and to_session.starts_at > credit.expires_at:
        raise DomainError(
            _(
                "This credit is valid for lessons starting by {expiry}; this one starts {start}."
            ).format(
                expiry=format_moment(credit.expires_at, tz),
                start=format_moment(to_session.starts_at, tz),
            ),
            code="after_expiry",
        )
    text = _("Moved: {old_klass}, {old_date} → {new_klass}, {new_date}").format(
        old_klass=from_session.klass.name,
        old_date=format_moment(from_session.starts_at, from_session.company.tzinfo),
        new_klass=to_session.klass.name,
        new_date=format_moment(to_session.starts_at, tz),
    )
    return record_event(
        credit,
        kind=CreditEvent.Kind.MOVED,
        from_state=CreditState.USED,
        to_state=CreditState.USED,
        at=now,
        actor=actor,
        note=f"{text} ({note})" if note else text,
    )


def _give_back(credit: MakeupCredit, *, actor, now: datetime, note: str) -> None:
    """A used credit is available again with its original expiry — expired at once if that
    has passed meanwhile — and no longer tied to the make-up it was spent on."""
    transition(
        credit,
        to=CreditState.AVAILABLE,
        kind=CreditEvent.Kind.RETURNED,
        at=now,
        actor=actor,
        note=note[:300],
    )
    MakeupCredit.objects.filter(pk=credit.pk).update(booking=None)
    if credit.expires_at is not None and credit.expires_at <= now:
        transition(
            credit,
            to=CreditState.EXPIRED,
            kind=CreditEvent.Kind.EXPIRED,
            at=now,
            actor=None,
            note=_("Returned after its expiry."),
        )


@transaction.atomic
def credit_reinstate(*, credit: MakeupCredit, actor, now: datetime, note: str) -> MakeupCredit:
    """Give a used credit back whatever the timing, because the school cancelled the make-up
    (its original expiry stays; expired at once if that has passed)."""
    credit = _LOCKED.get(credit_id=credit.pk)
    if credit.state == CreditState.USED:
        _give_back(credit, actor=actor, now=now, note=note)
    return credit


def credits_reinstate_many(
    *, credit_ids: Sequence[int], actor, now: datetime, note: str
) -> list[MakeupCredit]:
    """:func:`credit_reinstate` for many credits at once (the school cancelling the sessions
    their make-ups were booked in: ATT-7, CLO-7): each used one is available again with its
    original expiry, no longer tied to its make-up, with its history row (CRD-2) — expired
    at once if that has passed. A fixed number of statements. Runs inside the caller's
    transaction, in a scope that can read the credits (a partner's guests: FRN-5)."""
    credits = list(
        MakeupCredit.objects.select_for_update().filter(
            pk__in=list(credit_ids), state=CreditState.USED
        )
    )
    if not credits:
        return []
    ids = [credit.pk for credit in credits]
    MakeupCredit.objects.filter(pk__in=ids).update(
        state=CreditState.AVAILABLE, state_changed_at=now, booking=None
    )
    events = [
        CreditEvent(
            company_id=credit.company_id,
            credit=credit,
            kind=CreditEvent.Kind.RETURNED,
            from_state=CreditState.USED,
            to_state=CreditState.AVAILABLE,
            at=now,
            actor=actor,
            note=note[:300],
        )
        for credit in credits
    ]
    expired = [c for c in credits if c.expires_at is not None and c.expires_at <= now]
    if expired:
        MakeupCredit.objects.filter(pk__in=[c.pk for c in expired]).update(
            state=CreditState.EXPIRED
        )
        events += [
            CreditEvent(
                company_id=credit.company_id,
                credit=credit,
                kind=CreditEvent.Kind.EXPIRED,
                from_state=CreditState.AVAILABLE,
                to_state=CreditState.EXPIRED,
                at=now,
                actor=None,
                note=_("Returned after its expiry."),
            )
            for credit in expired
        ]
    CreditEvent.objects.bulk_create(events)
    for credit in credits:
        credit.state, credit.state_changed_at, credit.booking = CreditState.AVAILABLE, now, None
    for credit in expired:
        credit.state = CreditState.EXPIRED
    data_changed(*{credit.company_id for credit in credits})
    return credits


@transaction.atomic
def credit_revoke(*, credit: MakeupCredit, actor, now: datetime, note: str) -> MakeupCredit:
    """Withdraw a credit that was never spent (available, or expired unused), because what
    earned it no longer stands: an attendance corrected (ATT-5) or a parent's "Can't come"
    undone (DAY-5). The history keeps who, when and why (CRD-2). A spent credit is never
    taken back this way: refused — nor one given to a sibling (WAL-1), which is treated as
    spent: it is the sibling's now."""
    credit = _LOCKED.get(credit_id=credit.pk)
    if credit.is_transferred:
        raise DomainError(
            _("This credit was given to a brother or sister: it can't be withdrawn."),
            code="credit_transferred",
        )
    if credit.state not in (CreditState.AVAILABLE, CreditState.EXPIRED):
        raise DomainError(
            _("This credit is {state}: it can't be withdrawn.").format(
                state=credit.get_state_display().lower()
            ),
            code="credit_unavailable",
        )
    transition(
        credit,
        to=CreditState.REVOKED,
        kind=CreditEvent.Kind.REVOKED,
        at=now,
        actor=actor,
        note=note,
    )
    return credit


_LOCKED = Shape(lambda credit_id: MakeupCredit.objects.filter(pk=credit_id).select_for_update())
