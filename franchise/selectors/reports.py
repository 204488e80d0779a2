"""FRN-8 / BEY-5: the partner report, make-ups exchanged with each partner per month.
:func:`partner_report` is one of the named functions that read another company's rows
(ARCHITECTURE: tenancy)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django_scopes import scopes_disabled

from bookings.models import MakeupBooking
from makeup.models import Company

ZERO = Decimal("0.00")


@dataclass
class MonthRow:
    month: date
    incoming: int = 0
    incoming_value: Decimal = ZERO
    outgoing: int = 0
    outgoing_value: Decimal = ZERO


@dataclass
class PartnerReport:
    partner: Company
    months: list[MonthRow] = field(default_factory=list)

    @property
    def incoming(self) -> int:
        return sum(m.incoming for m in self.months)

    @property
    def incoming_value(self) -> Decimal:
        return sum((m.incoming_value for m in self.months), ZERO)

    @property
    def outgoing(self) -> int:
        return sum(m.outgoing for m in self.months)

    @property
    def outgoing_value(self) -> Decimal:
        return sum((m.outgoing_value for m in self.months), ZERO)


def partner_report(company: Company, year: int) -> list[PartnerReport]:
    """FRN-8 / BEY-5: make-ups exchanged with each partner per month of ``year``.

    *Incoming*: guests of the partner hosted by ``company`` (host ``company``, home the
    partner); *outgoing*: ``company``'s students hosted by the partner. A booking counts unless
    cancelled (attended, no-show and still expected all count), in the month of its session's
    day, valued at the host class's price per session (incoming in this company's currency,
    outgoing in the partner's). FRN-7: counts and values only, no student.

    Reads bookings whose host is another company, so it runs outside the request's scope,
    with explicit filters that keep ``company`` on one side and a partner on the other.
    """
    with scopes_disabled():
        rows = (
            MakeupBooking.objects.filter(
                state=MakeupBooking.State.BOOKED, session__local_date__year=year
            )
            .filter(
                (Q(company=company) & ~Q(home_company=company))
                | (Q(home_company=company) & ~Q(company=company))
            )
            .annotate(month=ExtractMonth("session__local_date"))
            .values("company_id", "home_company_id", "month")
            .annotate(count=Count("pk"), value=Sum("session__klass__price_per_session"))
            .order_by()
        )
        cells: dict[int, dict[int, MonthRow]] = defaultdict(dict)
        for row in rows:
            incoming = row["company_id"] == company.pk
            partner_id = row["home_company_id"] if incoming else row["company_id"]
            month = row["month"]
            cell = cells[partner_id].setdefault(month, MonthRow(month=date(year, month, 1)))
            value = row["value"] or ZERO
            if incoming:
                cell.incoming += row["count"]
                cell.incoming_value += value
            else:
                cell.outgoing += row["count"]
                cell.outgoing_value += value
        partners = Company.objects.in_bulk(list(cells))
    report = [
        PartnerReport(partner=partners[pk], months=[cells[pk][m] for m in sorted(cells[pk])])
        for pk in cells
    ]
    report.sort(key=lambda r: (r.partner.name.lower(), r.partner.pk))
    return report


def partner_report_totals(company: Company, rows: list[PartnerReport]) -> dict:
    """The report's totals row: guests hosted and their value (in ``company``'s currency),
    students sent, and their value when every partner they went to shares ``company``'s
    currency (else ``None``: amounts in several currencies are not added up)."""
    totals = {
        "incoming": sum(r.incoming for r in rows),
        "incoming_value": sum(r.incoming_value for r in rows),
        "outgoing": sum(r.outgoing for r in rows),
    }
    currencies = {r.partner.currency for r in rows if r.outgoing}
    single = currencies <= {company.currency}
    totals["outgoing_value"] = sum(r.outgoing_value for r in rows) if single else None
    return totals
