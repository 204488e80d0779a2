"""Reads for the credit pages."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet

from makeup.models import Company

from .models import CreditDecision, CreditEvent, CreditPath, CreditState, MakeupCredit, PolicyMode


def credits_for_company(
    *,
    company: Company,
    now: datetime,
    state: str = "",
    programme_id: int | None = None,
    expiring_within: int | None = None,
) -> QuerySet[MakeupCredit]:
    """The company's credits with their student, class and history, for the credits list
    (a fixed number of queries per page)."""
    credits = MakeupCredit.objects.filter(company=company)
    if state:
        credits = credits.filter(state=state)
    if programme_id:
        credits = credits.filter(enrolment__klass__programme_id=programme_id)
    if expiring_within is not None:
        credits = credits.filter(
            state=CreditState.AVAILABLE,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=expiring_within),
        )
    return (
        credits.select_related(
            "enrolment__student__family", "enrolment__klass__programme", "attendance__session"
        )
        .prefetch_related(Prefetch("events", queryset=CreditEvent.objects.select_related("actor")))
        .order_by("expires_at", "pk")
    )


def policy_example(policy, cutoffs: list | None = None) -> str:
    """The sentence on the policy page: what it means for a Tuesday 17:00 lesson."""
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    if policy.mode == PolicyMode.WEEKLY_CUTOFF:
        rules = cutoffs if cutoffs is not None else list(policy.weekly_cutoffs.all())
        for rule in rules:
            if rule.lesson_weekday == 1:
                before = "the same day" if rule.cutoff_weekday == 1 else days[rule.cutoff_weekday]
                return (
                    f"A Tuesday 17:00 lesson cancelled after {before} "
                    f"{rule.cutoff_time:%H:%M} is late."
                )
        return (
            "Tuesday lessons have no cut-off in the table: they use "
            f"{policy.hours_before} hours before."
        )
    when = datetime(2026, 1, 6, 17, 0) - timedelta(hours=policy.hours_before)
    return (
        f"A Tuesday 17:00 lesson cancelled after {days[when.weekday()]} "
        f"{when:%H:%M} ({policy.hours_before} hours before) is late."
    )


def family_credits_panel(*, request, family) -> dict:
    """The credits section of the family page: every credit with its source, expiry and
    history (CRD-1, CRD-2), and the recent credit decisions with their reasons (POL-9)."""
    credits = list(
        MakeupCredit.objects.filter(enrolment__student__family=family)
        .select_related("enrolment__student", "enrolment__klass__programme", "attendance__session")
        .prefetch_related(Prefetch("events", queryset=CreditEvent.objects.select_related("actor")))
        .order_by("state", "expires_at", "pk")
    )
    decisions = list(
        CreditDecision.objects.filter(attendance__enrolment__student__family=family)
        .select_related("attendance__session__klass", "attendance__enrolment__student")
        .order_by("-decided_at", "-pk")[:20]
    )
    return {
        "template": "credits/_family_credits.html",
        "context": {"credits": credits, "decisions": decisions},
    }


@dataclass
class Receipt:
    """BEY-1: what happened to one absence and why, for parents and staff."""

    headline: str
    lines: list[str]
    credit: MakeupCredit | None


def absence_receipt(attendance, decision: CreditDecision | None = None) -> Receipt | None:
    """The receipt of an absence from its latest credit decision: on time or late with the
    cut-off instant, the path, the caps with their figures, and the validity — or why there
    is no credit. ``None`` for an attendance that isn't an absence."""
    if decision is None:
        decision = (
            CreditDecision.objects.filter(attendance=attendance)
            .select_related("credit")
            .order_by("-pk")
            .first()
        )
    if decision is None:
        return None
    tz = attendance.session.company.tzinfo
    figures = decision.figures or {}
    lines: list[str] = []
    if decision.cancelled_at:
        line = f"You told us on {_local(decision.cancelled_at, tz)}"
        if "cutoff" in figures:
            cutoff = datetime.fromisoformat(figures["cutoff"])
            timing = "on time" if decision.cancelled_at <= cutoff else "late"
            line += f": {timing} (the cut-off was {_local(cutoff, tz)})"
        lines.append(line + ".")
    if decision.path:
        lines.append(f"Counted as: {CreditPath(decision.path).label.lower()}.")
    if "cap" in figures:
        lines.append(
            f"Unused credits of this kind before it: {figures['outstanding']} of at "
            f"most {figures['cap']}."
        )
    if "limit" in figures:
        lines.append(
            f"Credits in the {figures['days']} days before: {figures['count']} of at "
            f"most {figures['limit']}."
        )
    credit = decision.credit if decision.reason == "issued" else None
    if credit is not None:
        if credit.expires_at:
            lines.append(f"Make-up credit valid until {_local(credit.expires_at, tz)}.")
        else:
            lines.append("Make-up credit with no expiry.")
        headline = "Make-up credit issued"
    else:
        headline = decision.message
    return Receipt(headline=headline, lines=lines, credit=credit)


def _local(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%a %-d %b %Y, %H:%M")
