"""Reads of credits: the company's credits list and the family page's credits section."""

from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet

from bookings.models import MakeupBooking
from makeup.models import Company

from ..models import (
    CreditDecision,
    CreditEvent,
    CreditState,
    MakeupCredit,
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
            "enrolment__student__family",
            "enrolment__klass__programme",
            "attendance__session",
            "holder__student",
        )
        .prefetch_related(Prefetch("events", queryset=CreditEvent.objects.select_related("actor")))
        .order_by("expires_at", "pk")
    )


FAMILY_PAST_MAKEUPS = 20
FAMILY_ENDED_WATCHES = 10


def family_credits_panel(*, request, family, now: datetime) -> dict:
    """The credits section of the family page: every credit with its source, expiry and
    history (CRD-1, CRD-2), the child who holds it (WAL-1), whether it can be spent now
    (``usable``: staff book a make-up with it, MKP-11) and given to a sibling
    (``transferable``), the recent credit decisions with their reasons (POL-9), the family's
    make-ups (upcoming, and the last :data:`FAMILY_PAST_MAKEUPS` past or cancelled, with
    note, override reason, state and attendance) and its watches (BEY-2). Seven queries
    whatever the family's history."""
    credits = list(
        MakeupCredit.objects.filter(enrolment__student__family=family)
        .select_related(
            "enrolment__student",
            "enrolment__klass__programme",
            "attendance__session",
            "holder__student",
        )
        .prefetch_related(Prefetch("events", queryset=CreditEvent.objects.select_related("actor")))
        .order_by("state", "expires_at", "pk")
    )
    siblings = family.students.count() > 1
    for credit in credits:
        credit.usable = credit.is_usable(now)
        # WAL-1: offered where the programme allows it and there is a sibling to give it to
        credit.transferable = (
            siblings and credit.usable and credit.enrolment.klass.programme.credit_transfer_allowed
        )
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
