"""The owners' webhook pages (API-4): the endpoints, one endpoint with its last deliveries and
their status, a delivery sent again. Only owners (TEN-2); another company's endpoint or
delivery answers 404 (TEN-1)."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from makeup.errors import DomainError
from makeup.tenancy import access_object, owner_required

from ..forms import WebhookEndpointForm
from ..models import WebhookDelivery, WebhookEndpoint
from ..services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_new_secret,
    webhook_endpoint_update,
    webhook_resend,
)
from ..services.webhooks import MAX_ATTEMPTS

#: How many of an endpoint's deliveries its page lists, newest first.
DELIVERIES_SHOWN = 30


def _endpoints(company) -> list[WebhookEndpoint]:
    State = WebhookDelivery.State
    return list(
        WebhookEndpoint.objects.filter(company=company).annotate(
            waiting=Count("deliveries", filter=Q(deliveries__state=State.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__state=State.FAILED)),
        )
    )


@owner_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The company's endpoints and a form for a new one; its secret is shown on this answer
    only."""
    form = WebhookEndpointForm(request.POST or None)
    created = secret = None
    if request.method == "POST":
        if form.is_valid():
            try:
                created, secret = webhook_endpoint_create(
                    company=request.company,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except DomainError as error:
                form.add_error("url" if error.code == "url" else None, error.message)
            else:
                form = WebhookEndpointForm()
        if created is None:
            messages.error(request, _("No webhook was added: please correct the fields below."))
    return render(
        request,
        "api/webhooks.html",
        {
            "form": form,
            "endpoints": _endpoints(request.company),
            "created": created,
            "secret": secret,
        },
    )


def _detail(request: HttpRequest, endpoint: WebhookEndpoint, form, secret: str | None = None):
    deliveries = list(
        WebhookDelivery.objects.filter(company=request.company, endpoint=endpoint)[
            :DELIVERIES_SHOWN
        ]
    )
    return render(
        request,
        "api/webhook.html",
        {
            "endpoint": endpoint,
            "form": form,
            "secret": secret,
            "deliveries": deliveries,
            "max_attempts": MAX_ATTEMPTS,
        },
    )


def _endpoint(request: HttpRequest, endpoint_pk: int) -> WebhookEndpoint:
    return access_object(WebhookEndpoint.objects.all(), company=request.company, pk=endpoint_pk)


@owner_required
def webhook_detail(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    """One endpoint: change its address, events or description, turn it off or on; its last
    deliveries with their status."""
    endpoint = _endpoint(request, endpoint_pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "active": endpoint.active,
    }
    form = WebhookEndpointForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        if form.is_valid():
            try:
                webhook_endpoint_update(
                    endpoint=endpoint,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                    active=form.cleaned_data["active"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except DomainError as error:
                form.add_error("url" if error.code == "url" else None, error.message)
            else:
                messages.success(request, _("The webhook is saved."))
                return redirect("manage:webhook", endpoint_pk=endpoint.pk)
        messages.error(request, _("Nothing was saved: please correct the fields below."))
    return _detail(request, endpoint, form)


@require_POST
@owner_required
def webhook_new_secret(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_pk)
    secret = webhook_endpoint_new_secret(endpoint=endpoint, actor=request.user, now=timezone.now())
    endpoint.refresh_from_db()
    form = WebhookEndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "active": endpoint.active,
        },
        editing=True,
    )
    return _detail(request, endpoint, form, secret=secret)


@require_POST
@owner_required
def webhook_delete(request: HttpRequest, endpoint_pk: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_pk)
    webhook_endpoint_delete(endpoint=endpoint, actor=request.user, now=timezone.now())
    messages.success(request, _("The webhook to %(url)s is removed.") % {"url": endpoint.url})
    return redirect("manage:webhooks")


@require_POST
@owner_required
def delivery_resend(request: HttpRequest, endpoint_pk: int, delivery_pk: int) -> HttpResponse:
    """Send one delivery again, now."""
    endpoint = _endpoint(request, endpoint_pk)
    delivery = access_object(
        WebhookDelivery.objects.select_related("endpoint", "company"),
        company=request.company,
        pk=delivery_pk,
        endpoint=endpoint,
    )
    try:
        webhook_resend(delivery=delivery, actor=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The message is being sent again."))
    return redirect("manage:webhook", endpoint_pk=endpoint.pk)
