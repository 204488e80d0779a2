"""Each company's terms for incoming make-ups from a partner (FRN-3), set by its owners
(TEN-2) on an approved link."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from makeup.audit import audit_record
from makeup.errors import DomainError
from makeup.models import AuditEntry, Company, User
from programmes.models import Programme

from ..models import CompanyLink, IncomingRestriction
from .links import check_owner, live_link_between


@transaction.atomic
def restriction_update(
    *,
    company: Company,
    partner: Company,
    programme_ids: list[int],
    max_guests_per_session: int | None,
    max_days_ahead: int | None,
    actor: User,
    now: datetime,
) -> IncomingRestriction:
    """FRN-3: what ``company`` (the host) accepts from ``partner``'s guests: which of its own
    programmes (none = every programme with FRN-2's switch on), at most how many of the
    partner's guests per session, and how many days ahead they may book. Only with an
    approved link; the programmes must be the company's own. The owners' audit log records
    the new terms only when they differ from the old ones."""
    check_owner(company=company, actor=actor)
    link = live_link_between(company.pk, partner.pk)
    if link is None or link.state != CompanyLink.State.APPROVED:
        raise DomainError(
            _("%(company)s and %(partner)s are not linked: approve a link first.")
            % {"company": company.name, "partner": partner.name},
            code="not_linked",
        )
    wanted = {int(pk) for pk in programme_ids}
    programmes = list(Programme.objects.filter(company=company, pk__in=wanted))
    if len(programmes) != len(wanted):
        raise DomainError(_("Choose among your own company's programmes."), code="programme")
    restriction = (
        IncomingRestriction.objects.select_for_update()
        .filter(company=company, partner=partner)
        .first()
    ) or IncomingRestriction(company=company, partner=partner)
    # No row is the same terms as a row with nothing chosen (see IncomingRestriction).
    before = (
        (
            set(restriction.programmes.values_list("pk", flat=True)),
            restriction.max_guests_per_session,
            restriction.max_days_ahead,
        )
        if restriction.pk
        else (set(), None, None)
    )
    restriction.max_guests_per_session = max_guests_per_session
    restriction.max_days_ahead = max_days_ahead
    try:
        restriction.full_clean(exclude=["company", "partner"], validate_unique=False)
    except ValidationError as error:
        text = "; ".join(
            f"{IncomingRestriction._meta.get_field(field).verbose_name}: {' '.join(errs)}"
            for field, errs in error.message_dict.items()
        )
        raise DomainError(text or _("Invalid restriction."), code="invalid") from error
    restriction.save()
    restriction.programmes.set(programmes)
    if before == (wanted, max_guests_per_session, max_days_ahead):
        return restriction  # saved unchanged: nothing for the audit log
    audit_record(
        company_id=company.pk,
        actor=actor,
        now=now,
        area=AuditEntry.Area.LINK,
        summary=_(
            "Incoming restrictions for %(partner)s: %(programmes)s; at most %(guests)s guests "
            "per session; %(days)s days ahead."
        )
        % {
            "partner": partner.name,
            "programmes": ", ".join(p.code for p in programmes) or _("every programme"),
            "guests": max_guests_per_session or "—",
            "days": max_days_ahead or "—",
        },
    )
    return restriction
