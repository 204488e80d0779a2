"""Reports: instructor pay (PKG-3) and make-up liability (BEY-5), with what closures cost
apart. Each costs a fixed number of aggregate queries whatever the number of rows."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from bookings.models import Attendance, MakeupBooking
from bookings.services.packages import COUNTED_STATES
from makeup.models import Company
from programmes.models import Session

from ..models import CreditPath, CreditState, MakeupCredit, usable_q

ZERO = Decimal("0")


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
    unpriced: int = 0  # of ``credits``: no price for one session, so not in ``value``
    closure_credits: int = 0  # of ``credits``: issued because a closure cancelled the lesson
    closure_value: Decimal = ZERO  # their part of ``value``


def session_price(
    *, price_per_session: Decimal | None, course_price: Decimal | None, sessions: int
) -> Decimal | None:
    """The price of one session of a class, for valuing its credits (BEY-5): its price per
    session; for a class sold only per course, the course price divided by the number of
    the class's sessions dated within its term (cancelled ones included: they were sold as
    part of the course; days closed before the sessions were made have none); ``None`` when
    neither can be computed (no price, or a course price and no session yet). Unrounded."""
    if price_per_session is not None:
        return price_per_session
    if course_price is not None and sessions > 0:
        return Decimal(course_price) / sessions
    return None


# A credit a closure caused: the school path, for a lesson a closure cancelled (CLO-3). A
# family's own cancellation of a lesson later closed is not the closure's doing.
FROM_CLOSURE = Q(path=CreditPath.STAFF, attendance__session__closure__isnull=False)

PRICE_FIELDS = ("enrolment__klass__price_per_session", "enrolment__klass__course_price")


def _term_sessions():
    """For a credit's class, the number of its sessions dated within its term (to share a
    course price, :func:`session_price`), as a subquery."""
    return Coalesce(
        Subquery(
            Session.objects.filter(
                klass_id=OuterRef("enrolment__klass"),
                local_date__gte=OuterRef("enrolment__klass__start_date"),
                local_date__lte=OuterRef("enrolment__klass__end_date"),
            )
            .order_by()
            .values("klass_id")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        Value(0),
    )


def _price(values: dict) -> Decimal | None:
    return session_price(
        price_per_session=values["enrolment__klass__price_per_session"],
        course_price=values["enrolment__klass__course_price"],
        sessions=values["sessions"],
    )


def makeup_liability(*, company: Company, now: datetime) -> list[LiabilityRow]:
    """BEY-5: the unused credits (available and not past expiry), valued at the price of one
    session of the class they were earned in (:func:`session_price`), per programme and
    location, with how much of that value expires in the next 7, 30 and 90 days, and how
    many of them — and how much of the value — closures caused (``closure_credits``,
    ``closure_value``: CLO-3). Credits of a class with no price for one session are counted
    apart (``unpriced``), never valued at 0. One aggregate query whatever the number of
    credits and classes."""

    def expiring(days: int):
        return Count("pk", filter=Q(expires_at__lte=now + timedelta(days=days)))

    per_class = (
        MakeupCredit.objects.usable(now)
        .filter(company=company)
        .values(
            "enrolment__klass",
            "enrolment__klass__programme__name",
            "enrolment__klass__location",
            *PRICE_FIELDS,
        )
        .annotate(
            sessions=_term_sessions(),
            n=Count("pk"),
            e7=expiring(7),
            e30=expiring(30),
            e90=expiring(90),
            closure_n=Count("pk", filter=FROM_CLOSURE),
        )
        .order_by()
    )
    rows: dict[tuple[str, str], LiabilityRow] = {}
    for r in per_class:
        programme = r["enrolment__klass__programme__name"]
        location = r["enrolment__klass__location"] or "—"
        row = rows.setdefault(
            (programme, location),
            LiabilityRow(programme, location, 0, ZERO, ZERO, ZERO, ZERO),
        )
        row.credits += r["n"]
        row.closure_credits += r["closure_n"]
        price = _price(r)
        if price is None:
            row.unpriced += r["n"]
            continue
        row.value += r["n"] * price
        row.expiring_7 += r["e7"] * price
        row.expiring_30 += r["e30"] * price
        row.expiring_90 += r["e90"] * price
        row.closure_value += r["closure_n"] * price
    result = []
    for _key, row in sorted(rows.items(), key=lambda item: item[0]):
        for name in ("value", "expiring_7", "expiring_30", "expiring_90", "closure_value"):
            setattr(row, name, _money(getattr(row, name)))
        result.append(row)
    return result


@dataclass
class ClosureCostRow:
    closure_id: int
    name: str
    first_day: date
    last_day: date
    removed: bool
    issued: int = 0  # credits the closure caused, not revoked (used, unused or expired)
    value: Decimal = ZERO  # of those used or still unused: make-ups given or still owed
    unused: int = 0
    unused_value: Decimal = ZERO
    unpriced: int = 0  # of ``issued``: no price for one session, so in neither value


def closure_costs(*, company: Company, now: datetime) -> list[ClosureCostRow]:
    """What each closure has cost in credits (CLO-3, beside BEY-5): the school-path credits
    issued for the lessons it cancelled and not revoked since, valued like the liability
    (:func:`session_price`) — the value of those used or still unused (expired ones cost
    nothing) — and, of them, the ones still unused with their value. Closures that issued
    no credit ("no credit: priced into the term", or every credit revoked) have no row. One
    aggregate query, soonest closure first."""
    per_class = (
        MakeupCredit.objects.filter(FROM_CLOSURE, company=company)
        .exclude(state=CreditState.REVOKED)
        .values(
            "attendance__session__closure",
            "attendance__session__closure__name",
            "attendance__session__closure__first_day",
            "attendance__session__closure__last_day",
            "attendance__session__closure__removed_at",
            "enrolment__klass",
            *PRICE_FIELDS,
        )
        .annotate(
            sessions=_term_sessions(),
            n=Count("pk"),
            spent_or_owed=Count("pk", filter=Q(state=CreditState.USED) | usable_q(now)),
            unused=Count("pk", filter=usable_q(now)),
        )
        .order_by()
    )
    rows: dict[int, ClosureCostRow] = {}
    for r in per_class:
        pk = r["attendance__session__closure"]
        row = rows.setdefault(
            pk,
            ClosureCostRow(
                closure_id=pk,
                name=r["attendance__session__closure__name"],
                first_day=r["attendance__session__closure__first_day"],
                last_day=r["attendance__session__closure__last_day"],
                removed=r["attendance__session__closure__removed_at"] is not None,
            ),
        )
        row.issued += r["n"]
        row.unused += r["unused"]
        price = _price(r)
        if price is None:
            row.unpriced += r["n"]
            continue
        row.value += r["spent_or_owed"] * price
        row.unused_value += r["unused"] * price
    for row in rows.values():
        row.value, row.unused_value = _money(row.value), _money(row.unused_value)
    return sorted(rows.values(), key=lambda r: (r.first_day, r.name, r.closure_id))


def _money(value) -> Decimal:
    """Two decimal places, whatever the database returns for a sum (SQLite drops them)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))
