"""Reads for the credit pages."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from bookings.models import MakeupBooking
from bookings.selectors.attendance import current_decision
from makeup.formats import local_datetime
from makeup.models import Company
from programmes.models import WEEKDAYS

from .models import (
    CreditDecision,
    CreditEvent,
    CreditPath,
    CreditState,
    MakeupCredit,
    PolicyMode,
    SessionWatch,
)


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
    days = [str(name) for _day, name in WEEKDAYS]
    if policy.mode == PolicyMode.WEEKLY_CUTOFF:
        rules = cutoffs if cutoffs is not None else list(policy.weekly_cutoffs.all())
        for rule in rules:
            if rule.lesson_weekday == 1:
                before = (
                    _("the same day") if rule.cutoff_weekday == 1 else days[rule.cutoff_weekday]
                )
                return _("A Tuesday 17:00 lesson cancelled after {before} {time} is late.").format(
                    before=before, time=f"{rule.cutoff_time:%H:%M}"
                )
        return _(
            "Tuesday lessons have no cut-off in the table: they use {hours} hours before."
        ).format(hours=policy.hours_before)
    when = datetime(2026, 1, 6, 17, 0) - timedelta(hours=policy.hours_before)
    return _(
        "A Tuesday 17:00 lesson cancelled after {day} {time} ({hours} hours before) is late."
    ).format(day=days[when.weekday()], time=f"{when:%H:%M}", hours=policy.hours_before)


FAMILY_PAST_MAKEUPS = 20
FAMILY_ENDED_WATCHES = 10


def family_credits_panel(*, request, family, now: datetime) -> dict:
    """The credits section of the family page: every credit with its source, expiry and
    history (CRD-1, CRD-2), whether it can be spent now (``usable``: staff book a make-up with
    it, MKP-11), the recent credit decisions with their reasons (POL-9), the family's make-ups
    (upcoming, and the last :data:`FAMILY_PAST_MAKEUPS` past or cancelled, with note,
    override reason, state and attendance) and its watches (BEY-2). Six queries whatever the
    family's history."""
    credits = list(
        MakeupCredit.objects.filter(enrolment__student__family=family)
        .select_related("enrolment__student", "enrolment__klass__programme", "attendance__session")
        .prefetch_related(Prefetch("events", queryset=CreditEvent.objects.select_related("actor")))
        .order_by("state", "expires_at", "pk")
    )
    for credit in credits:
        credit.usable = credit.is_usable(now)
    decisions = list(
        CreditDecision.objects.filter(attendance__enrolment__student__family=family)
        .select_related("attendance__session__klass", "attendance__enrolment__student")
        .order_by("-decided_at", "-pk")[:20]
    )
    makeups = MakeupBooking.objects.filter(student__family=family).select_related(
        "session__klass__programme", "student", "booked_by", "cancelled_by", "company"
    )
    upcoming = list(
        makeups.filter(state=MakeupBooking.State.BOOKED, session__starts_at__gt=now).order_by(
            "session__starts_at", "pk"
        )
    )
    past = list(
        makeups.exclude(state=MakeupBooking.State.BOOKED, session__starts_at__gt=now).order_by(
            "-session__starts_at", "-pk"
        )[:FAMILY_PAST_MAKEUPS]
    )
    watches = list(
        SessionWatch.objects.filter(student__family=family)
        .filter(Q(state=SessionWatch.State.ACTIVE) | Q(created_at__gte=now - timedelta(days=60)))
        .select_related("session__klass", "student", "credit")
        .order_by("state", "-created_at", "-pk")[: FAMILY_ENDED_WATCHES + 2]
    )
    return {
        "template": "credits/_family_credits.html",
        "context": {
            "family": family,
            "credits": credits,
            "decisions": decisions,
            "makeups_upcoming": upcoming,
            "makeups_past": past,
            "watches": watches,
            "now": now,
        },
    }


@dataclass
class Receipt:
    """BEY-1: what happened to one absence and why, for parents and staff."""

    headline: str
    lines: list[str]
    credit: MakeupCredit | None


def absence_receipt(attendance, decision: CreditDecision | None = None) -> Receipt | None:
    """The receipt of an absence from its credit decision: on time or late with the cut-off
    instant, the path, the caps with their figures, and the validity — or why there is no
    credit. Without ``decision``, the latest one if it was made for the attendance's current
    state (``current_decision``). ``None`` for an attendance that isn't an absence, or whose
    current state has no decision (corrected to present)."""
    if decision is None:
        latest = (
            CreditDecision.objects.filter(attendance=attendance)
            .select_related("credit")
            .order_by("-pk")
            .first()
        )
        decision = current_decision(attendance, [latest] if latest else [])
    if decision is None:
        return None
    tz = attendance.session.company.tzinfo
    figures = decision.figures or {}
    lines: list[str] = []
    if decision.cancelled_at:
        told = local_datetime(decision.cancelled_at, tz)
        if "cutoff" in figures:
            cutoff = datetime.fromisoformat(figures["cutoff"])
            if decision.cancelled_at <= cutoff:
                line = _("You told us on {date}: on time (the cut-off was {cutoff}).")
            else:
                line = _("You told us on {date}: late (the cut-off was {cutoff}).")
            lines.append(line.format(date=told, cutoff=local_datetime(cutoff, tz)))
        else:
            lines.append(_("You told us on {date}.").format(date=told))
    if decision.path:
        lines.append(_("Counted as: {path}.").format(path=CreditPath(decision.path).label.lower()))
    if "cap" in figures:
        lines.append(
            _("Unused credits of this kind before it: {outstanding} of at most {cap}.").format(
                outstanding=figures["outstanding"], cap=figures["cap"]
            )
        )
    if "limit" in figures:
        lines.append(
            _("Credits in the {days} days before: {count} of at most {limit}.").format(
                days=figures["days"], count=figures["count"], limit=figures["limit"]
            )
        )
    credit = decision.credit if decision.reason == "issued" else None
    if credit is not None:
        if credit.expires_at:
            lines.append(
                _("Make-up credit valid until {date}.").format(
                    date=local_datetime(credit.expires_at, tz)
                )
            )
        else:
            lines.append(_("Make-up credit with no expiry."))
        headline = _("Make-up credit issued")
    else:
        headline = decision.message
    return Receipt(headline=headline, lines=lines, credit=credit)
