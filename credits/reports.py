"""Reports: instructor pay (PKG-3) and make-up liability (BEY-5). Each is one aggregate
query whatever the number of rows."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from bookings.models import Attendance, MakeupBooking
from bookings.services.packages import COUNTED_STATES
from makeup.models import Company

from .models import CreditState, MakeupCredit

MONEY = DecimalField(max_digits=12, decimal_places=2)


@dataclass
class PayRow:
    instructor: str
    paid: int
    makeups: int


def instructor_pay(*, company: Company, first: date, last: date) -> list[PayRow]:
    """PKG-3: per instructor, the paid attendances of the period — regular students present,
    did not attend or cancelled late, which count against a package or the account — and,
    apart, the make-up attendances they hosted (present or did not attend), which are not
    paid, so a missed lesson and its make-up are never paid twice."""
    paid = (
        Attendance.objects.filter(
            company=company,
            state__in=sorted(COUNTED_STATES),
            session__local_date__gte=first,
            session__local_date__lte=last,
        )
        .values("session__klass__instructor__full_name", "session__klass__instructor__email")
        .annotate(n=Count("pk"))
    )
    hosted = (
        MakeupBooking.objects.filter(
            company=company,
            state=MakeupBooking.State.BOOKED,
            attendance_state__in=["present", "no_show"],
            session__local_date__gte=first,
            session__local_date__lte=last,
        )
        .values("session__klass__instructor__full_name", "session__klass__instructor__email")
        .annotate(n=Count("pk"))
    )
    rows: dict[str, PayRow] = {}

    def name(row) -> str:
        return (
            row["session__klass__instructor__full_name"]
            or row["session__klass__instructor__email"]
            or _("No instructor")
        )

    for row in paid:
        rows.setdefault(name(row), PayRow(name(row), 0, 0)).paid += row["n"]
    for row in hosted:
        rows.setdefault(name(row), PayRow(name(row), 0, 0)).makeups += row["n"]
    return sorted(rows.values(), key=lambda r: r.instructor.lower())


@dataclass
class LiabilityRow:
    programme: str
    location: str
    credits: int
    value: Decimal
    expiring_7: Decimal
    expiring_30: Decimal
    expiring_90: Decimal


def makeup_liability(*, company: Company, now: datetime) -> list[LiabilityRow]:
    """BEY-5: the unused credits (available and not past expiry), valued at the per-session
    price of the class they were earned in, per programme and location, with how much of
    that value expires in the next 7, 30 and 90 days. A credit of a class sold only per
    course is counted at 0 (it has no price for one session)."""
    price = Coalesce("enrolment__klass__price_per_session", Value(Decimal("0")), output_field=MONEY)

    def expiring(days: int):
        return Coalesce(
            Sum(price, filter=Q(expires_at__lte=now + timedelta(days=days))),
            Value(Decimal("0")),
            output_field=MONEY,
        )

    rows = (
        MakeupCredit.objects.filter(company=company, state=CreditState.AVAILABLE)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("enrolment__klass__programme__name", "enrolment__klass__location")
        .annotate(
            n=Count("pk"),
            value=Coalesce(Sum(price), Value(Decimal("0")), output_field=MONEY),
            e7=expiring(7),
            e30=expiring(30),
            e90=expiring(90),
        )
        .order_by("enrolment__klass__programme__name", "enrolment__klass__location")
    )
    return [
        LiabilityRow(
            r["enrolment__klass__programme__name"],
            r["enrolment__klass__location"] or "—",
            r["n"],
            _money(r["value"]),
            _money(r["e7"]),
            _money(r["e30"]),
            _money(r["e90"]),
        )
        for r in rows
    ]


def _money(value) -> Decimal:
    """Two decimal places, whatever the database returns for a sum (SQLite drops them)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))
