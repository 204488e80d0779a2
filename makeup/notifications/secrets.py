"""Each company's provider secret (the Twilio auth token), encrypted at rest.

Why in the database and not only in the environment: every company connects its own Twilio
account on its Settings page, so the secrets are per tenant and change without a deploy.
Why encrypted: a database dump or backup (``docs/operations.md``) must not be enough to send
texts on a school's account. The key is ``NOTIFICATIONS_SECRET_KEY`` (Fernet, from the
environment; it defaults to one derived from ``SECRET_KEY``), so the secret needs both the
database and the server's environment.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = getattr(settings, "NOTIFICATIONS_SECRET_KEY", "")
    if not key:
        digest = hashlib.sha256(f"notifications:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def key_problem() -> str:
    """Why ``NOTIFICATIONS_SECRET_KEY`` cannot be used (``""``: it can, or it is unset)."""
    if not getattr(settings, "NOTIFICATIONS_SECRET_KEY", ""):
        return ""
    try:
        _fernet()
    except (ValueError, TypeError) as exc:
        return str(exc)
    return ""


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret, or ``""`` when it was encrypted with another key (the key changed: the
    company connects its account again)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
