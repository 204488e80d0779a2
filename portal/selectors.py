"""Reads for the parent portal's pages (no rules here: they live in the lower apps)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch

from bookings.models import Attendance, AttendanceState, Family
from credits.models import CreditDecision, CreditState, MakeupCredit
from credits.selectors import Receipt, absence_receipt

ABSENCE_STATES = [
    AttendanceState.CANCELLED,
    AttendanceState.LATE_CANCELLED,
    AttendanceState.NO_SHOW,
    AttendanceState.STAFF_CANCELLED,
]


@dataclass
class Absence:
    attendance: Attendance
    receipt: Receipt | None


def family_absences(*, family: Family, limit: int = 12) -> list[Absence]:
    """The family's recent absences, each with its receipt (BEY-1), in two queries."""
    attendances = list(
        Attendance.objects.filter(enrolment__student__family=family, state__in=ABSENCE_STATES)
        .select_related("session__klass", "session__company", "enrolment__student")
        .prefetch_related(
            Prefetch("credit_decisions", queryset=CreditDecision.objects.select_related("credit"))
        )
        .order_by("-session__starts_at", "-pk")[:limit]
    )
    absences = []
    for attendance in attendances:
        decisions = list(attendance.credit_decisions.all())
        receipt = absence_receipt(attendance, decisions[-1]) if decisions else None
        absences.append(Absence(attendance=attendance, receipt=receipt))
    return absences


def family_credits(*, family: Family, now: datetime) -> list[MakeupCredit]:
    """The family's usable credits, soonest-expiring first (open-ended last)."""
    credits = list(
        MakeupCredit.objects.filter(
            enrolment__student__family=family, state=CreditState.AVAILABLE
        ).select_related("enrolment__student", "enrolment__klass__programme")
    )
    usable = [c for c in credits if c.expires_at is None or c.expires_at > now]
    usable.sort(key=lambda c: (c.expires_at is None, c.expires_at or now, c.pk))
    for credit in usable:
        credit.days_left = (credit.expires_at - now).days if credit.expires_at else None
    return usable
