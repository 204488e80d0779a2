"""What the browser tests do again and again: log in as a demo user, find a demo lesson."""

import re
from datetime import timedelta

from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from programmes.models import Session

PASSWORD = "makeup-demo"  # every demo login's (makeup.demo.DEMO_PASSWORD)


def log_in(page: Page, base: str, email: str) -> None:
    """Log in on the real form as ``email`` and wait until the log-in page is left."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def past_session_with_students() -> Session:
    """A Riverside lesson of last week with regular students in a class that takes make-ups:
    a cancellation recorded now is after its cut-off. Built from the real now (browser tests
    keep the machine's clock)."""
    with scopes_disabled():
        return (
            Session.objects.filter(
                company__slug="riverside",
                starts_at__lt=timezone.now() - timedelta(days=2),
                cancelled_at__isnull=True,
                klass__enrolments__isnull=False,
                klass__allow_makeups=True,
            )
            .order_by("-starts_at", "pk")
            .first()
        )
