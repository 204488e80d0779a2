"""Celery tasks of bookings: thin wrappers that send e-mails after a service committed."""

from celery import shared_task
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode

from makeup.notifications.email import send_templated_email
from makeup.taskbase import CompanyTask

from .models import Guardian
from .services.imports import family_import_run, family_imports_purge


def invite_accept_path(user) -> str:
    """The link that lets an invited parent choose a password (Django's reset token: it
    works once, for ``PASSWORD_RESET_TIMEOUT``, and not after the password changes)."""
    return reverse(
        "invite_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_parent_invite(self, company, guardian_id: int) -> int:
    """E-mail a parent invited to the portal: a link to choose a password while their login
    has none or is unconfirmed, else a note that they now have access with their login.
    Nothing to send when the parent lost their login or e-mail meanwhile."""
    guardian = (
        Guardian.objects.filter(pk=guardian_id, company=company).select_related("user").first()
    )
    if guardian is None or guardian.user is None or not guardian.user.is_active:
        return 0
    user = guardian.user
    context = {"user": user, "guardian": guardian, "company": company}
    if user.email_confirmed_at is None or not user.has_usable_password():
        template = "parent_invite"
        context["link"] = invite_accept_path(user)
    else:
        template = "parent_invite_access"
        portal = reverse("portal:home", kwargs={"company_slug": company.slug})
        context["link"] = f"{reverse('login')}?{urlencode({'next': portal})}"
    return send_templated_email(
        template=template,
        to=[user.email],
        language=user.language or company.language,
        context=context,
    )


@shared_task(base=CompanyTask, bind=True)
def run_family_import(self, company, import_id: int) -> str:
    """The check, or the confirmed import, of an uploaded CSV file (one transaction, with its
    progress for the page). A second delivery finds the work done and does nothing."""
    job = family_import_run(company=company, import_id=import_id, now=timezone.now())
    return job.state if job is not None else "missing"


@shared_task(acks_late=True)
def purge_family_imports() -> int:
    """Beat, hourly: drop the files checked but never confirmed."""
    return family_imports_purge(now=timezone.now())
