"""The parents' accounts: where login sends everyone (the company choice), signing up to a
company's portal, joining it with an existing login, and a new confirmation link."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookings.selectors import portal_companies_for_user
from bookings.services import parent_join, parent_signup
from makeup import outbox, ratelimit
from makeup.errors import DomainError
from makeup.tenancy import memberships_for_user

from ..access import access_company
from ..forms import ResendConfirmationForm, SignupForm


def landing(request: HttpRequest) -> HttpResponse:
    """Where login sends everyone: staff to the back office, parents to their portal."""
    if not request.user.is_authenticated:
        return redirect("login")
    if memberships_for_user(request.user):
        return redirect("manage:dashboard")
    companies = portal_companies_for_user(request.user)
    if len(companies) == 1:
        return redirect("portal:home", company_slug=companies[0].slug)
    return render(request, "portal/landing.html", {"companies": companies})


def signup(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = access_company(request)
    if request.user.is_authenticated:
        return redirect("portal:home", company_slug=company.slug)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ratelimit.limit_email_request(
            request, action="signup", email=form.cleaned_data["email"], now=timezone.now()
        )
        parent_signup(
            now=timezone.now(),
            company=company,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data["full_name"],
        )
        # The same answer whether or not the address already had a login.
        return render(request, "portal/signup_done.html", {"email": form.cleaned_data["email"]})
    return render(request, "portal/signup.html", {"form": form})


@require_POST
@login_required
def join(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = access_company(request)
    try:
        parent_join(company=company, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Welcome to {company}'s portal.").format(company=company.name))
    return redirect("portal:home", company_slug=company.slug)


def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """Ask for a new sign-up link. The answer never says whether the address has a login,
    and the request does the same work either way: the worker looks the login up."""
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        ratelimit.limit_email_request(
            request, action="confirmation", email=email, now=timezone.now()
        )
        outbox.enqueue("portal.tasks.resend_email_confirmation", email)
        messages.info(
            request,
            _("If that address has an account waiting for confirmation, a new link is on its way."),
        )
        return redirect("login")
    return render(request, "registration/resend_confirmation.html", {"form": form})
