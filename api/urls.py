"""The API's addresses: ``/api/v1/…`` (``api_urlpatterns``, each endpoint behind
:func:`with_key`) and the owners' pages for keys and webhooks under ``/manage/``
(``urlpatterns``)."""

from functools import wraps

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext
from django_scopes import scope

from makeup.ratelimit import count_in_window

from .services import api_key_authenticate
from .v1 import api
from .views import keys, webhooks


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _too_many(retry_after: int) -> JsonResponse:
    response = JsonResponse(
        {
            "code": "rate_limited",
            "detail": ngettext(
                "Too many requests with this API key: please wait {seconds} second.",
                "Too many requests with this API key: please wait {seconds} seconds.",
                retry_after,
            ).format(seconds=retry_after),
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def with_key(view):
    """Find the request's API key (API-1), count it against its limit — ``API_RATE_LIMIT``
    requests per ``API_RATE_WINDOW_SECONDS`` per key, else 429 with ``Retry-After`` (API-5)
    — and run the endpoint inside the key's company scope and time zone. Without a valid key
    the endpoint runs unscoped and its authentication answers 401 (the schema and the docs
    page need none)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        now = timezone.now()
        token = _bearer(request)
        key = api_key_authenticate(token, now=now) if token else None
        request.api_key = key
        if key is None:
            response = view(request, *args, **kwargs)
        else:
            if settings.RATE_LIMIT_ENABLED:
                count, retry_after = count_in_window(
                    "api-key",
                    str(key.pk),
                    window_seconds=settings.API_RATE_WINDOW_SECONDS,
                    now=now,
                )
                if count > settings.API_RATE_LIMIT:
                    return _too_many(retry_after)
            timezone.activate(key.company.tzinfo)
            try:
                with scope(company=key.company):
                    response = view(request, *args, **kwargs)
            finally:
                timezone.deactivate()
        add_never_cache_headers(response)
        return response

    return wrapped


def _wrapped_api_patterns() -> list:
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = with_key(pattern.callback)
    return patterns


api_urlpatterns = ([*_wrapped_api_patterns()], "api")

urlpatterns = [
    path("settings/api-keys/", keys.key_list, name="api_keys"),
    path("settings/api-keys/<int:key_pk>/revoke/", keys.key_revoke, name="api_key_revoke"),
    path("settings/webhooks/", webhooks.webhook_list, name="webhooks"),
    path("settings/webhooks/<int:endpoint_pk>/", webhooks.webhook_detail, name="webhook"),
    path(
        "settings/webhooks/<int:endpoint_pk>/secret/",
        webhooks.webhook_new_secret,
        name="webhook_new_secret",
    ),
    path(
        "settings/webhooks/<int:endpoint_pk>/delete/",
        webhooks.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "settings/webhooks/<int:endpoint_pk>/deliveries/<int:delivery_pk>/resend/",
        webhooks.delivery_resend,
        name="webhook_resend",
    ),
]
