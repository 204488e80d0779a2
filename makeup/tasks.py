"""Core Celery tasks: account e-mails and housekeeping."""

from celery import shared_task
from django.core.management import call_command
from django.urls import reverse

from .celery import CompanyTask
from .emails import send_templated_email
from .models import Membership, Role, User
from .tokens import email_confirmation_token


@shared_task(base=CompanyTask, bind=True)
def send_email_confirmation(self, company, user_id: int) -> int:
    """E-mail the sign-up confirmation link; nothing to do once the address is confirmed."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.email_confirmed_at is not None:
        return 0
    link = reverse("confirm_email", kwargs={"token": email_confirmation_token(user)})
    # A new company's owner (company sign-up) or a parent signing up to the portal.
    owner = Membership.objects.filter(user=user, company=company, role=Role.OWNER).exists()
    return send_templated_email(
        template="confirm_email",
        to=[user.email],
        language=user.language or company.language,
        context={"user": user, "company": company, "link": link, "owner": owner},
    )


@shared_task(base=CompanyTask, bind=True)
def send_account_exists(self, company, user_id: int) -> int:
    """Someone signed up with an address that already has a login: tell its owner, instead
    of telling the person at the form (that would reveal who has an account)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    return send_templated_email(
        template="account_exists",
        to=[user.email],
        language=user.language or company.language,
        context={"user": user, "company": company},
    )


@shared_task(acks_late=True)
def send_rendered_email(subject: str, body: str, html: str | None, to: list[str]) -> int:
    """Send an e-mail rendered by the web process (Django's password-reset form)."""
    from django.core.mail import EmailMultiAlternatives

    from .outbox import mail_headers

    message = EmailMultiAlternatives(subject=subject, body=body, to=to, headers=mail_headers())
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()


@shared_task(acks_late=True)
def housekeeping() -> None:
    """Nightly: drop expired login sessions and old failed-login records."""
    call_command("clearsessions")
    call_command("axes_reset_failure_logs", age=30)
