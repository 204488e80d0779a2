"""Text messages through Twilio's official client (NTF-1, NTF-3).

``TWILIO_API_URL`` (settings, from the environment) points the client at another address
than ``https://api.twilio.com``: the tests' local fake of Twilio's HTTP API, or a proxy.
The request is otherwise exactly what the library sends.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from . import secrets

TWILIO_API = "https://api.twilio.com"
#: What Twilio itself treats as an opt-out, and as opting in again (case-insensitive).
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})

_MOBILE = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_mobile(value: str) -> str:
    """``+61 412 345 678`` → ``+61412345678``; ``""`` when it is not an international
    (E.164) number."""
    number = re.sub(r"[\s().-]", "", value or "")
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if _MOBILE.match(number) else ""


class _RedirectingHttpClient(TwilioHttpClient):
    def request(self, method, url, *args, **kwargs):
        base = getattr(settings, "TWILIO_API_URL", "")
        if base and url.startswith(TWILIO_API):
            url = base.rstrip("/") + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


@dataclass
class SendResult:
    """``provider_id`` when Twilio accepted the message; else ``error``, and ``permanent``
    when sending again cannot help (a number that does not exist, an opted-out number)."""

    provider_id: str = ""
    status: str = ""
    error: str = ""
    permanent: bool = False


def client_for(provider) -> Client:
    return Client(
        provider.account_sid,
        secrets.decrypt(provider.auth_token_encrypted),
        http_client=_RedirectingHttpClient(timeout=10),
    )


def send_sms(provider, *, to: str, body: str, status_callback: str) -> SendResult:
    """Send one text. A refusal by Twilio (4xx) is permanent; its server errors and a
    network failure raise, so the outbox tries again later."""
    try:
        message = client_for(provider).messages.create(
            to=to, from_=provider.from_number, body=body, status_callback=status_callback
        )
    except TwilioRestException as exc:
        if 400 <= exc.status < 500 and exc.status != 429:
            return SendResult(error=f"{exc.code or exc.status}: {exc.msg}"[:500], permanent=True)
        raise
    return SendResult(provider_id=message.sid or "", status=message.status or "")


def signature_valid(provider, *, url: str, params: dict, signature: str) -> bool:
    """Twilio signs each webhook with the account's auth token (``X-Twilio-Signature``)."""
    token = secrets.decrypt(provider.auth_token_encrypted)
    return bool(token and signature) and RequestValidator(token).validate(url, params, signature)
