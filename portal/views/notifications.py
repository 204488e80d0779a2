"""The parent's notification page (NTF-2): per group of messages, e-mail and/or text; the
mobile number, confirmed by a code sent to it by text."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from makeup.errors import DomainError
from makeup.notifications.kinds import Channel, Group
from makeup.notifications.selectors import contact_choices
from makeup.notifications.services import (
    mobile_code_send,
    mobile_confirm,
    mobile_remove,
    preferences_set,
)
from makeup.ratelimit import RateLimited, limit_email_request

from ..access import access_guardian


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest, company_slug: str) -> HttpResponse:
    guardian = access_guardian(request)
    company = request.company
    email = guardian.email or request.user.email
    if request.method == "POST":
        now = timezone.now()
        action = request.POST.get("action", "")
        try:
            if action == "mobile":
                # Texts cost the school money: at most RATE_LIMIT_PER_ADDRESS codes to a
                # number per window, and RATE_LIMIT_PER_IP from one client.
                limit_email_request(
                    request,
                    action="mobile-code",
                    email=request.POST.get("mobile", "").replace(" ", ""),
                    now=now,
                )
                number = mobile_code_send(
                    company=company,
                    email=email,
                    user=request.user,
                    mobile=request.POST.get("mobile", ""),
                    now=now,
                )
                messages.success(
                    request, _("We sent a code to %(number)s. Enter it below.") % {"number": number}
                )
            elif action == "code":
                mobile_confirm(
                    company=company, email=email, code=request.POST.get("code", ""), now=now
                )
                messages.success(request, _("Your mobile number is confirmed."))
            elif action == "remove":
                mobile_remove(company=company, email=email, now=now)
                messages.success(request, _("Your mobile number is removed."))
            elif action == "choices":
                choices = {
                    group: {
                        channel: request.POST.get(f"{group}-{channel}") == "on"
                        for channel in Channel.values
                    }
                    for group in Group.values
                }
                preferences_set(
                    company=company, email=email, user=request.user, choices=choices, now=now
                )
                messages.success(request, _("Your choices are saved."))
        except (DomainError, RateLimited) as error:
            messages.error(request, error.message)
        return redirect("portal:notifications", company_slug=company.slug)
    return render(
        request,
        "portal/notifications.html",
        {
            "guardian": guardian,
            "email": email,
            "choices": contact_choices(company=company, email=email),
        },
    )
