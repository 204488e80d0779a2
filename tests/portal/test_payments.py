"""BAL-5: a blocked parent is taken to the payment page, pays, and books at once; Stripe
webhooks are verified with a real HMAC, recorded once, forged ones refused."""

import hashlib
import hmac
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState as S
from bookings.models import MakeupBooking, Payment
from bookings.services import attendance_set_state
from bookings.services.payments import StripeProvider
from makeup.errors import DomainError
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_0123456789"


def _blocked(pf):
    """The gate on (30 days) with portal payments, and one unpaid lesson of last week."""
    settings = pf.company.settings
    settings.balance_gate_enabled, settings.balance_gate_days = True, 30
    settings.portal_payments_enabled = True
    settings.save()
    with scope(company=pf.company):
        past = f.SessionFactory(klass=pf.home, local_date=pf.lesson.local_date - timedelta(days=7))
        attendance_set_state(now=timezone.now(), enrolment=pf.ava, session=past, state=S.PRESENT)


def test_bal_5_blocked_parent_pays_with_the_test_provider_and_books_at_once(pf, login):
    _blocked(pf)
    client = login(pf.user)
    with scope(company=pf.company):
        credit = add_credit(pf.ava)
    confirm = reverse(
        "portal:makeup_confirm",
        kwargs={
            "company_slug": pf.company.slug,
            "credit_pk": credit.pk,
            "session_pk": pf.session.pk,
        },
    )
    with time_machine.travel(NOW, tick=False):
        refused = client.post(confirm, {"note": "after paying"})
        assert refused.status_code == 302 and "/pay/?next=" in refused["Location"]
        page = client.get(refused["Location"])
        assert "Amount due: <strong>AUD 25.00</strong>" in page.content.decode()
        assert "Test payments: no money is taken" in page.content.decode()
        to_provider = client.post(refused["Location"])
        test_page = client.get(to_provider["Location"])
        assert b"no money moves" in test_page.content
        assert b"Test payments: no money is taken" in test_page.content
        paid = client.post(to_provider["Location"])
        assert paid["Location"].endswith(confirm)
        booked = client.post(confirm, {"note": "after paying"})
    assert booked.status_code == 302 and "/makeups/" in booked["Location"]
    with scope(company=pf.company):
        assert Payment.objects.get().method == "online"
        assert MakeupBooking.objects.filter(student=pf.ava.student).exists()
    # The same test-payment link twice records one payment.
    client.post(to_provider["Location"])
    with scopes_disabled():
        assert Payment.objects.count() == 1


def _signed(payload: dict, *, secret=SECRET, stamp=None) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    stamp = stamp or int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={digest}"


def _event(pf, session_id="cs_test_1", amount=2500):
    return {
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session_id,
                "amount_total": amount,
                "metadata": {
                    "family_id": str(pf.ava.student.family_id),
                    "company_id": str(pf.company.pk),
                },
            }
        },
    }


