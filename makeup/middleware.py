"""Enter the company scope for each request (django-scopes); answer rate-limited requests
with a 429 page; keep logged-in pages and downloads out of caches."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django_scopes import scope

from .models import Company
from .ratelimit import RateLimited
from .shapes import Shape
from .tenancy import current_membership, memberships_for_user

# The slug is unique: no ordering to write or sort, on every portal page.
_COMPANY_BY_SLUG = Shape(
    lambda slug: Company.objects.filter(slug=slug).select_related("settings").order_by()[:1]
)


class TenancyMiddleware:
    """Find the request's company and run the rest of the request inside its scope.

    - ``/manage/…`` (namespace ``manage``): the logged-in user's current company, chosen
      with the switcher among their memberships.
    - ``/portal/<company_slug>/…`` (namespace ``portal``): the company of the slug.
    - anything else: no scope; a tenant query there raises ``ScopeError``.

    Also activates the company's time zone for the request (TEN-3) and the language: the
    user's own choice, else the language cookie of the chooser, else the company's, else
    the browser's (Django's LocaleMiddleware has read the cookie and the browser's).

    Sets ``request.company``, ``request.membership`` (staff only) and
    ``request.memberships`` (for the switcher). Template rendering happens inside the
    scope too, since Django renders a response before returning it through middleware.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.company = None
        request.membership = None
        request.memberships = []
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and "manage" in match.namespaces:
            request.memberships = memberships_for_user(request.user)
            request.membership = current_membership(request, request.memberships)
            if request.membership is not None:
                request.company = request.membership.company
        elif match is not None and "portal" in match.namespaces:
            slug = match.kwargs.get("company_slug")
            if slug:
                request.company = _COMPANY_BY_SLUG.first(slug=slug)
        _activate_language(request)
        if request.company is None:
            # Never scope(company=None): django-scopes would read that as "all companies".
            return self.get_response(request)
        # TEN-3: times are stored in UTC and shown (and typed) in the company's time zone.
        timezone.activate(request.company.tzinfo)
        try:
            with scope(company=request.company):
                return self.get_response(request)
        finally:
            timezone.deactivate()


def _activate_language(request: HttpRequest) -> None:
    languages = {code for code, _name in settings.LANGUAGES}
    user = getattr(request, "user", None)
    chosen = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
    if chosen not in languages:
        chosen = ""
    if not chosen and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        company_language = getattr(request.company, "language", "")
        chosen = company_language if company_language in languages else ""
    if chosen:
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen


class RateLimitMiddleware:
    """A view that raised :class:`makeup.ratelimit.RateLimited` answers 429 with a page that
    says, in plain language, to wait and try again (and a ``Retry-After`` header)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, RateLimited):
            return None
        response = render(request, "429.html", {"message": exception.message}, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and ``private``) on every response to a logged-in user —
    back office and portal pages, their CSV exports — and on every CSV response whoever
    asked: a shared computer's browser cache, or a proxy, must not keep a family's data or a
    class list after the person has gone. (The calendar feed, fetched by calendar apps with
    its secret link, sets its own caching.)"""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        private = user is not None and user.is_authenticated
        csv = response.get("Content-Type", "").startswith("text/csv")
        if private or csv:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response
