"""Reads for the family account (BAL-1, BAL-3) and the balance gate (BAL-2…BAL-6)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from makeup.models import Company

from ..models import Charge, Family, Payment


@dataclass
class StatementRow:
    day: date
    description: str
    charge: Decimal | None
    payment: Decimal | None
    balance: Decimal


def family_statement(*, family: Family) -> list[StatementRow]:
    """Charges and payments in date order with the running balance (positive: owed), in two
    queries. Money is Decimal throughout."""
    entries = [
        (c.charged_on, 0, c.pk, c.description, c.amount, None)
        for c in Charge.objects.filter(family=family, reversed_at__isnull=True)
    ] + [
        (
            p.paid_on,
            1,
            p.pk,
            _("Payment ({method})").format(method=p.get_method_display())
            + (f" · {p.reference}" if p.reference else ""),
            None,
            p.amount,
        )
        for p in Payment.objects.filter(family=family)
    ]
    entries.sort()
    balance = Decimal("0.00")
    rows = []
    for day, _kind, _pk, description, charge, payment in entries:
        balance += (charge or 0) - (payment or 0)
        rows.append(StatementRow(day, description, charge, payment, balance))
    return rows


def balance_due(*, family: Family, days: int, today: date) -> Decimal:
    """BAL-3: the charges of the last ``days`` days minus the payments of the same days —
    the window is (today − days, today], so a charge exactly ``days`` days old is outside.
    Zero or negative means up to date."""
    since = today - timedelta(days=days)
    charged = Charge.objects.filter(
        family=family, reversed_at__isnull=True, charged_on__gt=since, charged_on__lte=today
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    paid = Payment.objects.filter(family=family, paid_on__gt=since, paid_on__lte=today).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    return charged - paid


@dataclass(frozen=True)
class BalanceGate:
    """The balance gate for one family at one moment (BAL-2, BAL-3): ``active`` when the
    family's company has the switch on and the days set; ``due`` the charges of the last
    ``days`` days minus the payments of those days (zero when the gate is off)."""

    active: bool
    days: int | None
    due: Decimal
    currency: str

    @property
    def blocked(self) -> bool:
        """Blocked when the gate is active and something is due: zero or less is up to date."""
        return self.active and self.due > 0


def balance_gate(*, family: Family, now: datetime) -> BalanceGate:
    """BAL-2…BAL-6: is ``family`` blocked from acting on its own (booking a make-up in the
    portal, starting a watch, being booked from a watch) at ``now``? The one computation the
    portal pages and the services use; "today" is ``now``'s day in the family's company's
    time zone. Only staff get past the gate (BAL-4)."""
    company = Company.objects.select_related("settings").get(pk=family.company_id)
    settings = company.settings
    if not settings.balance_gate_active:
        return BalanceGate(active=False, days=None, due=Decimal("0"), currency=company.currency)
    due = balance_due(
        family=family,
        days=settings.balance_gate_days,
        today=timezone.localdate(now, timezone=company.tzinfo),
    )
    return BalanceGate(
        active=True, days=settings.balance_gate_days, due=due, currency=company.currency
    )


def _window_sum(model, day_field: str, *, since: date, today: date, **filters):
    """The sum of ``amount`` of ``model`` rows of each family (``OuterRef("pk")``) dated in
    (``since``, ``today``], zero when none: a subquery for :func:`blocked_families`."""
    rows = (
        model.objects.filter(
            family=OuterRef("pk"),
            **{f"{day_field}__gt": since, f"{day_field}__lte": today},
            **filters,
        )
        .order_by()
        .values("family")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Coalesce(Subquery(rows, output_field=money), Value(Decimal("0")), output_field=money)


def blocked_families(*, company: Company, now: datetime) -> QuerySet[Family]:
    """Every family of ``company`` the balance gate blocks at ``now`` (BAL-2, BAL-3), each
    annotated with ``due``: the computation of :func:`balance_gate` for all families at once,
    in one query however many there are (the Today page counts them, the family list filters
    by them). None while the gate is off. ``company.settings`` is read as loaded."""
    settings = company.settings
    if not settings.balance_gate_active:
        return Family.objects.none()
    today = timezone.localdate(now, timezone=company.tzinfo)
    since = today - timedelta(days=settings.balance_gate_days)
    charged = _window_sum(Charge, "charged_on", since=since, today=today, reversed_at__isnull=True)
    paid = _window_sum(Payment, "paid_on", since=since, today=today)
    return (
        Family.objects.filter(company=company)
        .annotate(due=charged - paid)
        .filter(due__gt=0)
        .order_by("name", "pk")
    )


def amount_to_pay(*, family: Family, now: datetime) -> Decimal:
    """What a family is asked to pay online (BAL-5): with the balance gate active, exactly
    what blocks it (the same computation as the services', BAL-3); else the whole balance
    owed."""
    gate = balance_gate(family=family, now=now)
    if gate.active:
        return gate.due
    statement = family_statement(family=family)
    return statement[-1].balance if statement else Decimal("0")
