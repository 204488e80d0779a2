"""Signed, expiring tokens for e-mail links."""

from django.conf import settings
from django.core import signing

_CONFIRM_SALT = "makeup.email-confirmation"


def email_confirmation_token(user) -> str:
    """A link token that confirms ``user``'s current e-mail address; it stops working when
    the address changes or after ``EMAIL_CONFIRMATION_MAX_AGE``."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=_CONFIRM_SALT, compress=True)


def read_email_confirmation_token(token: str) -> tuple[int, str] | None:
    """``(user_id, email)`` of a valid token, or ``None`` for a bad or expired one."""
    try:
        data = signing.loads(
            token,
            salt=_CONFIRM_SALT,
            max_age=settings.EMAIL_CONFIRMATION_MAX_AGE,
        )
    except signing.BadSignature:
        return None
    try:
        return int(data["u"]), str(data["e"])
    except (KeyError, TypeError, ValueError):
        return None
