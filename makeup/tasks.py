"""Core Celery tasks: account e-mails and housekeeping."""

from datetime import timedelta
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.template import loader
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_scopes import scopes_disabled

from .models import Membership, Notification, OutboxMessage, Role, User
from .notifications.email import send_email, send_templated_email
from .notifications.services import notification_send
from .taskbase import CompanyTask
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
def send_company_signup_exists(user_id: int, language: str) -> int:
    """Someone tried to create a company with an address that already has a login: tell its
    owner how to log in and create it from there (the person at the form is told only to
    check their e-mail, as after any sign-up)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    return send_templated_email(
        template="company_signup_exists",
        to=[user.email],
        language=user.language or language or None,
        context={"user": user, "company": None},
    )


@shared_task(acks_late=True)
def send_password_reset(email: str, language: str) -> int:
    """E-mail a password-reset link to each active account of ``email`` that has a
    password (Django's rules); nothing for an unknown address. The link's token is made
    here, at sending time: the outbox row holds only the address. Returns the number sent."""
    site = urlsplit(settings.SITE_URL)
    sent = 0
    for user in PasswordResetForm().get_users(email):
        context = {
            "email": user.email,
            "domain": site.netloc,
            "site_name": site.netloc,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": site.scheme or "https",
        }
        with translation.override(user.language or language or settings.LANGUAGE_CODE):
            subject = loader.render_to_string("registration/password_reset_subject.txt", context)
            body = loader.render_to_string("registration/password_reset_email.txt", context)
            html = loader.render_to_string("registration/password_reset_email.html", context)
        sent += send_email(
            subject="".join(subject.splitlines()), text=body, html=html, to=[user.email]
        )
    return sent


@shared_task(base=CompanyTask, bind=True, outbox_own_transactions=True)
def send_notification(self, company, notification_id: int) -> str:
    """Send one notification (NTF-4). Runs outside the outbox's delivery transaction, so a
    failure is kept on the notification (the family page shows it) before the outbox tries
    again; the notification's own claim makes a second delivery send nothing."""
    return notification_send(notification_id=notification_id, now=timezone.now())


@shared_task(acks_late=True)
def housekeeping() -> None:
    """Nightly: drop expired login sessions, log-in records (successful and failed, with
    their IP addresses) older than ``LOGIN_RECORDS_KEEP_DAYS``, and sent outbox messages and
    notifications older than ``OUTBOX_KEEP_DAYS`` (they hold e-mail addresses and numbers)."""
    now = timezone.now()
    call_command("clearsessions")
    call_command("axes_reset_failure_logs", age=settings.LOGIN_RECORDS_KEEP_DAYS)
    call_command("axes_reset_logs", age=settings.LOGIN_RECORDS_KEEP_DAYS)
    OutboxMessage.objects.filter(
        done_at__lt=now - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    ).delete()
    with scopes_disabled():  # every company's old notifications (they hold addresses)
        Notification.objects.filter(
            created_at__lt=now - timedelta(days=settings.OUTBOX_KEEP_DAYS)
        ).exclude(state__in=[Notification.State.QUEUED, Notification.State.SENDING]).delete()
