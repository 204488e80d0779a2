"""Reads of company links (FRN-1) and incoming restrictions (FRN-3) for the franchise pages.
Links are shared by two companies and not scoped, so every read here filters by the company
asking, on either side."""

from django.db.models import Q, QuerySet
from django.http import Http404

from makeup.models import Company, Membership, Role, User

from ..models import CompanyLink, IncomingRestriction


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


def links_by_state(company: Company) -> dict[str, list[CompanyLink]]:
    """The partner companies page: ``company``'s links (as :func:`links_for`, each with its
    incoming ``restriction`` for the partner, FRN-3) grouped as ``incoming`` and ``outgoing``
    invitations, ``approved``, ``declined`` and ``ended``."""
    links = links_for(company)
    restrictions = restrictions_by_partner(company)
    for link in links:
        link.restriction = restrictions.get(link.partner.pk) if link.partner else None
    by_state = {state: [] for state in CompanyLink.State.values}
    for link in links:
        by_state[link.state].append(link)
    pending = by_state[CompanyLink.State.PENDING]
    return {
        "incoming": [link for link in pending if not link.outgoing],
        "outgoing": [link for link in pending if link.outgoing],
        "approved": by_state[CompanyLink.State.APPROVED],
        "declined": by_state[CompanyLink.State.DECLINED],
        "ended": by_state[CompanyLink.State.ENDED],
    }


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
