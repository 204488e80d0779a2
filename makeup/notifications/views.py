"""The notification service's public endpoints: the one-click unsubscribe link of a
non-essential e-mail (NTF-2, RFC 8058) and Twilio's webhooks — a text to the school's number
(STOP, NTF-2) and a text's delivery status (NTF-4) — each checked by Twilio's signature."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_scopes import scope

from ..errors import DomainError
from ..models import Company
from ..tenancy import owner_required
from . import sms
from .kinds import Group
from .models import SmsProvider
from .services import (
    notification_status_record,
    sms_inbound,
    sms_provider_connect,
    sms_provider_disconnect,
    unsubscribe,
    unsubscribe_target,
)


@csrf_exempt  # RFC 8058: the mail program POSTs without a session or a form
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (a link scanner must not unsubscribe anybody); POST — the button,
    or the mail program's one-click ``List-Unsubscribe=One-Click`` — switches the group's
    e-mails off."""
    target = unsubscribe_target(token)
    if target is None:
        raise Http404
    company, email, group = target
    done = False
    if request.method == "POST":
        with scope(company=company):
            unsubscribe(company=company, email=email, group=group, now=timezone.now())
        done = True
    return render(
        request,
        "makeup/unsubscribe.html",
        {"company": company, "email": email, "group": Group(group).label, "done": done},
    )


def _twilio(request: HttpRequest, company_slug: str) -> Company | None:
    """The company, when the request carries Twilio's valid signature for the address it
    was sent to (``SITE_URL`` + path: the address the company gave Twilio). 404 for a
    company without a provider; ``None`` for a bad signature."""
    company = Company.objects.filter(slug=company_slug).first()
    if company is None:
        raise Http404
    with scope(company=company):
        provider = SmsProvider.objects.filter(company=company).first()
    if provider is None:
        raise Http404
    url = settings.SITE_URL + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not sms.signature_valid(provider, url=url, params=request.POST.dict(), signature=signature):
        return None
    return company


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, company_slug: str) -> HttpResponse:
    """NTF-4: Twilio reports a text's delivery (``MessageSid``, ``MessageStatus``,
    ``ErrorCode``)."""
    company = _twilio(request, company_slug)
    if company is None:
        return HttpResponse(status=403)
    with scope(company=company):
        notification_status_record(
            company=company,
            provider_id=request.POST.get("MessageSid", ""),
            status=request.POST.get("MessageStatus", ""),
            error_code=request.POST.get("ErrorCode", ""),
            now=timezone.now(),
        )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest, company_slug: str) -> HttpResponse:
    """NTF-2: a text to the company's number; STOP opts the sender out. Answers empty TwiML
    (Twilio itself confirms STOP to the sender)."""
    company = _twilio(request, company_slug)
    if company is None:
        return HttpResponse(status=403)
    with scope(company=company):
        sms_inbound(
            company=company,
            mobile=request.POST.get("From", ""),
            body=request.POST.get("Body", ""),
            now=timezone.now(),
        )
    return HttpResponse("<Response></Response>", content_type="text/xml")


@owner_required
@require_http_methods(["GET", "POST"])
def sms_settings(request: HttpRequest) -> HttpResponse:
    """Settings → text messages (NTF-1): an owner connects the company's Twilio account.
    The auth token is never shown again (it is stored encrypted)."""
    company = request.company
    if request.method == "POST":
        now = timezone.now()
        try:
            if request.POST.get("action") == "disconnect":
                sms_provider_disconnect(company=company, actor=request.user, now=now)
                messages.success(request, _("Text messages are disconnected."))
            else:
                sms_provider_connect(
                    company=company,
                    account_sid=request.POST.get("account_sid", ""),
                    auth_token=request.POST.get("auth_token", ""),
                    from_number=request.POST.get("from_number", ""),
                    actor=request.user,
                    now=now,
                )
                messages.success(request, _("Text messages are connected."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("manage:sms_settings")
    provider = SmsProvider.objects.filter(company=company).first()
    inbound = settings.SITE_URL + reverse(
        "notification_twilio_inbound", kwargs={"company_slug": company.slug}
    )
    return render(
        request, "makeup/sms_settings.html", {"provider": provider, "inbound_url": inbound}
    )
