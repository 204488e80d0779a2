"""How a request proves it comes from a company's API key (API-1): the bearer token."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer


class KeyAuth(HttpBearer):
    """``Authorization: Bearer mk_…``. The key was checked by :func:`api.urls.with_key`
    (before the company scope could be entered); this declares it to the schema and refuses
    a request without a valid one."""

    openapi_description = "An API key made by an owner under Settings → API keys."

    def authenticate(self, request: HttpRequest, token: str):
        return getattr(request, "api_key", None)


class WriteKeyAuth(KeyAuth):
    """A key with write access; a read-only key answers 403."""

    def authenticate(self, request: HttpRequest, token: str):
        key = super().authenticate(request, token)
        if key is not None and not key.can_write:
            raise HttpError(403, _("This API key may only read."))
        return key


read_auth = KeyAuth()
write_auth = WriteKeyAuth()
