"""The credit engine: the decision chain for every cancellation (POL-1…POL-10), manual
credits (POL-8) and the credit ledger (CRD-1, CRD-2)."""

from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from bookings.models import Attendance, AttendanceState, Enrolment
from makeup import outbox
from makeup.audit import audit_record
from makeup.errors import DomainError
from makeup.formats import local_datetime
from makeup.models import AuditEntry
from programmes.models import Session

from .models import (
    CLIENT_PATHS,
    LIVE_CREDIT_STATES,
    CancellationPolicy,
    CreditDecision,
    CreditEvent,
    CreditPath,
    CreditState,
    DecisionReason,
    MakeupCredit,
    PolicyMode,
    ValidityKind,
    ValidityStart,
    WeeklyCutoff,
)
from .policy import cutoff_instant, is_on_time, policy_for

PATH_FOR_STATE = {
    AttendanceState.CANCELLED: CreditPath.ON_TIME,
    AttendanceState.LATE_CANCELLED: CreditPath.LATE,
    AttendanceState.STAFF_CANCELLED: CreditPath.STAFF,
}


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


def _event(
    credit: MakeupCredit, *, kind: str, from_state: str, to_state: str, at, actor, note: str = ""
) -> CreditEvent:
    return CreditEvent.objects.create(
        company_id=credit.company_id,
        credit=credit,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        at=at,
        actor=actor,
        note=note[:300],
    )


def _transition(credit: MakeupCredit, *, to: str, kind: str, at, actor, note: str = "") -> None:
    """Move a credit to another state and write the history row for it (CRD-2)."""
    previous = credit.state
    credit.state, credit.state_changed_at = to, at
    credit.save(update_fields=["state", "state_changed_at"])
    _event(credit, kind=kind, from_state=previous, to_state=to, at=at, actor=actor, note=note)


def _decision(
    attendance: Attendance,
    *,
    path: str,
    reason: str,
    message: str,
    now,
    actor,
    figures: dict | None = None,
    credit: MakeupCredit | None = None,
    needs_attention: bool = False,
) -> CreditDecision:
    return CreditDecision.objects.create(
        company_id=attendance.company_id,
        attendance=attendance,
        attendance_state=attendance.state,
        cancelled_at=attendance.cancelled_at,
        path=path,
        reason=reason,
        figures=figures or {},
        message=message[:300],
        credit=credit,
        decided_at=now,
        actor=actor,
        needs_attention=needs_attention,
    )


def _fmt(moment: datetime | None, tz) -> str:
    if not moment:
        return _("open-ended")
    return local_datetime(moment, tz, "j M Y H:i")


def _create_credit(*, expires_at, now, actor, note: str, **fields) -> MakeupCredit:
    """Issue a credit with its history row (CRD-2) and queue the "credit issued" e-mail
    (CRD-5). A validity that had already run out (POL-4) expires it at once, unannounced."""
    credit = MakeupCredit.objects.create(
        expires_at=expires_at, issued_at=now, state_changed_at=now, created_by=actor, **fields
    )
    _event(
        credit,
        kind=CreditEvent.Kind.ISSUED,
        from_state="",
        to_state=CreditState.AVAILABLE,
        at=now,
        actor=actor,
        note=note,
    )
    if expires_at is not None and expires_at <= now:
        _transition(
            credit,
            to=CreditState.EXPIRED,
            kind=CreditEvent.Kind.EXPIRED,
            at=now,
            actor=None,
            note=_("Its validity had already run out when it was issued (POL-4)."),
        )
    else:
        outbox.enqueue(
            "credits.tasks.send_credit_issued",
            credit.company_id,
            credit.pk,
            key=f"credit-issued:{credit.pk}",
        )
    return credit


