"""The API's own writes: keys (API-1) and webhook endpoints (API-4). Everything the API does
to a company's data goes through the other apps' services."""

from .keys import api_key_authenticate, api_key_create, api_key_revoke
from .webhooks import (
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_new_secret,
    webhook_endpoint_update,
    webhook_resend,
    webhook_signature,
    webhook_verify,
    webhooks_send_due,
)

__all__ = [
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "webhook_deliver",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_new_secret",
    "webhook_endpoint_update",
    "webhook_resend",
    "webhook_signature",
    "webhook_verify",
    "webhooks_send_due",
]
