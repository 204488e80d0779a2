"""Taking payments in the portal (BAL-5): a small provider interface, a built-in test
provider for the demo and the tests, and Stripe Checkout configured by environment.

A provider starts a payment (returns where to send the parent) and, for Stripe, reports it
back through a signed webhook. Either way the payment is recorded by
:func:`payment_record_online`, once per provider id however often it is reported.
"""

import hashlib
import hmac
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from makeup.errors import DomainError

from ..models import Family, Payment

_TEST_SALT = "makeup.test-payment"


@dataclass(frozen=True)
class PaymentRequest:
    family: Family
    amount: Decimal
    currency: str
    success_url: str  # absolute
    cancel_url: str  # absolute


@transaction.atomic
def payment_record_online(
    *, family: Family, amount: Decimal, provider_reference: str, paid_on: date
) -> tuple[Payment, bool]:
    """Record a provider's payment once: a repeated report of the same id changes nothing.
    Returns the payment and whether it was new."""
    existing = Payment.objects.filter(provider_reference=provider_reference).first()
    if existing is not None:
        return existing, False
    if amount <= 0:
        raise DomainError(_("A payment is more than zero."))
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                company_id=family.company_id,
                family=family,
                amount=amount,
                method=Payment.Method.ONLINE,
                paid_on=paid_on,
                reference=provider_reference[:100],
                provider_reference=provider_reference,
            )
    except IntegrityError:  # the same report arrived twice at once
        return Payment.objects.get(provider_reference=provider_reference), False
    return payment, True


class TestProvider:
    """Pays at once on a page of this site: for the demo, the tests and laptops."""

    name = "test"

    @staticmethod
    def token(request: PaymentRequest) -> str:
        """Signed: whose payment, how much, and where to go back to."""
        return signing.dumps(
            {"f": request.family.pk, "a": str(request.amount), "n": request.success_url},
            salt=_TEST_SALT,
        )

    def start(self, request: PaymentRequest) -> str:
        token = self.token(request)
        slug = request.family.company.slug
        return reverse("portal:pay_test", kwargs={"company_slug": slug, "token": token})

    @staticmethod
    def read(token: str) -> dict:
        try:
            return signing.loads(token, salt=_TEST_SALT, max_age=60 * 60)
        except signing.BadSignature as error:
            raise DomainError(_("This payment link is invalid or has expired.")) from error


class StripeProvider:
    """Stripe Checkout: the parent pays on Stripe's page; Stripe reports the payment to
    ``/payments/stripe/webhook/`` with a signature checked against the webhook secret."""

    name = "stripe"
    api = "https://api.stripe.com/v1/checkout/sessions"
    tolerance = 300  # seconds a webhook signature stays valid

    def __init__(self, *, secret_key: str, webhook_secret: str) -> None:
        if not secret_key or not webhook_secret:
            raise DomainError("Stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
        self.secret_key, self.webhook_secret = secret_key, webhook_secret

    def start(self, request: PaymentRequest) -> str:
        data = urllib.parse.urlencode(
            {
                "mode": "payment",
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "client_reference_id": str(request.family.pk),
                "metadata[family_id]": str(request.family.pk),
                "metadata[company_id]": str(request.family.company_id),
                "line_items[0][quantity]": "1",
                "line_items[0][price_data][currency]": request.currency.lower(),
                "line_items[0][price_data][unit_amount]": str(int(request.amount * 100)),
                "line_items[0][price_data][product_data][name]": _("Account balance"),
            }
        ).encode()
        http = urllib.request.Request(  # noqa: S310 - a fixed https URL
            self.api,
            data=data,
            method="POST",
            headers={"Authorization": f"Bearer {self.secret_key}"},
        )
        with urllib.request.urlopen(http, timeout=10) as response:  # noqa: S310 - fixed https URL
            return json.loads(response.read())["url"]

    def verify(self, payload: bytes, header: str, *, now: float) -> dict:
        """The webhook event, if ``header`` (Stripe-Signature) signs ``payload`` with our
        secret within the tolerance; otherwise DomainError."""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        signatures = [
            v for k, v in (p.split("=", 1) for p in header.split(",") if "=" in p) if k == "v1"
        ]
        try:
            stamp = int(parts["t"])
        except (KeyError, ValueError) as error:
            raise DomainError("Missing webhook timestamp.") from error
        if abs(now - stamp) > self.tolerance:
            raise DomainError("Webhook timestamp outside the tolerance.")
        expected = hmac.new(
            self.webhook_secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
        ).hexdigest()
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            raise DomainError("Bad webhook signature.")
        return json.loads(payload)


def test_payments_on() -> bool:
    """Whether the test provider is the one configured: asked for by name, and allowed
    (``ALLOW_TEST_PAYMENTS``, on by default only with DEBUG). Never a fallback."""
    return settings.PAYMENT_PROVIDER == "test" and settings.ALLOW_TEST_PAYMENTS


def get_provider() -> "StripeProvider | TestProvider | None":
    """The configured provider, or ``None``: then the portal takes no payments online."""
    if settings.PAYMENT_PROVIDER == "stripe":
        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET
        )
    if test_payments_on():
        return TestProvider()
    return None
