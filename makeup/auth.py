"""Log-in protection: hooks for django-axes (lockout per e-mail and client address) and the
pause for a client address that fails across many e-mails (password spraying)."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from . import ratelimit


def axes_username(request, credentials) -> str | None:
    """The e-mail as typed, lower-cased: ``Owner@…`` and ``owner@…`` share one failure count."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if username else None


class LoginPauseBackend:
    """First of the authentication backends: refuses every log-in (any form, the admin's
    too) from a client address that failed ``LOGIN_FAILURES_PER_IP`` times this window.
    The log-in page says so with a 429 before it gets here (``makeup.views.LoginView``)."""

    def authenticate(self, request, **credentials):
        if ratelimit.login_paused(request, now=timezone.now()):
            raise PermissionDenied
        return None

    def get_user(self, user_id):
        return None


def count_login_failure(sender, credentials, request=None, **kwargs) -> None:
    """``user_login_failed``: one more failure for the client's address."""
    ratelimit.login_failed(request, now=timezone.now())