@override_settings(
    PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET=SECRET
)
def test_bal_5_stripe_webhook_is_verified_and_recorded_once(pf, client):
    body, header = _signed(_event(pf))
    for _ in range(2):  # Stripe retries: one payment
        response = client.post(
            "/payments/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
        assert response.status_code == 200
    with scopes_disabled():
        (payment,) = Payment.objects.all()
    assert payment.amount == Decimal("25.00") and payment.provider_reference == "stripe-cs_test_1"


@override_settings(
    PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET=SECRET
)
def test_bal_5_forged_or_stale_webhooks_are_refused(pf, client):
    body, forged = _signed(_event(pf), secret="whsec_someone_else")
    assert (
        client.post(
            "/payments/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=forged,
        ).status_code
        == 400
    )
    body, stale = _signed(_event(pf), stamp=int(time.time()) - 3600)
    assert (
        client.post(
            "/payments/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=stale,
        ).status_code
        == 400
    )
    tampered, header = _signed(_event(pf))
    tampered = tampered.replace(b"2500", b"9")
    assert (
        client.post(
            "/payments/stripe/webhook/",
            tampered,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        ).status_code
        == 400
    )
    with scopes_disabled():
        assert not Payment.objects.exists()


def test_bal_5_stripe_signature_check_at_the_tolerance_boundary():
    provider = StripeProvider(secret_key="sk", webhook_secret=SECRET)
    body, header = _signed({"type": "x"}, stamp=1_000_000)
    assert provider.verify(body, header, now=1_000_000 + 300) == {"type": "x"}
    with pytest.raises(DomainError):
        provider.verify(body, header, now=1_000_000 + 301)


def test_bal_5_no_payment_page_when_portal_payments_are_off(pf, login):
    assert login(pf.user).get(f"/portal/{pf.company.slug}/pay/").status_code == 404


def test_bal_5_stripe_checkout_is_started_with_the_amount_due(pf, monkeypatch):
    """No test talks to the internet: the Stripe API call is replaced by a fake."""
    from bookings.services.payments import PaymentRequest

    seen = {}

    class FakeResponse:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return json.dumps({"id": "cs_1", "url": "https://checkout.stripe.test/cs_1"}).encode()

    def fake_urlopen(request, timeout):
        seen["url"], seen["body"] = request.full_url, request.data.decode()
        seen["auth"] = request.get_header("Authorization")
        return FakeResponse()

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    provider = StripeProvider(secret_key="sk_test_x", webhook_secret=SECRET)
    url = provider.start(
        PaymentRequest(
            family=pf.family,
            amount=Decimal("25.50"),
            currency="AUD",
            success_url="https://x/ok",
            cancel_url="https://x/no",
        )
    )
    assert url == "https://checkout.stripe.test/cs_1"
    assert seen["url"] == "https://api.stripe.com/v1/checkout/sessions"
    assert seen["auth"] == "Bearer sk_test_x"
    assert "unit_amount%5D=2550" in seen["body"] and "currency%5D=aud" in seen["body"]
    assert f"family_id%5D={pf.family.pk}" in seen["body"]


def _pay_url(pf) -> str:
    return reverse("portal:pay", kwargs={"company_slug": pf.company.slug})


@override_settings(PAYMENT_PROVIDER="")
def test_bal_5_without_a_provider_the_parent_is_told_to_pay_the_school_directly(pf, login):
    _blocked(pf)
    client = login(pf.user)
    page = client.get(_pay_url(pf)).content.decode()
    assert "Amount due: <strong>AUD 25.00</strong>" in page
    assert "please pay Alpha Swim directly" in page
    assert "now</button>" not in page and "Test payments" not in page
    assert client.post(_pay_url(pf)).status_code == 200  # no provider to be sent to
    with scopes_disabled():
        assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "configured",
    [
        {"PAYMENT_PROVIDER": ""},
        {"PAYMENT_PROVIDER": "test", "ALLOW_TEST_PAYMENTS": False},
        {"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk", "STRIPE_WEBHOOK_SECRET": SECRET},
    ],
)
def test_bal_5_a_test_payment_link_pays_nothing_unless_test_payments_are_on(
    pf, login, settings, configured
):
    """A link signed while test payments were on (or forged with a leaked key) records no
    payment once the test provider is not the configured one."""
    from bookings.services.payments import PaymentRequest, TestProvider

    _blocked(pf)
    token = TestProvider.token(
        PaymentRequest(
            family=pf.family,
            amount=Decimal("156.00"),
            currency="AUD",
            success_url="/",
            cancel_url="/",
        )
    )
    for name, value in configured.items():
        setattr(settings, name, value)
    url = reverse("portal:pay_test", kwargs={"company_slug": pf.company.slug, "token": token})
    client = login(pf.user)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    with scopes_disabled():
        assert not Payment.objects.exists()
