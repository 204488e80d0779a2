"""Company links and their e-mailed invitations (FRN-1): invite, approve, decline, end.

A :class:`~franchise.models.CompanyLink` is shared by two companies and not scoped: every
function here says which company acts and checks it is one side of the link. Only owners
manage links (TEN-2).
"""

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup import outbox
from makeup.errors import DomainError
from makeup.models import Company, Membership, Role, User

from ..models import CompanyLink, new_nonce

INVITE_SALT = "franchise-invite"
LIVE_STATES = (CompanyLink.State.PENDING, CompanyLink.State.APPROVED)


# --- the e-mailed link ----------------------------------------------------------------------


def invite_max_age_days() -> int:
    return int(getattr(settings, "FRANCHISE_INVITE_MAX_AGE_DAYS", 14))


def link_invitation_token(link: CompanyLink) -> str:
    """The signed token of the invitation e-mail: the link and its current nonce, so it works
    until the link is answered (the nonce changes) or ``FRANCHISE_INVITE_MAX_AGE_DAYS``
    pass."""
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=INVITE_SALT, compress=True)


def link_from_token(token: str) -> CompanyLink:
    """The pending link of an invitation token, or a :class:`DomainError` that says why not:
    ``invalid`` (tampered, unknown), ``expired`` or ``answered`` (used already, cancelled)."""
    try:
        data = signing.loads(token, salt=INVITE_SALT, max_age=invite_max_age_days() * 86400)
    except signing.SignatureExpired:
        link = _token_link(_unsigned(token))
        days = invite_max_age_days()
        if link:
            # The English text says "days" for any number; Czech needs its plural forms.
            text = ngettext(
                "This invitation from %(company)s has expired: invitation links work for "
                "%(days)s days. Ask them to send a new one.",
                "This invitation from %(company)s has expired: invitation links work for "
                "%(days)s days. Ask them to send a new one.",
                days,
            ) % {"company": link.inviter.name, "days": days}
        else:
            text = ngettext(
                "This invitation has expired: invitation links work for %(days)s days. Ask "
                "them to send a new one.",
                "This invitation has expired: invitation links work for %(days)s days. Ask "
                "them to send a new one.",
                days,
            ) % {"days": days}
        raise DomainError(text, code="expired") from None
    except signing.BadSignature:
        raise DomainError(_("This invitation link is not valid."), code="invalid") from None
    link = _token_link(data)
    if link is None:
        raise DomainError(_("This invitation link is not valid."), code="invalid")
    if link.nonce != data.get("n") or link.state != CompanyLink.State.PENDING:
        raise DomainError(
            _(
                "This invitation from %(company)s has already been answered or cancelled: "
                "the link no longer works."
            )
            % {"company": link.inviter.name},
            code="answered",
        )
    return link


def _unsigned(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=INVITE_SALT)
    except signing.BadSignature:
        return None


def _token_link(data) -> CompanyLink | None:
    try:
        pk = int(data["l"])
    except (KeyError, TypeError, ValueError):
        return None
    return CompanyLink.objects.select_related("inviter", "invitee").filter(pk=pk).first()


# --- helpers ---------------------------------------------------------------------------------


def is_owner(*, user: User | None, company: Company) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, company=company, role=Role.OWNER).exists()


def check_owner(*, company: Company, actor: User) -> None:
    """Refuse (a :class:`DomainError`) anyone but an owner of ``company`` (TEN-2)."""
    if not is_owner(user=actor, company=company):
        raise DomainError(
            _("Only an owner of %(company)s can manage its partner links.")
            % {"company": company.name},
            code="not_owner",
        )


