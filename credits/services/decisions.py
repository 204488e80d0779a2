"""The decision chain for every cancellation (POL-1…POL-10): a credit issued or refused
with its reasons and figures, corrections that revoke or flag a credit (ATT-5), and an
admin's review of a flagged one."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.models import Attendance, AttendanceState
from makeup import outbox
from makeup.shapes import Shape
from programmes.models import Closure, ClosureCredits, Programme

from ..models import (
    CLIENT_PATHS,
    LIVE_CREDIT_STATES,
    CancellationPolicy,
    CreditDecision,
    CreditEvent,
    CreditPath,
    CreditState,
    DecisionReason,
    MakeupCredit,
)
from ..selectors.policies import cutoff_instant, policy_for
from .ledger import (
    create_credit,
    create_credits,
    credit_expiry,
    credit_revoke,
    format_moment,
    record_event,
)

PATH_FOR_STATE = {
    AttendanceState.CANCELLED: CreditPath.ON_TIME,
    AttendanceState.LATE_CANCELLED: CreditPath.LATE,
    AttendanceState.STAFF_CANCELLED: CreditPath.STAFF,
}


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
    credit = create_credit(
        company_id=attendance.company_id,
        enrolment_id=attendance.enrolment_id,
        path=path,
        attendance=attendance,
        cancelled_at=attendance.cancelled_at,
        expires_at=expires_at,
        now=now,
        actor=actor,
        note=_("{path}, lesson of {date}").format(
            path=CreditPath(path).label, date=date_format(session.local_date, "DAY_FORMAT")
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
            path=CreditPath(path).label.lower(), date=format_moment(expires_at, tz)
        ),
    )
    return decision


def _correct_away(attendance: Attendance, live: MakeupCredit, *, now, actor) -> CreditDecision:
    """ATT-5: the state no longer earns ``live``. Revoke it while unused; a spent credit is
    never taken back silently — the decision is flagged for an admin instead. A credit given
    to a sibling (WAL-1) is treated like a spent one: it is the sibling's now, so it stays
    with them and the decision is flagged, saying so."""
    new_state = str(AttendanceState(attendance.state).label)
    if live.is_transferred:
        return _decision(
            attendance,
            path=live.path,
            reason=DecisionReason.SPENT_CONFLICT,
            now=now,
            actor=actor,
            credit=live,
            needs_attention=True,
            message=_(
                "Corrected to “{state}”, but credit #{pk} was given to {name} and stays "
                "theirs ({credit_state}). Review with the family."
            ).format(
                state=new_state,
                pk=live.pk,
                name=live.holder.student.first_name,
                credit_state=live.get_state_display().lower(),
            ),
        )
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
    credit_revoke(
        credit=live,
        actor=actor,
        now=now,
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


def staff_path_refusal(
    *, programme: Programme, policy: CancellationPolicy, closure: Closure | None
) -> tuple[str, str] | None:
    """The staff path's refusals, in the chain's order, as ``(reason, message)``, or ``None``
    when the school cancelling a lesson of ``programme`` issues a credit: a closure priced
    into the term issues none (CLO-3), nor do make-ups switched off (POL-7) or a policy
    whose staff path issues none (POL-2). The staff path has no caps. The decision chain and
    the closure preview both ask it, so the preview shows what applying will do."""
    if closure is not None and closure.credits == ClosureCredits.NONE:
        return DecisionReason.CLOSURE_NO_CREDIT, _(
            "No credit: closed for {closure}, which is priced into the term."
        ).format(closure=closure.name)
    if not programme.makeups_enabled:
        return DecisionReason.MAKEUPS_DISABLED, _(
            "No credit: make-up sessions are off for {programme}."
        ).format(programme=programme.name)
    if not policy.issue_staff:
        return DecisionReason.PATH_FORFEITED, _(
            "No credit: the policy issues none when {path}."
        ).format(path=CreditPath(CreditPath.STAFF).label.lower())
    return None


def _refusal(attendance, *, path, policy, now, actor, figures: dict) -> CreditDecision | None:
    """The chain's refusals in order (CLO-3 and POL-7, POL-2 for the staff path; POL-7,
    POL-2, POL-5, POL-6 for the client paths), or None to issue. ``figures`` collects what
    each step saw (cut-off, caps), for the decision's receipt."""
    session = attendance.session
    programme = session.klass.programme
    tz = session.company.tzinfo
    if path == CreditPath.STAFF:
        refusal = staff_path_refusal(programme=programme, policy=policy, closure=session.closure)
        if refusal is None:
            return None
        reason, message = refusal
        return _decision(
            attendance, path=path, reason=reason, now=now, actor=actor, message=message
        )
    figures["cutoff"] = cutoff_instant(policy, session).isoformat()
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
    issues = policy.issue_on_time if path == CreditPath.ON_TIME else policy.issue_late
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
                    date=format_moment(cutoff, tz)
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
    # The caps count the credits *earned* on this enrolment (``MakeupCredit.enrolment``, which
    # never changes): one given to a sibling (WAL-1) or carried into the next term (WAL-4)
    # moves only its holder, so it still counts here and never where it is held.
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
                message=ngettext(
                    "No credit: {count} of {limit} credits in the last day.",
                    "No credit: {count} of {limit} credits in the last {days} days.",
                    policy.window_days,
                ).format(count=in_window, limit=policy.window_credits, days=policy.window_days),
            )
    return None


