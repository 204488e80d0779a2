"""Taking payments in the portal (BAL-5): a small provider interface, a built-in test
provider for the demo and the tests, and Stripe Checkout configured by environment.

A provider starts a payment (returns where to send the parent) and, for Stripe, reports it
back through a signed webhook. Either way the payment is recorded by
:func:`payment_record_online`, once per provider id however often it is reported.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import stripe
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from makeup.errors import DomainError

from ..models import Family, Payment

_TEST_SALT = "makeup.test-payment"
logger = logging.getLogger(__name__)


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
    """Stripe Checkout through Stripe's own library (``stripe``): the parent pays on Stripe's
    page; Stripe reports the payment to ``/payments/stripe/webhook/``, signed with the
    webhook secret, and :func:`stripe.Webhook.construct_event` checks the signature.

    ``api_base`` is Stripe's API (the library's own address) unless configured otherwise
    (``STRIPE_API_BASE``): the tests point it at a local fake of Stripe's HTTP API."""

    name = "stripe"
    tolerance = 300  # seconds a webhook signature stays valid (Stripe's own default)
    timeout = 10  # seconds to wait for Stripe while the parent waits for the page
    retries = 2  # network failures and Stripe's 5xx/409, safe thanks to idempotency keys

    def __init__(self, *, secret_key: str, webhook_secret: str, api_base: str = "") -> None:
        if not secret_key or not webhook_secret:
            raise DomainError("Stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
        self.secret_key, self.webhook_secret = secret_key, webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base or stripe.DEFAULT_API_BASE},
            http_client=stripe.RequestsClient(timeout=self.timeout),
            max_network_retries=self.retries,
        )

    def start(self, request: PaymentRequest) -> str:
        """Create a Checkout session for the amount due; returns Stripe's page to send the
        parent to. A refusal or an unreachable Stripe is a DomainError the parent can read."""
        family = request.family
        try:
            session = self.client.v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "success_url": request.success_url,
                    "cancel_url": request.cancel_url,
                    "client_reference_id": str(family.pk),
                    "metadata": {"family_id": str(family.pk), "company_id": str(family.company_id)},
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": request.currency.lower(),
                                "unit_amount": int(request.amount * 100),
                                "product_data": {"name": _("Account balance")},
                            },
                        }
                    ],
                }
            )
        except stripe.StripeError as error:
            logger.warning("Stripe Checkout not started for family %s: %r", family.pk, error)
            raise DomainError(
                _("The payment could not be started just now. Please try again in a moment.")
            ) from error
        return session.url

    def verify(self, payload: bytes, header: str, *, now: float) -> dict:
        """The webhook event, if ``header`` (Stripe-Signature) signs ``payload`` with our
        secret within the tolerance of ``now``; otherwise DomainError.

        The signature is Stripe's library's to check. The time window is checked here against
        ``now`` (the clock is an argument, as everywhere below a view), so the library's own
        window, which would read the machine's clock, is switched off (``tolerance=None``)."""
        stamp = _signed_at(header)
        if stamp is None:
            raise DomainError("Missing webhook timestamp.")
        if abs(now - stamp) > self.tolerance:
            raise DomainError("Webhook timestamp outside the tolerance.")
        try:
            event = stripe.Webhook.construct_event(
                payload, header, self.webhook_secret, tolerance=None, api_key=self.secret_key
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise DomainError("Bad webhook signature.") from error
        return event.to_dict()


def _signed_at(header: str) -> int | None:
    """The ``t=`` of a Stripe-Signature header (``t=<unix time>,v1=<signature>,...``)."""
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def test_payments_on() -> bool:
    """Whether the test provider is the one configured: asked for by name, and allowed
    (``ALLOW_TEST_PAYMENTS``, on by default only with DEBUG). Never a fallback."""
    return settings.PAYMENT_PROVIDER == "test" and settings.ALLOW_TEST_PAYMENTS


def get_provider() -> "StripeProvider | TestProvider | None":
    """The configured provider, or ``None``: then the portal takes no payments online."""
    if settings.PAYMENT_PROVIDER == "stripe":
        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
        )
    if test_payments_on():
        return TestProvider()
    return None
