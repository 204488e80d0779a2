"""The JSON API, version 1 (API-1…API-5), built with django-ninja.

A request reaches an endpoint through :func:`api.urls.with_key`, which finds the API key,
counts it against the key's rate limit (API-5) and runs the endpoint inside the key's
company scope — so every query of the endpoint is scoped, and every object is fetched
through :func:`makeup.tenancy.access_object`: another company's id answers 404, as a
missing one does (TEN-1). Refusals of the services answer with their reason code and the
text the pages show (API-3).
"""

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

from makeup.errors import DomainError

from .auth import read_auth
from .views import reads, writes  # noqa: F401  (writes adds its endpoints to the router)

#: Reason codes of refusals that conflict with the current state of the data (409); any
#: other refusal is a request the rules do not allow (422); ``busy`` is a lock that stayed
#: taken (503, try again).
CONFLICT_CODES = frozenset(
    {"full", "already", "already_cancelled", "changed", "same_session", "duplicate"}
)
BUSY_RETRY_AFTER = 2


api = NinjaAPI(
    title="Make-up sessions API",
    version="1",
    description=(
        "Read a school's programmes, classes, sessions, families, attendance, credits and "
        "make-ups, and record attendance and make-ups through the same rules as the pages. "
        "Authenticate with `Authorization: Bearer <key>`; lists are paged (`limit`, `after`) "
        "and filter by `changed_since`. See docs/api.md for examples with curl."
    ),
    auth=read_auth,
    urls_namespace="api",
    docs_url="/docs/",
)


def refusal_status(code: str) -> int:
    if code == "busy":
        return 503
    return 409 if code in CONFLICT_CODES else 422


@api.exception_handler(DomainError)
def _refused(request: HttpRequest, error: DomainError):
    status = refusal_status(error.code)
    response = api.create_response(
        request, {"code": error.code, "detail": str(error.message)}, status=status
    )
    if status == 503:
        response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404):
    return api.create_response(
        request, {"code": "not_found", "detail": _("Not found.")}, status=404
    )


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, error: AuthenticationError):
    response = api.create_response(
        request,
        {"code": "unauthorised", "detail": _("A valid API key is needed.")},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError):
    codes = {403: "forbidden", 429: "rate_limited"}
    return api.create_response(
        request,
        {"code": codes.get(error.status_code, "error"), "detail": str(error)},
        status=error.status_code,
    )


api.add_router("/", reads.router)
