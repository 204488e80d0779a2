"""The parent portal: /portal/<company_slug>/… The middleware has found the company from
the slug and entered its scope; a slug that names no company is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings.selectors import guardian_for_user, portal_companies_for_user
from bookings.services import parent_join, parent_signup
from makeup.errors import DomainError
from makeup.models import User
from makeup.services import user_request_confirmation
from makeup.tenancy import memberships_for_user

from .forms import ResendConfirmationForm, SignupForm
from .selectors import family_absences, family_credits


def _company(request: HttpRequest):
    if request.company is None:
        raise Http404
    return request.company


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


def home(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = _company(request)
    guardian = guardian_for_user(company=company, user=request.user)
    if guardian is None:
        return render(request, "portal/welcome.html")
    students = list(guardian.family.students.all())
    return render(
        request,
        "portal/home.html",
        {
            "guardian": guardian,
            "family": guardian.family,
            "students": students,
            "credits": family_credits(family=guardian.family, now=timezone.now()),
            "absences": family_absences(family=guardian.family),
        },
    )


def signup(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = _company(request)
    if request.user.is_authenticated:
        return redirect("portal:home", company_slug=company.slug)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        parent_signup(
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
    company = _company(request)
    try:
        parent_join(company=company, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Welcome to {company.name}'s portal.")
    return redirect("portal:home", company_slug=company.slug)


def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """Ask for a new sign-up link. The answer never says whether the address has a login."""
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(
            email__iexact=form.cleaned_data["email"],
            email_confirmed_at__isnull=True,
            is_active=True,
        ).first()
        if user is not None:
            companies = portal_companies_for_user(user)
            if companies:
                user_request_confirmation(user=user, company=companies[0])
        messages.info(
            request,
            "If that address has an account waiting for confirmation, a new link is on its way.",
        )
        return redirect("login")
    return render(request, "registration/resend_confirmation.html", {"form": form})
