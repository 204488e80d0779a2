"""BEY-6 "I cancelled in time" claims, read: whether an absence can be disputed now, and the
back-office list."""

from datetime import datetime

from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext as _

from bookings.models import Attendance, AttendanceState

from ..models import AbsenceClaim

CLAIMABLE_STATES = (AttendanceState.LATE_CANCELLED, AttendanceState.NO_SHOW)


def claim_refusal(
    *, attendance: Attendance, latest_claim: AbsenceClaim | None, now: datetime
) -> str | None:
    """Why this absence can't be disputed now, or ``None`` when it can (BEY-6).

    Only a late cancellation or a no-show, of a lesson on or before today (in the company's
    zone), with no claim waiting. A declined claim is the school's answer for that state: a
    new claim is possible only once the attendance has changed since (e.g. a later correction
    put it back to late)."""
    if attendance.state not in CLAIMABLE_STATES:
        return _("Only a late cancellation or a missed lesson can be disputed.")
    session = attendance.session
    if session.local_date > now.astimezone(session.company.tzinfo).date():
        return _("A lesson can be disputed from its day on.")
    if latest_claim is not None:
        if latest_claim.state == AbsenceClaim.State.OPEN:
            return _("Your claim for this lesson is already waiting for the school.")
        if (
            latest_claim.state == AbsenceClaim.State.DECLINED
            and latest_claim.recorded_state == attendance.state
            and latest_claim.recorded_cancelled_at == attendance.cancelled_at
        ):
            return _("The school has already answered a claim for this lesson.")
    return None


def claims_for_company(*, company) -> QuerySet[AbsenceClaim]:
    """The back-office list: open claims first (oldest first: first come, first answered),
    then the decided ones, latest decision first. One query per page."""
    return (
        AbsenceClaim.objects.filter(company=company)
        .select_related(
            "attendance__session__klass",
            "attendance__enrolment__student",
            "claimed_by",
            "decided_by",
        )
        .annotate(
            is_open=Case(
                When(state=AbsenceClaim.State.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("is_open", F("decided_at").desc(nulls_last=True), "claimed_at", "pk")
    )