def _issue(
    attendance: Attendance, *, path: str, policy: CancellationPolicy, now, actor, figures: dict
) -> CreditDecision:
    session = attendance.session
    expires_at = credit_expiry(
        policy=policy,
        path=path,
        session=session,
        cancelled_at=attendance.cancelled_at,
        issued_at=now,
    )
    credit = _create_credit(
        company_id=attendance.company_id,
        enrolment_id=attendance.enrolment_id,
        path=path,
        attendance=attendance,
        cancelled_at=attendance.cancelled_at,
        expires_at=expires_at,
        now=now,
        actor=actor,
        note=_("{path}, lesson of {date}").format(
            path=CreditPath(path).label, date=date_format(session.local_date, "j M Y")
        ),
    )
    tz = session.company.tzinfo
    figures = {**figures, "expires_at": expires_at.isoformat() if expires_at else None}
    decision = _decision(
        attendance,
        path=path,
        reason=DecisionReason.ISSUED,
        now=now,
        actor=actor,
        figures=figures,
        credit=credit,
        message=_("Credit issued ({path}), valid until {date}.").format(
            path=CreditPath(path).label.lower(), date=_fmt(expires_at, tz)
        ),
    )
    return decision


def _correct_away(attendance: Attendance, live: MakeupCredit, *, now, actor) -> CreditDecision:
    """ATT-5: the state no longer earns ``live``. Revoke it while unused; a spent credit is
    never taken back silently — the decision is flagged for an admin instead."""
    new_state = str(AttendanceState(attendance.state).label)
    if live.state == CreditState.USED:
        return _decision(
            attendance,
            path=live.path,
            reason=DecisionReason.SPENT_CONFLICT,
            now=now,
            actor=actor,
            credit=live,
            needs_attention=True,
            message=_(
                "Corrected to “{state}”, but credit #{pk} was already used for a make-up: it "
                "stays used. Review with the family."
            ).format(state=new_state, pk=live.pk),
        )
    _transition(
        live,
        to=CreditState.REVOKED,
        kind=CreditEvent.Kind.REVOKED,
        at=now,
        actor=actor,
        note=_("Attendance corrected to “{state}”.").format(state=new_state),
    )
    return _decision(
        attendance,
        path=live.path,
        reason=DecisionReason.REVOKED,
        now=now,
        actor=actor,
        credit=live,
        message=_("Credit #{pk} revoked: the attendance was corrected to “{state}”.").format(
            pk=live.pk, state=new_state
        ),
    )


def _refusal(attendance, *, path, policy, now, actor, figures: dict) -> CreditDecision | None:
    """The chain's refusals in order (POL-7, POL-2, POL-5, POL-6), or None to issue.
    ``figures`` collects what each step saw (cut-off, caps), for the decision's receipt."""
    programme = attendance.session.klass.programme
    tz = attendance.session.company.tzinfo
    if path in CLIENT_PATHS:
        figures["cutoff"] = cutoff_instant(policy, attendance.session).isoformat()
    if not programme.makeups_enabled:
        return _decision(
            attendance,
            path=path,
            reason=DecisionReason.MAKEUPS_DISABLED,
            now=now,
            actor=actor,
            message=_("No credit: make-up sessions are off for {programme}.").format(
                programme=programme.name
            ),
        )
    issues = {
        CreditPath.ON_TIME: policy.issue_on_time,
        CreditPath.LATE: policy.issue_late,
        CreditPath.STAFF: policy.issue_staff,
    }[path]
    if not issues:
        if path == CreditPath.LATE:
            cutoff = datetime.fromisoformat(figures["cutoff"])
            return _decision(
                attendance,
                path=path,
                reason=DecisionReason.LATE_FORFEITED,
                now=now,
                actor=actor,
                figures=figures,
                message=_("No credit: cancelled after the cut-off ({date}).").format(
                    date=_fmt(cutoff, tz)
                ),
            )
        return _decision(
            attendance,
            path=path,
            reason=DecisionReason.PATH_FORFEITED,
            now=now,
            actor=actor,
            message=_("No credit: the policy issues none when {path}.").format(
                path=CreditPath(path).label.lower()
            ),
        )
    if path not in CLIENT_PATHS:
        return None
    credits = MakeupCredit.objects.filter(enrolment_id=attendance.enrolment_id)
    cap = (
        policy.on_time_outstanding_cap
        if path == CreditPath.ON_TIME
        else policy.late_outstanding_cap
    )
    if cap is not None:
        outstanding = credits.filter(path=path, state=CreditState.AVAILABLE).count()
        figures.update(outstanding=outstanding, cap=cap)
        if outstanding >= cap:
            return _decision(
                attendance,
                path=path,
                reason=DecisionReason.OUTSTANDING_CAP,
                now=now,
                actor=actor,
                figures=figures,
                message=(
                    _("No credit: {outstanding} of {cap} unused on-time credits already.")
                    if path == CreditPath.ON_TIME
                    else _("No credit: {outstanding} of {cap} unused late credits already.")
                ).format(outstanding=outstanding, cap=cap),
            )
    if policy.window_credits is not None and policy.window_days:
        since = attendance.cancelled_at - timedelta(days=policy.window_days)
        in_window = credits.filter(
            path__in=CLIENT_PATHS,
            state__in=LIVE_CREDIT_STATES,
            cancelled_at__gt=since,
            cancelled_at__lte=attendance.cancelled_at,
        ).count()
        figures.update(count=in_window, limit=policy.window_credits, days=policy.window_days)
        if in_window >= policy.window_credits:
            return _decision(
                attendance,
                path=path,
                reason=DecisionReason.ROLLING_WINDOW_CAP,
                now=now,
                actor=actor,
                figures=figures,
                message=_("No credit: {count} of {limit} credits in the last {days} days.").format(
                    count=in_window, limit=policy.window_credits, days=policy.window_days
                ),
            )
    return None


