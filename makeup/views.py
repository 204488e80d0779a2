"""Accounts (login, e-mail confirmation, password reset) and the back office's core pages."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from . import hooks, ratelimit
from .devmail import dev_mail, dev_mails, mail_dir
from .errors import DomainError
from .forms import (
    CompanyDetailsForm,
    CompanyOwnerSignupForm,
    CompanySettingsForm,
    CompanySignupForm,
    EmailAuthenticationForm,
    QueuedPasswordResetForm,
)
from .services import (
    company_create,
    company_owner_signup,
    company_settings_update,
    company_update,
    user_confirm_email,
    user_set_language,
)
from .tenancy import SESSION_COMPANY_KEY, access_company_for_user, admin_required, staff_required

# Where to go once a new owner has confirmed their e-mail address (a company sign-up).
AFTER_CONFIRMATION_KEY = "makeup_after_confirmation"


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # An address that failed too many log-ins (whatever the e-mail) is told so plainly.
        ratelimit.check_login(request, now=timezone.now())
        return super().post(request, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """The e-mail is made by the worker (:class:`QueuedPasswordResetForm`); at most a few
    per address and per client address (makeup.ratelimit)."""

    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        ratelimit.limit_email_request(
            self.request,
            action="password-reset",
            email=form.cleaned_data["email"],
            now=timezone.now(),
        )
        return super().form_valid(form)


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The sign-up link: confirm the address, log the parent in, take them to their portal."""
    try:
        user = user_confirm_email(now=timezone.now(), token=token)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Thank you: your e-mail address is confirmed."))
    # A company sign-up continues where it started (e.g. the invitation it came from).
    after = request.session.pop(AFTER_CONFIRMATION_KEY, None)
    if after and url_has_allowed_host_and_scheme(after, allowed_hosts={request.get_host()}):
        return redirect(after)
    return redirect("landing")


def _invitation_next(request: HttpRequest) -> str | None:
    """The franchise invitation page a company sign-up came from (``?invitation=<token>``):
    the sign-up continues there once the company exists. The token is checked there."""
    token = request.GET.get("invitation", "").strip()
    if not token:
        return None
    try:
        return reverse("manage:franchise_invitation", kwargs={"token": token})
    except NoReverseMatch:
        return None


def company_signup(request: HttpRequest) -> HttpResponse:
    """Create a company and become its owner. Logged in: the company's details only. Else
    also a login, confirmed through the e-mailed link like a parent's; following it logs the
    owner in and continues to the invitation the sign-up came from, if any. The answer to a
    sign-up is the same whether or not the address already has a login (its owner is
    e-mailed instead), so the form tells nobody who has an account."""
    next_url = _invitation_next(request)
    if request.user.is_authenticated:
        form = CompanySignupForm(request.POST or None)
    else:
        form = CompanyOwnerSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.user.is_authenticated:
            try:
                company = company_create(
                    name=data["name"],
                    slug=data["slug"],
                    timezone=data["timezone"],
                    currency=data["currency"],
                    owner=request.user,
                )
            except DomainError as error:
                form.add_error("slug", error.message)
            else:
                request.session[SESSION_COMPANY_KEY] = company.pk
                messages.success(
                    request,
                    _("%(company)s is created; you are its owner.") % {"company": company.name},
                )
                return redirect(next_url or "manage:dashboard")
        else:
            ratelimit.limit_email_request(
                request, action="signup", email=data["email"], now=timezone.now()
            )
            try:
                company_owner_signup(
                    email=data["email"],
                    password=data["password1"],
                    full_name=data["full_name"],
                    name=data["name"],
                    slug=data["slug"],
                    timezone=data["timezone"],
                    currency=data["currency"],
                    language=get_language(),
                    now=timezone.now(),
                )
            except DomainError as error:
                form.add_error("slug", error.message)
            else:
                request.session[AFTER_CONFIRMATION_KEY] = next_url or reverse("manage:dashboard")
                return render(
                    request,
                    "makeup/company_signup_done.html",
                    {
                        "email": data["email"],
                        "company_name": data["name"],
                        "invitation": bool(next_url),
                    },
                )
    here = request.get_full_path()
    return render(
        request,
        "makeup/company_signup.html",
        {
            "form": form,
            "invitation": bool(next_url),
            "login_url": f"{reverse('login')}?{urlencode({'next': here})}",
        },
    )


