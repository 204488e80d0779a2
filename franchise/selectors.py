"""Reads of the franchise. Links are shared by two companies and not scoped, so every read
here filters by the company asking, on either side. :func:`partner_report` is one of the
named functions that read another company's rows (ARCHITECTURE: tenancy)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth
from django.http import Http404
from django_scopes import scopes_disabled

from bookings.models import MakeupBooking
from makeup.models import Company, Membership, Role, User

from .models import CompanyLink, IncomingRestriction

ZERO = Decimal("0.00")


def _links(company: Company) -> QuerySet[CompanyLink]:
    return CompanyLink.objects.filter(Q(inviter=company) | Q(invitee=company)).select_related(
        "inviter", "invitee", "created_by", "answered_by", "ended_by", "ended_by_company"
    )


def _decorate(link: CompanyLink, company: Company) -> CompanyLink:
    link.outgoing = link.inviter_id == company.pk
    link.partner = link.other(company.pk)
    link.partner_name = link.partner.name if link.partner else link.invitee_email
    return link


def links_for(company: Company) -> list[CompanyLink]:
    """Every link of ``company``, whichever side invited, newest first; each carries
    ``outgoing`` (this company invited), ``partner`` (the other company, ``None`` while an
    invitation waits for somebody to create theirs) and ``partner_name``."""
    return [_decorate(link, company) for link in _links(company)]


def pending_invitations_for(company: Company) -> list[CompanyLink]:
    """Invitations waiting for ``company``'s answer."""
    links = _links(company).filter(invitee=company, state=CompanyLink.State.PENDING)
    return [_decorate(link, company) for link in links]


def access_link(*, company: Company | None, link_pk: int) -> CompanyLink:
    """One of ``company``'s links by id, or 404 alike for missing and other companies'."""
    if company is None:
        raise Http404
    link = _links(company).filter(pk=link_pk).first()
    if link is None:
        raise Http404
    return _decorate(link, company)


def approved_partner(*, company: Company | None, partner_id: int) -> Company:
    """The partner ``partner_id`` of an approved link with ``company``, or 404."""
    if company is None:
        raise Http404
    linked = CompanyLink.objects.filter(state=CompanyLink.State.APPROVED).filter(
        Q(inviter=company, invitee_id=partner_id) | Q(invitee=company, inviter_id=partner_id)
    )
    if not linked.exists():
        raise Http404
    return Company.objects.get(pk=partner_id)


def restrictions_by_partner(company: Company) -> dict[int, IncomingRestriction]:
    """``company``'s incoming restrictions (FRN-3), by partner id, programmes loaded."""
    rows = IncomingRestriction.objects.filter(company=company).prefetch_related("programmes")
    return {row.partner_id: row for row in rows}


def companies_owned_by(user: User, *, exclude: int | None = None) -> list[Company]:
    """The companies ``user`` owns (a place to answer an invitation that named none)."""
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("company_id")
    companies = Company.objects.filter(pk__in=owned).order_by("name", "pk")
    if exclude is not None:
        companies = companies.exclude(pk=exclude)
    return list(companies)


# --- FRN-8 / BEY-5: the settlement report ----------------------------------------------------


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