@transaction.atomic
def credit_decide(*, attendance: Attendance, actor=None, now: datetime) -> CreditDecision | None:
    """Run the decision chain for an attendance's current state and record the outcome.

    Order: an existing credit for a different state is revoked (or flagged if spent, ATT-5);
    a no-show never issues (ATT-2); make-ups off (POL-7); the path's mapping (POL-2); the
    outstanding cap (POL-5) and the rolling window (POL-6) for client paths; validity
    (POL-3, POL-4). Every outcome is a :class:`CreditDecision` with its figures (POL-9).
    Running it again for the same state does nothing (POL-10). Returns the new decision,
    or ``None`` when nothing needed deciding.
    """
    attendance = (
        Attendance.objects.select_for_update()
        .select_related("session__klass__programme", "session__company")
        .get(pk=attendance.pk)
    )
    path = PATH_FOR_STATE.get(attendance.state)
    live = (
        MakeupCredit.objects.select_for_update()
        .filter(attendance=attendance)
        .exclude(state=CreditState.REVOKED)
        .first()
    )
    if live is not None:
        if live.path == path:
            return None  # POL-10: this state already earned its credit
        conflict = _correct_away(attendance, live, now=now, actor=actor)
        if live.state == CreditState.USED:
            return conflict
    latest = CreditDecision.objects.filter(attendance=attendance).order_by("-pk").first()
    if (
        latest is not None
        and latest.attendance_state == attendance.state
        and latest.cancelled_at == attendance.cancelled_at
        and latest.reason not in (DecisionReason.REVOKED, DecisionReason.SPENT_CONFLICT)
    ):
        return None  # POL-10: already decided for exactly this state
    if attendance.state == AttendanceState.NO_SHOW:
        return _decision(
            attendance,
            path="",
            reason=DecisionReason.NO_SHOW,
            now=now,
            actor=actor,
            message=_(
                "No credit: did not attend without telling us (a no-show never earns a credit)."
            ),
        )
    if path is None:
        return None
    policy = policy_for(attendance.session.klass.programme)
    figures: dict = {}
    refusal = _refusal(attendance, path=path, policy=policy, now=now, actor=actor, figures=figures)
    if refusal is not None:
        return refusal
    return _issue(attendance, path=path, policy=policy, now=now, actor=actor, figures=figures)


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
    return _create_credit(
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
def policy_update(
    *, policy: CancellationPolicy, values: dict, cutoffs: list[dict], now: datetime, actor=None
) -> CancellationPolicy:
    """Save a programme's cancellation policy and its weekly cut-off table. A weekly-cut-off
    policy needs at least one row; lesson weekdays without a row fall back to hours-before.

    Every rule of a policy holds here, whoever calls: each field's own, and those across
    fields (:meth:`CancellationPolicy.clean`: days for a validity in days, both or neither
    of the rolling window, instructions when late portal cancellations are refused), which
    refuse with a ``ValidationError`` keyed by field (the policy page shows each on its
    field)."""
    policy = CancellationPolicy.objects.select_for_update().get(pk=policy.pk)
    rows = [c for c in cutoffs if c.get("cutoff_weekday") is not None and c.get("cutoff_time")]
    if values.get("mode") == PolicyMode.WEEKLY_CUTOFF and not rows:
        raise DomainError(_("A weekly cut-off policy needs a cut-off for at least one weekday."))
    for field, value in values.items():
        setattr(policy, field, value)
    # The rules across fields first, so a half-filled window is refused on its field
    # rather than as the database constraint behind it.
    policy.full_clean(validate_constraints=False)
    policy.validate_constraints()
    policy.save()
    WeeklyCutoff.objects.filter(policy=policy).delete()
    WeeklyCutoff.objects.bulk_create(
        [
            WeeklyCutoff(
                company_id=policy.company_id,
                policy=policy,
                lesson_weekday=row["lesson_weekday"],
                cutoff_weekday=row["cutoff_weekday"],
                cutoff_time=row["cutoff_time"],
            )
            for row in rows
        ]
    )
    audit_record(
        company_id=policy.company_id,
        actor=actor,
        now=now,
        area=AuditEntry.Area.POLICY,
        summary=_("Policy of %(programme)s saved: %(mode)s, %(hours)s hours before.")
        % {
            "programme": policy.programme.name,
            "mode": policy.get_mode_display(),
            "hours": policy.hours_before,
        },
    )
    return policy


@transaction.atomic
def credit_spend(
    *, credit: MakeupCredit, session: Session, actor=None, now: datetime
) -> MakeupCredit:
    """CRD-3: spend a credit on a make-up session (available → used).

    CRD-4: a credit past its expiry can never be spent, whether or not the sweep has run,
    and the make-up must start no later than the credit's expiry.
    """
    credit = MakeupCredit.objects.select_for_update().get(pk=credit.pk)
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
            _("This credit expired on {date}.").format(date=_fmt(credit.expires_at, tz)),
            code="credit_expired",
        )
    if credit.expires_at is not None and session.starts_at > credit.expires_at:
        raise DomainError(
            _(
                "This credit is valid for lessons starting by {expiry}; this one starts {start}."
            ).format(expiry=_fmt(credit.expires_at, tz), start=_fmt(session.starts_at, tz)),
            code="after_expiry",
        )
    _transition(
        credit,
        to=CreditState.USED,
        kind=CreditEvent.Kind.USED,
        at=now,
        actor=actor,
        note=_("Make-up: {klass}, {date}").format(
            klass=session.klass.name, date=_fmt(session.starts_at, tz)
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
    credit = MakeupCredit.objects.select_for_update().get(pk=credit.pk)
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


def _give_back(credit: MakeupCredit, *, actor, now: datetime, note: str) -> None:
    """A used credit is available again with its original expiry — expired at once if that
    has passed meanwhile — and no longer tied to the make-up it was spent on."""
    _transition(
        credit,
        to=CreditState.AVAILABLE,
        kind=CreditEvent.Kind.RETURNED,
        at=now,
        actor=actor,
        note=note[:300],
    )
    MakeupCredit.objects.filter(pk=credit.pk).update(booking=None)
    if credit.expires_at is not None and credit.expires_at <= now:
        _transition(
            credit,
            to=CreditState.EXPIRED,
            kind=CreditEvent.Kind.EXPIRED,
            at=now,
            actor=None,
            note=_("Returned after its expiry."),
        )


@transaction.atomic
def decision_mark_reviewed(*, decision: CreditDecision, actor, now: datetime) -> CreditDecision:
    """ATT-5: an admin has looked at a correction that met a spent credit."""
    decision = CreditDecision.objects.select_for_update().get(pk=decision.pk)
    if decision.needs_attention:
        decision.needs_attention = False
        decision.save(update_fields=["needs_attention"])
        if decision.credit_id:
            _event(
                decision.credit,
                kind=CreditEvent.Kind.REVIEWED,
                from_state=decision.credit.state,
                to_state=decision.credit.state,
                at=now,
                actor=actor,
                note=_("Conflict with an attendance correction reviewed; the credit stays used."),
            )
    return decision


@transaction.atomic
def credit_reinstate(*, credit: MakeupCredit, actor, now: datetime, note: str) -> MakeupCredit:
    """Give a used credit back whatever the timing, because the school cancelled the make-up
    (its original expiry stays; expired at once if that has passed)."""
    credit = MakeupCredit.objects.select_for_update().get(pk=credit.pk)
    if credit.state == CreditState.USED:
        _give_back(credit, actor=actor, now=now, note=note)
    return credit
