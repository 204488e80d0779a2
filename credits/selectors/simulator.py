"""BEY-4: what a draft cancellation policy would have done over the last 12 months of real
cancellations, beside what the current policy did.

The replay walks the programme's cancellations in time order per enrolment and runs the
same chain as :func:`credits.services.decisions.credit_decide` (POL-1…POL-7) against the
draft, with caps counted over the credits the draft itself would have issued. Where a real
credit was used for a make-up, the simulated one is taken as used at the same moment;
otherwise it stays unused until it expires — so caps are, if anything, estimated on the
strict side.

Lessons a closure cancelled (CLO-3) are left out on both sides: the families did nothing,
and what a closure issues is the closure's choice, not the policy's. A family's own
cancellation of a lesson later closed stays in: that was their doing.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from bookings.models import Attendance, AttendanceState
from programmes.models import Programme

from ..models import (
    CLIENT_PATHS,
    CancellationPolicy,
    CreditDecision,
    CreditEvent,
    CreditPath,
    DecisionReason,
)
from ..services.ledger import credit_expiry
from .policies import cutoff_instant

OUTCOMES = [
    (DecisionReason.ISSUED, _("Credits issued")),
    (DecisionReason.LATE_FORFEITED, _("Forfeited: cancelled late")),
    (DecisionReason.PATH_FORFEITED, _("Forfeited: path issues no credit")),
    (DecisionReason.OUTSTANDING_CAP, _("Capped: too many unused credits")),
    (DecisionReason.ROLLING_WINDOW_CAP, _("Capped: too many in the period")),
    (DecisionReason.MAKEUPS_DISABLED, _("Make-ups off")),
]


@dataclass
class _SimCredit:
    path: str
    cancelled_at: datetime | None
    issued_at: datetime
    expires_at: datetime | None
    used_at: datetime | None

    def outstanding_at(self, moment: datetime) -> bool:
        if self.issued_at > moment:
            return False
        if self.used_at is not None and self.used_at <= moment:
            return False
        return self.expires_at is None or self.expires_at > moment


@dataclass
class Simulation:
    cancellations: int
    current: Counter = field(default_factory=Counter)
    draft: Counter = field(default_factory=Counter)
    closures_left_out: int = 0  # lessons a closure cancelled: not replayed

    def rows(self) -> list[tuple[str, int, int]]:
        return [(label, self.current[reason], self.draft[reason]) for reason, label in OUTCOMES]


def simulate_policy(
    *,
    programme: Programme,
    draft: CancellationPolicy,
    draft_cutoffs: list,
    now: datetime,
    days: int = 365,
) -> Simulation:
    since = now - timedelta(days=days)
    found = list(
        Attendance.objects.filter(
            session__klass__programme=programme,
            session__starts_at__gte=since,
            session__starts_at__lt=now,
            state__in=[
                AttendanceState.CANCELLED,
                AttendanceState.LATE_CANCELLED,
                AttendanceState.STAFF_CANCELLED,
            ],
        ).select_related("session__klass", "session__company")
    )
    attendances = [a for a in found if not _closure_cancelled(a)]
    ids = [a.pk for a in attendances]
    latest: dict[int, str] = {}
    for decision in CreditDecision.objects.filter(attendance_id__in=ids).order_by("pk"):
        latest[decision.attendance_id] = decision.reason
    used_at: dict[int, datetime] = {}
    for event in (
        CreditEvent.objects.filter(credit__attendance_id__in=ids, kind="used")
        .select_related("credit")
        .order_by("at")
    ):
        used_at.setdefault(event.credit.attendance_id, event.at)

    result = Simulation(
        cancellations=len(attendances), closures_left_out=len(found) - len(attendances)
    )
    for attendance in attendances:
        result.current[latest.get(attendance.pk, "")] += 1

    by_enrolment: dict[int, list[Attendance]] = defaultdict(list)
    for attendance in attendances:
        by_enrolment[attendance.enrolment_id].append(attendance)
    for rows in by_enrolment.values():
        issued: list[_SimCredit] = []
        rows.sort(key=lambda a: a.cancelled_at or a.session.starts_at)
        for attendance in rows:
            reason, credit = _replay(
                attendance, draft, draft_cutoffs, issued, used_at.get(attendance.pk)
            )
            result.draft[reason] += 1
            if credit is not None:
                issued.append(credit)
    return result


def _closure_cancelled(attendance: Attendance) -> bool:
    """The school path for a lesson a closure cancelled: the closure's doing."""
    return (
        attendance.state == AttendanceState.STAFF_CANCELLED
        and attendance.session.closure_id is not None
    )


def _replay(attendance, policy, cutoffs, issued, used_at):
    session = attendance.session
    if attendance.state == AttendanceState.STAFF_CANCELLED:
        path, moment = CreditPath.STAFF, session.starts_at
    else:
        moment = attendance.cancelled_at
        on_time = moment <= cutoff_instant(policy, session, cutoffs)
        path = CreditPath.ON_TIME if on_time else CreditPath.LATE
    if not session.klass.programme.makeups_enabled:
        return DecisionReason.MAKEUPS_DISABLED, None
    if not {
        CreditPath.ON_TIME: policy.issue_on_time,
        CreditPath.LATE: policy.issue_late,
        CreditPath.STAFF: policy.issue_staff,
    }[path]:
        reason = (
            DecisionReason.LATE_FORFEITED
            if path == CreditPath.LATE
            else DecisionReason.PATH_FORFEITED
        )
        return reason, None
    if path in CLIENT_PATHS:
        cap = (
            policy.on_time_outstanding_cap
            if path == CreditPath.ON_TIME
            else policy.late_outstanding_cap
        )
        if cap is not None:
            outstanding = sum(1 for c in issued if c.path == path and c.outstanding_at(moment))
            if outstanding >= cap:
                return DecisionReason.OUTSTANDING_CAP, None
        if policy.window_credits is not None and policy.window_days:
            start = moment - timedelta(days=policy.window_days)
            in_window = sum(
                1
                for c in issued
                if c.path in CLIENT_PATHS and c.cancelled_at and start < c.cancelled_at <= moment
            )
            if in_window >= policy.window_credits:
                return DecisionReason.ROLLING_WINDOW_CAP, None
    expires = credit_expiry(
        policy=policy,
        path=path,
        session=session,
        cancelled_at=attendance.cancelled_at,
        issued_at=moment,
    )
    credit = _SimCredit(
        path=path,
        cancelled_at=attendance.cancelled_at,
        issued_at=moment,
        expires_at=expires,
        used_at=used_at,
    )
    return DecisionReason.ISSUED, credit
