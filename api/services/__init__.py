"""The API's own writes: keys (API-1) and webhook endpoints (API-4). Everything the API does
to a company's data goes through the other apps' services."""

from .keys import api_key_authenticate, api_key_create, api_key_revoke

__all__ = ["api_key_authenticate", "api_key_create", "api_key_revoke"]
