"""Portal tasks: a new sign-up confirmation link, looked up when it is sent."""

from celery import shared_task

from bookings.selectors import portal_companies_for_user
from makeup.models import Membership, User
from makeup.tasks import send_email_confirmation


@shared_task(acks_late=True)
def resend_email_confirmation(email: str) -> int:
    """Send a new confirmation link to the login of ``email`` while it waits for
    confirmation; nothing for any other address. The lookup happens here, not in the request,
    so the "new link" page does the same work (one outbox row) whoever asks.

    The e-mail carries the name of a company the login belongs to: a portal it signed up to,
    else the company it signed up to create. Returns the number sent."""
    user = User.objects.filter(
        email__iexact=email, email_confirmed_at__isnull=True, is_active=True
    ).first()
    if user is None:
        return 0
    companies = portal_companies_for_user(user)
    company = companies[0] if companies else None
    if company is None:
        membership = Membership.objects.filter(user=user).order_by("pk").first()
        company = membership.company if membership else None
    if company is None:
        return 0
    return send_email_confirmation(company.pk, user.pk) or 0