# --- back office ------------------------------------------------------------------------


# The to-do lines with the most urgent first (then in the apps' order).
TONE_ORDER = {"danger": 0, "warning": 1, "info": 2}


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Today (DAY-2), the back office's home: what needs doing now, as the apps registered it
    with :mod:`makeup.hooks` — each a count with a link, the ones at zero listed as done —
    and the day's sessions with their roll call."""
    now = timezone.now()
    items = hooks.today_items(
        company=request.company, user=request.user, membership=request.membership, now=now
    )
    todo = [item for item in items if not item.agenda]
    due = sorted((item for item in todo if item.due), key=lambda i: TONE_ORDER.get(i.tone, 3))
    return render(
        request,
        "makeup/dashboard.html",
        {
            "now": now,
            "due": due,
            "done": [item for item in todo if not item.due],
            "agenda": [item for item in items if item.agenda],
        },
    )


@require_POST
@staff_required
def switch_company(request: HttpRequest, company_id: int) -> HttpResponse:
    """Change the company the back office works in, among the user's own (404 otherwise)."""
    membership = access_company_for_user(request.user, company_id)
    request.session[SESSION_COMPANY_KEY] = membership.company_id
    messages.info(
        request,
        _("You are now working in %(company)s.") % {"company": membership.company.name},
    )
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
                now = timezone.now()
                with transaction.atomic():
                    company_update(
                        company=company, actor=request.user, now=now, **details_form.cleaned_data
                    )
                    company_settings_update(
                        company=company, actor=request.user, now=now, **settings_form.cleaned_data
                    )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("manage:settings")
        else:
            messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return render(
        request,
        "makeup/settings.html",
        {"details_form": details_form, "settings_form": settings_form},
    )


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language chooser in the footer: kept with the login (so e-mails follow it) and in
    a cookie (for visitors), then back to the page."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if language not in {code for code, _name in settings.LANGUAGES}:
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 86400,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


# --- the local mail viewer (DEBUG only) ----------------------------------------------------


def _dev_mail_folder():
    """The folder of sent e-mails, for the developer's viewer: 404 unless ``DEBUG``."""
    if not settings.DEBUG:
        raise Http404
    return mail_dir()


@require_GET
@staff_required
def dev_mail_list(request: HttpRequest) -> HttpResponse:
    """DEBUG only: the e-mails this laptop sent (``var/mail/``), newest first, one of them
    shown decoded with its HTML rendered."""
    folder = _dev_mail_folder()
    mails = dev_mails(folder) if folder is not None else []
    key = request.GET.get("m", "")
    shown = (dev_mail(folder, key) if key else None) if folder is not None else None
    if shown is None and mails and not key:
        shown = mails[0]
    return render(
        request,
        "makeup/dev_mail.html",
        {"folder": folder, "mails": mails, "shown": shown, "backend": _mailer_backend()},
    )


def _mailer_backend() -> str:
    return settings.MAILERS.get("default", {}).get("BACKEND", "")


@require_GET
@staff_required
@xframe_options_sameorigin
@csp_override(
    {
        "default-src": [CSP.NONE],
        "style-src": [CSP.UNSAFE_INLINE],
        "img-src": ["data:"],
        "frame-ancestors": [CSP.SELF],
        "sandbox": True,
    }
)
def dev_mail_html(request: HttpRequest) -> HttpResponse:
    """DEBUG only: one e-mail's HTML part, for the viewer's frame (sandboxed: no scripts)."""
    folder = _dev_mail_folder()
    shown = dev_mail(folder, request.GET.get("m", "")) if folder is not None else None
    if shown is None or not shown.html:
        raise Http404
    return HttpResponse(shown.html, content_type="text/html; charset=utf-8")


def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker: one query, plain text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok\n", content_type="text/plain")
