"""System checks for production (``manage.py check --deploy``)."""

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


def register() -> None:
    checks.register(test_payments_check, checks.Tags.security, deploy=True)
