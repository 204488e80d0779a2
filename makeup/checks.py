"""System checks: for production (``manage.py check --deploy``), and of settings that would
fail only later."""

from django.conf import settings
from django.core import checks


def test_payments_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The built-in test payment provider records payments without taking money."""
    if getattr(settings, "PAYMENT_PROVIDER", "") != "test":
        return []
    return [
        checks.Warning(
            "PAYMENT_PROVIDER is 'test': parents 'pay' in the portal and the payment is "
            "recorded, but no money is taken.",
            hint="Set PAYMENT_PROVIDER=stripe (with STRIPE_SECRET_KEY and "
            "STRIPE_WEBHOOK_SECRET), or leave it unset to take no payments in the portal.",
            id="makeup.W001",
        )
    ]


def notifications_key_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``NOTIFICATIONS_SECRET_KEY`` encrypts the companies' Twilio tokens: a malformed one
    would fail only when an owner connects Twilio, so it fails at start instead."""
    from .notifications.secrets import key_problem

    problem = key_problem()
    if not problem:
        return []
    return [
        checks.Error(
            f"NOTIFICATIONS_SECRET_KEY is not a Fernet key: {problem}",
            hint='Make one with python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())", or leave it unset.',
            id="makeup.E001",
        )
    ]


def register() -> None:
    checks.register(test_payments_check, checks.Tags.security, deploy=True)
    checks.register(notifications_key_check, checks.Tags.security)
