"""Payments in the parent portal (BAL-5): the statement (DAY-5), the payment page, the
built-in test provider's page and the Stripe webhook."""

import hashlib
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from bookings.models import Family
from bookings.selectors.account import amount_to_pay, family_account_statement
from bookings.services.payments import (
    PaymentRequest,
    TestProvider,
    get_provider,
    payment_record_online,
    test_payments_on,
)
from makeup.errors import DomainError

from ..access import access_company, access_guardian


def to_payment(request: HttpRequest, *, next_url: str) -> HttpResponse:
    """The payment page, coming back to ``next_url`` once paid (BAL-5)."""
    return redirect(
        reverse("portal:pay", kwargs={"company_slug": request.company.slug})
        + "?"
        + urlencode({"next": next_url})
    )


@login_required
def pay(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The payment page: the amount due and "Pay now" through the configured provider. A
    parent refused a make-up by the balance check is sent here, and back after paying."""
    company = access_company(request)
    family = access_guardian(request).family
    if not company.settings.portal_payments_enabled:
        raise Http404
    due = amount_to_pay(family=family, now=timezone.now())
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    back = next_url or reverse("portal:home", kwargs={"company_slug": company.slug})
    provider = get_provider()
    if request.method == "POST" and due > 0 and provider is not None:
        try:
            target = provider.start(
                PaymentRequest(
                    family=family,
                    amount=due,
                    currency=company.currency,
                    success_url=request.build_absolute_uri(back),
                    cancel_url=request.build_absolute_uri(request.get_full_path()),
                )
            )
        except DomainError as error:  # the provider refused or could not be reached
            messages.error(request, error.message)
        else:
            return redirect(target)
    return render(
        request,
        "portal/pay.html",
        {
            "due": due,
            "next": next_url,
            "back": back,
            "online": provider is not None,
            "test_payments": isinstance(provider, TestProvider),
        },
    )


@login_required
def statement(request: HttpRequest, company_slug: str) -> HttpResponse:
    """DAY-5: the family's charges and payments of the period and the amount due they make
    up — with the balance check on, exactly what it counts."""
    company = access_company(request)
    family = access_guardian(request).family
    return render(
        request,
        "portal/statement.html",
        {
            "statement": family_account_statement(family=family, now=timezone.now()),
            "can_pay": company.settings.portal_payments_enabled,
        },
    )


@login_required
def pay_test(request: HttpRequest, company_slug: str, token: str) -> HttpResponse:
    """The built-in test provider's page: "Pay" records the payment at once. Only while the
    test provider is the configured one: a link signed earlier pays nothing afterwards."""
    if not test_payments_on():
        raise Http404
    company = access_company(request)
    family = access_guardian(request).family
    try:
        data = TestProvider.read(token)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:home", company_slug=company.slug)
    if data["f"] != family.pk:
        raise Http404
    amount = Decimal(data["a"])
    if request.method == "POST":
        reference = "test-" + hashlib.sha256(token.encode()).hexdigest()[:24]
        payment_record_online(
            family=family, amount=amount, provider_reference=reference, paid_on=timezone.localdate()
        )
        messages.success(
            request,
            _("Thank you: {currency} {amount} paid.").format(
                currency=company.currency, amount=f"{amount:.2f}"
            ),
        )
        return redirect(data["n"])
    return render(request, "portal/pay_test.html", {"amount": amount})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe reports a completed Checkout session; the signature is checked and the payment
    recorded once however often the event arrives."""
    if settings.PAYMENT_PROVIDER != "stripe":
        raise Http404
    provider = get_provider()
    try:
        event = provider.verify(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            now=timezone.now().timestamp(),
        )
    except DomainError:
        return HttpResponse(status=400)
    if event.get("type") != "checkout.session.completed":
        return HttpResponse(status=204)
    session = event["data"]["object"]
    metadata = session.get("metadata") or {}
    with scopes_disabled():  # the webhook has no company in its URL: the metadata names it
        family = Family.objects.filter(
            pk=metadata.get("family_id"), company_id=metadata.get("company_id")
        ).first()
        if family is None:
            return HttpResponse(status=204)
        payment_record_online(
            family=family,
            amount=Decimal(session["amount_total"]) / 100,
            provider_reference=f"stripe-{session['id']}",
            paid_on=timezone.localdate(),
        )
    return HttpResponse(status=200)
