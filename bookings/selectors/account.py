"""Reads for the family account (BAL-1, BAL-3), the balance gate (BAL-2…BAL-6) and the
statement a parent reads (DAY-5)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from makeup.models import Company
from makeup.shapes import Shape

from ..models import Charge, Family, Payment


@dataclass
class StatementRow:
    day: date
    description: str
    charge: Decimal | None
    payment: Decimal | None
    balance: Decimal


def family_statement(
    *,
    family: Family,
    since: date | None = None,
    until: date | None = None,
    opening: Decimal = Decimal("0.00"),
) -> list[StatementRow]:
    """Charges and payments in date order with the running balance (positive: owed), in two
    queries: all of them, or those dated after ``since`` and up to ``until``, the balance
    running on from ``opening``. Money is Decimal throughout."""
    dated = {}
    if since is not None:
        dated["__gt"] = since
    if until is not None:
        dated["__lte"] = until
    entries = [
        (c.charged_on, 0, c.pk, c.description, c.amount, None)
        for c in Charge.objects.filter(
            family=family,
            reversed_at__isnull=True,
            **{f"charged_on{k}": v for k, v in dated.items()},
        )
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
        for p in Payment.objects.filter(
            family=family, **{f"paid_on{k}": v for k, v in dated.items()}
        )
    ]
    entries.sort()
    balance = opening
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


def balance_gate(*, family: Family, now: datetime, company: Company | None = None) -> BalanceGate:
    """BAL-2…BAL-6: is ``family`` blocked from acting on its own (booking a make-up in the
    portal, starting a watch, being booked from a watch) at ``now``? The one computation the
    portal pages and the services use; "today" is ``now``'s day in the family's company's
    time zone. Only staff get past the gate (BAL-4). ``company``: the family's company with
    its settings, when the caller has it loaded (any other is not used)."""
    if company is None or company.pk != family.company_id:
        company = Company.objects.select_related("settings").get(pk=family.company_id)
    return _gate(family=family, company=company, now=now)


def _gate(*, family: Family, company: Company, now: datetime) -> BalanceGate:
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


def _family_sum(model, **filters):
    """The sum of ``amount`` of ``model`` rows (filtered by ``filters``) of each family
    (``OuterRef("pk")``), zero when none: a subquery for a query of families."""
    rows = (
        model.objects.filter(family=OuterRef("pk"), **filters)
        .order_by()
        .values("family")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Coalesce(Subquery(rows, output_field=money), Value(Decimal("0")), output_field=money)


def _window_sum(model, day_field: str, *, since: date, today: date, **filters):
    """:func:`_family_sum` of the rows dated in (``since``, ``today``], for
    :func:`blocked_families`."""
    return _family_sum(model, **{f"{day_field}__gt": since, f"{day_field}__lte": today}, **filters)


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


def amount_to_pay(*, family: Family, now: datetime, gate: BalanceGate | None = None) -> Decimal:
    """What a family is asked to pay online (BAL-5): with the balance gate active, exactly
    what blocks it (the same computation as the services', BAL-3); else the whole balance
    owed. ``gate``: the family's :func:`balance_gate` at ``now``, when the caller has it."""
    gate = gate or balance_gate(family=family, now=now)
    if gate.active:
        return gate.due
    return family_balance(family=family)


def family_balance(*, family: Family) -> Decimal:
    """BAL-1: the family's whole balance (positive: owed) — the last running balance of its
    :func:`family_statement`, summed by the database in one compiled read."""
    (charged, paid) = _BALANCE(family_id=family.pk)[0]
    return charged - paid


def _balance(family_id: int):
    return (
        Family.objects.filter(pk=family_id)
        .annotate(charged=_family_sum(Charge, reversed_at__isnull=True), paid=_family_sum(Payment))
        .values_list("charged", "paid")
    )


_BALANCE = Shape(_balance)


#: Without the balance gate, the statement shows this many days, after the balance before.
STATEMENT_DAYS = 365


@dataclass
class AccountStatement:
    """DAY-5: the statement a parent reads — the charges and payments of a period, their
    totals and the amount due they make up. With the balance gate active, the period is the
    gate's (the last ``gate.days`` days up to today, BAL-3) and ``due`` is exactly what the
    gate counts; without it, the last :data:`STATEMENT_DAYS` days (and any charge dated
    later) after the balance brought forward, ``due`` the whole balance owed — in both cases
    what :func:`amount_to_pay` asks."""

    gate: BalanceGate
    since: date  # the period starts the day after
    until: date | None  # its last day; None: every later entry too
    opening: Decimal  # the balance before the period, when it counts (no gate)
    rows: list[StatementRow]
    charged: Decimal
    paid: Decimal

    @property
    def due(self) -> Decimal:
        return self.opening + self.charged - self.paid


def family_account_statement(*, family: Family, now: datetime) -> AccountStatement:
    """DAY-5: the family's statement at ``now`` (see :class:`AccountStatement`), in at most
    five queries."""
    company = Company.objects.select_related("settings").get(pk=family.company_id)
    gate = _gate(family=family, company=company, now=now)
    today = timezone.localdate(now, timezone=company.tzinfo)
    if gate.active:
        since, until, opening = today - timedelta(days=gate.days), today, Decimal("0.00")
    else:
        since, until = today - timedelta(days=STATEMENT_DAYS), None
        charged = Charge.objects.filter(
            family=family, reversed_at__isnull=True, charged_on__lte=since
        ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
        paid = Payment.objects.filter(family=family, paid_on__lte=since).aggregate(
            total=Sum("amount")
        )["total"] or Decimal("0.00")
        opening = charged - paid
    rows = family_statement(family=family, since=since, until=until, opening=opening)
    return AccountStatement(
        gate=gate,
        since=since,
        until=until,
        opening=opening,
        rows=rows,
        charged=sum((r.charge for r in rows if r.charge), Decimal("0.00")),
        paid=sum((r.payment for r in rows if r.payment), Decimal("0.00")),
    )
