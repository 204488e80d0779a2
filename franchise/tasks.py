"""Celery tasks of the franchise: the invitation e-mail and notices to the other side (FRN-1).

Thin wrappers sent after the service's transaction commits; each re-reads the link and does
nothing when it is no longer in the state the e-mail is about.
"""

from celery import shared_task
from django.urls import reverse
from django.utils.http import urlencode

from makeup.models import Membership, Role
from makeup.notifications.email import send_templated_email
from makeup.taskbase import CompanyTask

from .models import CompanyLink
from .services.links import invite_max_age_days, link_invitation_token


def _link(link_id: int) -> CompanyLink | None:
    return (
        CompanyLink.objects.filter(pk=link_id)
        .select_related("inviter", "invitee", "created_by")
        .first()
    )


@shared_task(base=CompanyTask, bind=True)
def send_link_invitation(self, company, link_id: int) -> int:
    """E-mail the invitation of ``company`` (the inviter) with its signed, expiring link and,
    for an address without a company yet, the way to create one first."""
    link = _link(link_id)
    if link is None or link.inviter_id != company.pk or link.state != CompanyLink.State.PENDING:
        return 0
    token = link_invitation_token(link)
    answer = reverse("manage:franchise_invitation", kwargs={"token": token})
    signup = f"{reverse('company_signup')}?{urlencode({'invitation': token})}"
    language = link.invitee.language if link.invitee else company.language
    return send_templated_email(
        template="franchise_invitation",
        to=[link.invitee_email],
        language=language,
        context={
            "company": company,
            "link": link,
            "answer_link": answer,
            "signup_link": signup,
            "max_age_days": invite_max_age_days(),
            "inviter_name": link.created_by.get_full_name() if link.created_by else "",
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_link_notice(self, company, link_id: int, event: str) -> int:
    """Tell ``company``'s owners that the other side approved, declined or ended their link."""
    link = _link(link_id)
    if link is None or not link.involves(company.pk):
        return 0
    expected = {"approved": "approved", "declined": "declined", "ended": "ended"}.get(event)
    if expected is None or link.state != expected:
        return 0
    owners = list(
        Membership.objects.filter(company=company, role=Role.OWNER, user__is_active=True)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    if not owners:
        return 0
    return send_templated_email(
        template="franchise_link_notice",
        to=owners,
        language=company.language,
        context={
            "company": company,
            "partner": link.other(company.pk),
            "event": event,
            "link": link,
            "partners_link": reverse("manage:franchise"),
        },
    )
