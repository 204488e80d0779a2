"""Accounts (login, e-mail confirmation, password reset) and the back office's core pages."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from .errors import DomainError
from .forms import (
    CompanyDetailsForm,
    CompanySettingsForm,
    EmailAuthenticationForm,
    QueuedPasswordResetForm,
)
from .services import company_settings_update, company_update, user_confirm_email
from .tenancy import SESSION_COMPANY_KEY, access_company_for_user, admin_required, staff_required


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    success_url = reverse_lazy("password_reset_done")


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The sign-up link: confirm the address, log the parent in, take them to their portal."""
    try:
        user = user_confirm_email(token=token)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, "Thank you: your e-mail address is confirmed.")
    return redirect("landing")


# --- back office ------------------------------------------------------------------------


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "makeup/dashboard.html")


@require_POST
@staff_required
def switch_company(request: HttpRequest, company_id: int) -> HttpResponse:
    """Change the company the back office works in, among the user's own (404 otherwise)."""
    membership = access_company_for_user(request.user, company_id)
    request.session[SESSION_COMPANY_KEY] = membership.company_id
    messages.info(request, f"You are now working in {membership.company.name}.")
    return redirect("manage:dashboard")


@admin_required
def company_settings(request: HttpRequest) -> HttpResponse:
    """Company details and make-up settings, on one page with two forms."""
    company = request.company
    details_form = CompanyDetailsForm(instance=company, prefix="company")
    settings_form = CompanySettingsForm(instance=company.settings, prefix="settings")
    if request.method == "POST":
        details_form = CompanyDetailsForm(request.POST, instance=company, prefix="company")
        settings_form = CompanySettingsForm(
            request.POST, instance=company.settings, prefix="settings"
        )
        if details_form.is_valid() and settings_form.is_valid():
            try:
                with transaction.atomic():
                    company_update(company=company, **details_form.cleaned_data)
                    company_settings_update(company=company, **settings_form.cleaned_data)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "Settings saved.")
                return redirect("manage:settings")
        else:
            messages.error(request, "Nothing was saved: please correct the fields marked below.")
    return render(
        request,
        "makeup/settings.html",
        {"details_form": details_form, "settings_form": settings_form},
    )


def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker: one query, plain text."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok\n", content_type="text/plain")