# credit_decide's reads, compiled once (a roll call runs them for every mark).
_DECIDING = Shape(
    lambda attendance_id: (
        # Only the attendance row is locked: PostgreSQL can't lock the nullable side of the
        # outer join to the session's closure.
        Attendance.objects.select_for_update(of=("self",))
        .select_related("session__klass__programme", "session__company", "session__closure")
        .filter(pk=attendance_id)
    )
)
_LIVE_CREDIT = Shape(
    lambda attendance_id: (
        MakeupCredit.objects.select_for_update()
        .filter(attendance_id=attendance_id)
        .exclude(state=CreditState.REVOKED)
        .order_by("expires_at", "pk")[:1]  # as .first(): the model's ordering
    )
)
_LATEST_DECISION = Shape(
    lambda attendance_id: CreditDecision.objects.filter(attendance_id=attendance_id).order_by(
        "-pk"
    )[:1]
)


@transaction.atomic
def credit_decide(*, attendance: Attendance, actor=None, now: datetime) -> CreditDecision | None:
    """Run the decision chain for an attendance's current state and record the outcome.

    Order: an existing credit for a different state is revoked (or flagged if spent or given
    to a sibling, ATT-5, WAL-1);
    a no-show never issues (ATT-2); make-ups off (POL-7); the path's mapping (POL-2); the
    outstanding cap (POL-5) and the rolling window (POL-6) for client paths; validity
    (POL-3, POL-4). Every outcome is a :class:`CreditDecision` with its figures (POL-9).
    Running it again for the same state does nothing (POL-10). Returns the new decision,
    or ``None`` when nothing needed deciding.
    """
    attendance = _DECIDING.get(attendance_id=attendance.pk)
    path = PATH_FOR_STATE.get(attendance.state)
    live = _LIVE_CREDIT.first(attendance_id=attendance.pk)
    if live is not None:
        if live.path == path:
            return None  # POL-10: this state already earned its credit
        conflict = _correct_away(attendance, live, now=now, actor=actor)
        if live.state == CreditState.USED or live.is_transferred:
            return conflict
    latest = _LATEST_DECISION.first(attendance_id=attendance.pk)
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
        tell_lesson_cancelled([attendance])
        return refusal
    return _issue(attendance, path=path, policy=policy, now=now, actor=actor, figures=figures)


def credits_decide_many(*, attendances: Sequence[Attendance], actor=None, now: datetime) -> None:
    """:func:`credit_decide` for many attendances changed together — the school cancelling
    whole sessions (ATT-7, CLO-3) — with the same outcome for each, at a fixed number of
    queries for the usual case: a staff-cancelled attendance with no credit and no decision
    yet, whose outcome is its session's (the staff path has no caps, POL-2, and its validity
    counts from the issue, POL-4). Every other attendance goes through :func:`credit_decide`
    one by one. Runs inside the caller's transaction, which holds the attendances' rows
    (``attendance.session`` loaded with its class, programme, company and closure)."""
    if not attendances:
        return
    ids = [attendance.pk for attendance in attendances]
    with_credit = (
        MakeupCredit.objects.filter(attendance_id__in=ids)
        .exclude(state=CreditState.REVOKED)
        .order_by()
        .values_list("attendance_id", flat=True)
    )
    decided = (
        CreditDecision.objects.filter(attendance_id__in=ids)
        .order_by()
        .values_list("attendance_id", flat=True)
    )
    known = set(with_credit.union(decided).order_by())
    fresh: list[Attendance] = []
    for attendance in attendances:
        if attendance.pk in known or attendance.state != AttendanceState.STAFF_CANCELLED:
            credit_decide(attendance=attendance, actor=actor, now=now)
        else:
            fresh.append(attendance)
    if fresh:
        _decide_staff_path(fresh, actor=actor, now=now)


