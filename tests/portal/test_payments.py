"""BAL-5: a blocked parent is taken to the payment page, pays, and books at once. Stripe is
reached through the official ``stripe`` library only, pointed at a local fake of Stripe's
HTTP API (tests/fake_stripe.py) — never the internet; its webhooks are signed here with the
library's own scheme, verified by it, recorded once, forged and stale ones refused."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState as S
from bookings.models import MakeupBooking, Payment
from bookings.services import attendance_set_state
from bookings.services.payments import StripeProvider
from makeup.errors import DomainError
from tests import factories as f
from tests.fake_stripe import FakeStripe

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_0123456789"
KEY = "sk_test_x"
WEBHOOK = "/payments/stripe/webhook/"


@pytest.fixture
def fake_stripe(settings):
    """Stripe configured, its API a local fake the test can look into."""
    with FakeStripe(secret_key=KEY) as fake:
        settings.PAYMENT_PROVIDER = "stripe"
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = KEY, SECRET
        settings.STRIPE_API_BASE = fake.url
        yield fake


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
    """The body and the Stripe-Signature header Stripe would send, signed by the library's
    own helper for tests (Stripe's documented scheme: HMAC-SHA256 of "<t>.<body>")."""
    body = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=stamp or int(time.time())
    )
    return body.encode(), header


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
    """Five minutes either side of the signature's time, judged against the ``now`` given
    (the clock is an argument), the signature itself by the library."""
    provider = StripeProvider(secret_key=KEY, webhook_secret=SECRET)
    body, header = _signed({"type": "x"}, stamp=1_000_000)
    assert provider.verify(body, header, now=1_000_000 + 300) == {"type": "x"}
    assert provider.verify(body, header, now=1_000_000 - 300) == {"type": "x"}
    for now in (1_000_000 + 301, 1_000_000 - 301):
        with pytest.raises(DomainError):
            provider.verify(body, header, now=now)
    _, forged = _signed({"type": "x"}, secret="whsec_someone_else", stamp=1_000_000)
    for bad in (forged, "", "v1=" + header.split("v1=")[1], header.replace("v1=", "v0=")):
        with pytest.raises(DomainError):
            provider.verify(body, bad, now=1_000_000)
    with pytest.raises(DomainError):  # signed, but not JSON
        provider.verify(b"{", _signed_raw(b"{", stamp=1_000_000), now=1_000_000)


def _signed_raw(body: bytes, *, stamp: int) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, stamp)


def test_bal_5_no_payment_page_when_portal_payments_are_off(pf, login):
    assert login(pf.user).get(f"/portal/{pf.company.slug}/pay/").status_code == 404


def test_bal_5_stripe_checkout_is_started_with_the_amount_due(pf, fake_stripe):
    """The library creates the Checkout session on (the fake of) Stripe's API: the amount in
    cents, the currency, whose payment it is, where to come back to."""
    from bookings.services.payments import PaymentRequest, get_provider

    url = get_provider().start(
        PaymentRequest(
            family=pf.family,
            amount=Decimal("25.50"),
            currency="AUD",
            success_url="https://x/ok",
            cancel_url="https://x/no",
        )
    )
    (session,) = fake_stripe.sessions.values()
    assert url == session["url"] == f"https://checkout.stripe.test/c/pay/{session['id']}"
    (call,) = fake_stripe.requests
    assert (call["method"], call["path"]) == ("POST", "/v1/checkout/sessions")
    assert call["headers"]["Authorization"] == f"Bearer {KEY}"
    # Stripe's library made the call: its user agent, API version and idempotency key.
    assert call["headers"]["User-Agent"].startswith("Stripe/v1 PythonBindings/")
    assert call["headers"]["Stripe-Version"] and call["headers"]["Idempotency-Key"]
    form = call["form"]
    assert form["mode"] == "payment"
    assert (form["success_url"], form["cancel_url"]) == ("https://x/ok", "https://x/no")
    assert form["client_reference_id"] == str(pf.family.pk)
    assert form["metadata"] == {"family_id": str(pf.family.pk), "company_id": str(pf.company.pk)}
    assert form["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "aud",
                "unit_amount": "2550",
                "product_data": {"name": "Account balance"},
            },
        }
    ]
    assert session["amount_total"] == 2550


def test_bal_5_blocked_parent_pays_through_stripe_checkout_and_books_at_once(
    pf, login, fake_stripe
):
    """The whole way: refused, sent to Stripe's page for the amount due, Stripe reports the
    payment (twice, as it may), one payment is recorded and the booking goes ahead."""
    _blocked(pf)
    parent = login(pf.user)
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
    refused = parent.post(confirm, {"note": "after paying"})
    assert "/pay/?next=" in refused["Location"]
    to_stripe = parent.post(refused["Location"])
    (session,) = fake_stripe.sessions.values()
    assert to_stripe.status_code == 302 and to_stripe["Location"] == session["url"]
    assert session["amount_total"] == 2500 and session["currency"] == "aud"
    assert session["success_url"] == f"http://testserver{confirm}"
    assert parent.post(confirm, {"note": "still unpaid"})["Location"] == refused["Location"]

    event = fake_stripe.complete(session["id"], created=int(time.time()))
    for _ in range(2):  # Stripe retries until it hears 2xx: one payment however often
        body, header = _signed(event)
        response = Client().post(  # Stripe's call: no cookies, no CSRF token
            WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 200
    with scope(company=pf.company):
        (payment,) = Payment.objects.all()
        assert payment.amount == Decimal("25.00") and payment.method == "online"
        assert payment.provider_reference == f"stripe-{session['id']}"
    booked = parent.post(confirm, {"note": "after paying"})
    assert booked.status_code == 302 and "/makeups/" in booked["Location"]
    with scope(company=pf.company):
        assert MakeupBooking.objects.filter(student=pf.ava.student).exists()


@pytest.mark.parametrize(
    "refusal",
    [
        (401, "invalid_request_error", "Invalid API Key provided: sk_test_*****"),
        (400, "invalid_request_error", "Amount must be at least 50 cents."),
        (500, "api_error", "Something went wrong on Stripe's end."),
    ],
)
def test_bal_5_a_refused_stripe_checkout_keeps_the_parent_on_the_payment_page(
    pf, login, fake_stripe, refusal, caplog
):
    """Stripe says no: the parent stays on the payment page, told to try again; nothing is
    recorded, and Stripe's reason is in the log for whoever runs the site."""
    status, kind, message = refusal
    _blocked(pf)
    fake_stripe.refuse_next(status, type_=kind, message=message)
    page = login(pf.user).post(_pay_url(pf), follow=True)
    assert page.status_code == 200 and page.redirect_chain == []
    html = page.content.decode()
    assert "The payment could not be started just now. Please try again in a moment." in html
    assert "Amount due: <strong>AUD 25.00</strong>" in html
    assert len(fake_stripe.requests) == 1 and not fake_stripe.sessions
    assert "Stripe Checkout not started" in caplog.text and message in caplog.text
    with scopes_disabled():
        assert not Payment.objects.exists()


@override_settings(PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY=KEY, STRIPE_WEBHOOK_SECRET=SECRET)
def test_bal_5_stripe_out_of_reach_keeps_the_parent_on_the_payment_page(pf, login):
    """No answer from Stripe (here: a closed local port) after the library's retries: the same
    message, not an error page."""
    _blocked(pf)
    page = login(pf.user).post(_pay_url(pf))
    assert page.status_code == 200
    assert "The payment could not be started just now." in page.content.decode()


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