def _lock_companies(*ids: int) -> None:
    """Lock both companies of a pair in a fixed order, so two invitations between the same
    companies (either direction) are checked one after the other."""
    list(Company.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def live_link_between(a: int, b: int, *, exclude: int | None = None) -> CompanyLink | None:
    """The pending or approved link between companies ``a`` and ``b``, either direction."""
    links = CompanyLink.objects.filter(state__in=LIVE_STATES).filter(
        Q(inviter_id=a, invitee_id=b) | Q(inviter_id=b, invitee_id=a)
    )
    if exclude is not None:
        links = links.exclude(pk=exclude)
    return links.select_related("inviter", "invitee").first()


def _refuse_live_link(company: Company, other: Company, *, exclude: int | None = None) -> None:
    link = live_link_between(company.pk, other.pk, exclude=exclude)
    if link is None:
        return
    if link.state == CompanyLink.State.APPROVED:
        raise DomainError(
            _("%(company)s and %(other)s are already linked.")
            % {"company": company.name, "other": other.name},
            code="linked",
        )
    if link.inviter_id == company.pk:
        raise DomainError(
            _(
                "%(company)s already invited %(other)s: the invitation is waiting for their "
                "answer. Cancel it first to send a new one."
            )
            % {"company": company.name, "other": other.name},
            code="pending",
        )
    raise DomainError(
        _(
            "%(other)s already invited %(company)s: answer their invitation under Partner "
            "companies instead."
        )
        % {"company": company.name, "other": other.name},
        code="pending_incoming",
    )


def _companies_for_email(email: str) -> list[Company]:
    """Companies an e-mail address stands for: their contact address, or an owner's login."""
    owned = Membership.objects.filter(user__email__iexact=email, role=Role.OWNER).values(
        "company_id"
    )
    return list(
        Company.objects.filter(Q(contact_email__iexact=email) | Q(pk__in=owned)).order_by("pk")
    )


def _locked_link(link: CompanyLink) -> CompanyLink:
    return (
        CompanyLink.objects.select_for_update(of=("self",))
        .select_related("inviter", "invitee")
        .get(pk=link.pk)
    )


def _notify(recipient: Company | None, link: CompanyLink, event: str) -> None:
    if recipient is not None:
        outbox.enqueue("franchise.tasks.send_link_notice", recipient.pk, link.pk, event)


# --- links -----------------------------------------------------------------------------------


@transaction.atomic
def link_invite(
    *,
    company: Company,
    email: str,
    message: str = "",
    actor: User,
    now: datetime,
) -> CompanyLink:
    """FRN-1: ``company`` invites the company behind ``email`` to exchange make-ups.

    The invited company is the one whose contact address is ``email`` or one of whose owners
    logs in with it; when none (or several) match, the link waits for whoever follows the
    e-mailed link to pick one of the companies they own, or to create one. Inviting yourself
    and a second live link between the same two companies (either direction) are refused.
    The invitation e-mail goes out after the transaction commits.
    """
    check_owner(company=company, actor=actor)
    email = email.strip().lower()
    if not email:
        raise DomainError(_("Enter the e-mail address of the company to invite."), code="email")
    matches = _companies_for_email(email)
    others = [c for c in matches if c.pk != company.pk]
    if matches and not others:
        raise DomainError(
            _("%(email)s belongs to %(company)s itself: invite another company.")
            % {"email": email, "company": company.name},
            code="self",
        )
    invitee = others[0] if len(others) == 1 else None
    if invitee is not None:
        _lock_companies(company.pk, invitee.pk)
        _refuse_live_link(company, invitee)
    else:
        _lock_companies(company.pk)
        waiting = CompanyLink.objects.filter(
            inviter=company,
            invitee__isnull=True,
            invitee_email__iexact=email,
            state=CompanyLink.State.PENDING,
        ).exists()
        if waiting:
            raise DomainError(
                _(
                    "%(company)s already invited %(email)s: the invitation is waiting for an "
                    "answer. Cancel it first to send a new one."
                )
                % {"company": company.name, "email": email},
                code="pending",
            )
    link = CompanyLink.objects.create(
        inviter=company,
        invitee=invitee,
        invitee_email=email,
        message=message.strip(),
        created_at=now,
        created_by=actor,
    )
    outbox.enqueue("franchise.tasks.send_link_invitation", company.pk, link.pk)
    return link


def _answer(
    *, link: CompanyLink, company: Company, actor: User, state: str, now: datetime
) -> CompanyLink:
    link = _locked_link(link)
    if link.state != CompanyLink.State.PENDING:
        raise DomainError(
            _("This invitation is no longer waiting for an answer (%(state)s).")
            % {"state": link.get_state_display()},
            code="not_pending",
        )
    if link.invitee_id is not None and link.invitee_id != company.pk:
        raise DomainError(
            _("This invitation is for %(invitee)s, not %(company)s.")
            % {"invitee": link.invitee.name, "company": company.name},
            code="not_invitee",
        )
    if company.pk == link.inviter_id:
        raise DomainError(
            _("%(company)s sent this invitation: it can cancel it, not answer it.")
            % {"company": company.name},
            code="self",
        )
    check_owner(company=company, actor=actor)
    if state == CompanyLink.State.APPROVED:
        _lock_companies(link.inviter_id, company.pk)
        _refuse_live_link(company, link.inviter, exclude=link.pk)
    link.invitee = company
    link.state = state
    link.answered_at = now
    link.answered_by = actor
    link.nonce = new_nonce()  # the e-mailed link works once
    link.save(update_fields=["invitee", "state", "answered_at", "answered_by", "nonce"])
    _notify(link.inviter, link, state)
    return link


@transaction.atomic
def link_approve(*, link: CompanyLink, company: Company, actor: User, now: datetime) -> CompanyLink:
    """FRN-1: an owner of the invited ``company`` approves; from now on each side's families
    may book make-ups at the other (within the host's FRN-2/FRN-3 terms). Only a pending
    link; when the invitation named no company, ``company`` becomes the invitee."""
    return _answer(
        link=link, company=company, actor=actor, state=CompanyLink.State.APPROVED, now=now
    )


@transaction.atomic
def link_decline(*, link: CompanyLink, company: Company, actor: User, now: datetime) -> CompanyLink:
    """FRN-1: an owner of the invited ``company`` declines a pending invitation."""
    return _answer(
        link=link, company=company, actor=actor, state=CompanyLink.State.DECLINED, now=now
    )


@transaction.atomic
def link_end(*, link: CompanyLink, company: Company, actor: User, now: datetime) -> CompanyLink:
    """FRN-1: either side ends an approved link; the inviter may also cancel a pending
    invitation (the e-mailed link stops working). Make-up bookings already made stay as they
    are: only new bookings between the two companies stop."""
    link = _locked_link(link)
    if not link.involves(company.pk):
        raise DomainError(_("This link is not one of your company's."), code="not_yours")
    check_owner(company=company, actor=actor)
    if link.state == CompanyLink.State.PENDING:
        if company.pk != link.inviter_id:
            raise DomainError(
                _("This invitation is waiting for your answer: decline it instead."),
                code="pending_incoming",
            )
    elif link.state == CompanyLink.State.DECLINED:
        raise DomainError(_("This link is already declined."))
    elif link.state != CompanyLink.State.APPROVED:
        raise DomainError(_("This link is already ended."))
    was_pending = link.state == CompanyLink.State.PENDING
    link.state = CompanyLink.State.ENDED
    link.ended_at = now
    link.ended_by = actor
    link.ended_by_company = company
    link.nonce = new_nonce()
    link.save(update_fields=["state", "ended_at", "ended_by", "ended_by_company", "nonce"])
    if not was_pending:
        _notify(link.other(company.pk), link, "ended")
    return link