def _decide_staff_path(attendances: list[Attendance], *, actor, now: datetime) -> None:
    """The staff path's outcome for attendances with no history, session by session (one
    outcome for each session), written together: credits, their history and e-mails, and
    the decisions, in a few statements whatever the number."""
    path = CreditPath.STAFF
    programmes = {a.session.klass.programme_id: a.session.klass.programme for a in attendances}
    policies = {
        policy.programme_id: policy
        for policy in CancellationPolicy.objects.filter(programme_id__in=list(programmes))
    }
    outcomes: dict[int, tuple] = {}  # session id -> (reason, message, figures, expires_at)
    notes: dict[int, str] = {}
    to_issue: list[tuple[Attendance, datetime | None, str]] = []
    for attendance in attendances:
        session = attendance.session
        if session.pk not in outcomes:
            programme = session.klass.programme
            policy = policies.get(programme.pk) or policies.setdefault(
                programme.pk, policy_for(programme)
            )
            outcomes[session.pk] = _staff_outcome(session, policy=policy, now=now)
            notes[session.pk] = _("{path}, lesson of {date}").format(
                path=CreditPath(path).label, date=date_format(session.local_date, "DAY_FORMAT")
            )
        reason, _message, _figures, expires_at = outcomes[session.pk]
        if reason == DecisionReason.ISSUED and expires_at is not None and expires_at <= now:
            # Expired on issue: recorded one by one, as credit_decide does.
            credit_decide(attendance=attendance, actor=actor, now=now)
            continue
        if reason == DecisionReason.ISSUED:
            to_issue.append((attendance, expires_at, notes[session.pk]))
    credits = create_credits(items=to_issue, path=path, now=now, actor=actor)
    credit_of = {
        attendance.pk: credit
        for (attendance, _expiry, _note), credit in zip(to_issue, credits, strict=True)
    }
    CreditDecision.objects.bulk_create(
        [
            CreditDecision(
                company_id=attendance.company_id,
                attendance=attendance,
                attendance_state=attendance.state,
                cancelled_at=attendance.cancelled_at,
                path=path,
                reason=outcomes[attendance.session_id][0],
                figures=outcomes[attendance.session_id][2],
                message=outcomes[attendance.session_id][1][:300],
                credit=credit_of.get(attendance.pk),
                decided_at=now,
                actor=actor,
            )
            for attendance in attendances
            if attendance.pk in credit_of
            or outcomes[attendance.session_id][0] != DecisionReason.ISSUED
        ]
    )
    tell_lesson_cancelled(
        [a for a in attendances if outcomes[a.session_id][0] != DecisionReason.ISSUED]
    )


def tell_lesson_cancelled(attendances: Sequence[Attendance]) -> None:
    """NTF-3: a family whose regular lesson the school cancelled hears of it at once, by text
    where allowed and by e-mail — with its credit when one is issued (the credit's message),
    and through this message when the policy gives none. A closure tells each family once,
    with all its lessons (CLO-4), so its lessons are left to it."""
    told = [
        attendance
        for attendance in attendances
        if attendance.state == AttendanceState.STAFF_CANCELLED
        and attendance.session.cancelled_at is not None
        and attendance.session.closure_id is None
    ]
    outbox.enqueue_many(
        "credits.tasks.send_lesson_cancelled",
        [
            (
                f"lesson-cancelled:{a.pk}:{a.session.cancelled_at:%Y%m%d%H%M%S}",
                (a.company_id, a.pk),
            )
            for a in told
        ],
    )


def _staff_outcome(session, *, policy: CancellationPolicy, now: datetime) -> tuple:
    """``(reason, message, figures, expires_at)`` of the staff path for ``session``'s
    students: a refusal (:func:`staff_path_refusal`), or a credit and its expiry."""
    refusal = staff_path_refusal(
        programme=session.klass.programme, policy=policy, closure=session.closure
    )
    if refusal is not None:
        return refusal[0], refusal[1], {}, None
    path = CreditPath.STAFF
    expires_at = credit_expiry(
        policy=policy, path=path, session=session, cancelled_at=None, issued_at=now
    )
    message = _("Credit issued ({path}), valid until {date}.").format(
        path=CreditPath(path).label.lower(),
        date=format_moment(expires_at, session.company.tzinfo),
    )
    figures = {"expires_at": expires_at.isoformat() if expires_at else None}
    return DecisionReason.ISSUED, message, figures, expires_at


@transaction.atomic
def decision_mark_reviewed(*, decision: CreditDecision, actor, now: datetime) -> CreditDecision:
    """ATT-5: an admin has looked at a correction that met a spent credit."""
    decision = CreditDecision.objects.select_for_update().get(pk=decision.pk)
    if decision.needs_attention:
        decision.needs_attention = False
        decision.save(update_fields=["needs_attention"])
        if decision.credit_id:
            record_event(
                decision.credit,
                kind=CreditEvent.Kind.REVIEWED,
                from_state=decision.credit.state,
                to_state=decision.credit.state,
                at=now,
                actor=actor,
                note=(
                    _(
                        "Conflict with an attendance correction reviewed; the credit stays with "
                        "the brother or sister it was given to."
                    )
                    if decision.credit.is_transferred
                    else _(
                        "Conflict with an attendance correction reviewed; the credit stays used."
                    )
                ),
            )
    return decision
