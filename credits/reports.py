"""Reports: instructor pay (PKG-3) and make-up liability (BEY-5). Each is one aggregate
query whatever the number of rows."""

from collections import Counter
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
    instructor_id: int | None = None
    email: str = ""


def instructor_pay(*, company: Company, first: date, last: date) -> list[PayRow]:
    """PKG-3: per instructor, the paid attendances of the period — regular students present,
    did not attend or cancelled late, which count against a package or the account — and,
    apart, the make-up attendances they hosted (present or did not attend), which are not
    paid, so a missed lesson and its make-up are never paid twice.

    Rows are keyed by the instructor (the user), never by the name shown: two instructors
    with the same name are two rows, each named with their e-mail too. Sessions of a class
    without an instructor are one row, "No instructor"."""
    who = (
        "session__klass__instructor",
        "session__klass__instructor__full_name",
        "session__klass__instructor__email",
    )
    paid = (
        Attendance.objects.filter(
            company=company,
            state__in=sorted(COUNTED_STATES),
            session__local_date__gte=first,
            session__local_date__lte=last,
        )
        .values(*who)
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
        .values(*who)
        .annotate(n=Count("pk"))
    )
    rows: dict[int | None, PayRow] = {}

    def row_for(values) -> PayRow:
        pk = values["session__klass__instructor"]
        if pk not in rows:
            email = values["session__klass__instructor__email"] or ""
            name = values["session__klass__instructor__full_name"] or email or _("No instructor")
            rows[pk] = PayRow(name, 0, 0, instructor_id=pk, email=email)
        return rows[pk]

    for values in paid:
        row_for(values).paid += values["n"]
    for values in hosted:
        row_for(values).makeups += values["n"]
    names = Counter(row.instructor.lower() for row in rows.values())
    for row in rows.values():
        if names[row.instructor.lower()] > 1 and row.email and row.email != row.instructor:
            row.instructor = _("{name} ({email})").format(name=row.instructor, email=row.email)
    return sorted(rows.values(), key=lambda r: (r.instructor.lower(), r.instructor_id or 0))


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
