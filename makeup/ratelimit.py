"""Rate limits for requests that send e-mails or try passwords.

Counted in the default cache (Redis in production, shared by every web process) in fixed
windows of ``RATE_LIMIT_WINDOW``: per client address (:func:`makeup.clientip.client_ip`, the
same address login lockout uses) and per e-mail address. Keys hold a hash of the address, not
the address, and expire with their window.

A request over a limit raises :class:`RateLimited`; views that can say it in their own form
catch it, everything else becomes a 429 page (:class:`makeup.middleware.RateLimitMiddleware`).

While Redis is down the cache answers nothing and the limits are not enforced (they fail
open, like the page cache): sign-ups and password resets keep working; login lockout itself
is in the database (django-axes) and stays on.
"""

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

from .clientip import client_ip


class RateLimited(Exception):
    """Too many requests; ``message`` says so in plain language, ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _window() -> int:
    return max(int(settings.RATE_LIMIT_WINDOW.total_seconds()), 1)


def _key(scope: str, ident: str, now: datetime, window: int) -> str:
    digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
    return (
        f"{settings.RATE_LIMIT_PREFIX}:{scope}:{digest}:{window}:{int(now.timestamp()) // window}"
    )


def _retry_after(now: datetime) -> int:
    return _window() - int(now.timestamp()) % _window()


def count_in_window(
    scope: str, ident: str, *, window_seconds: int, now: datetime
) -> tuple[int, int]:
    """Count one more request for ``(scope, ident)`` in the current window of
    ``window_seconds``; returns the count so far (0 while the cache is unreachable: the limit
    fails open) and the seconds until the window ends. The limits here use it with
    ``RATE_LIMIT_WINDOW``; the API's per-key limit (API-5) with its own window."""
    window = max(window_seconds, 1)
    key = _key(scope, ident, now, window)
    cache.add(key, 0, timeout=window + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window + 60)
        count = 1
    return count or 0, window - int(now.timestamp()) % window


def _count(scope: str, ident: str, *, now: datetime) -> int:
    """Count one more for ``(scope, ident)`` in the current window; returns the count (0 while
    the cache is unreachable)."""
    return count_in_window(scope, ident, window_seconds=_window(), now=now)[0]


def _peek(scope: str, ident: str, *, now: datetime) -> int:
    return cache.get(_key(scope, ident, now, _window())) or 0


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _too_many(now: datetime) -> RateLimited:
    retry = _retry_after(now)
    minutes = _minutes(retry)
    message = ngettext(
        "We have had too many requests like this one, from your network or for this e-mail "
        "address. Please wait {minutes} minute and try again.",
        "We have had too many requests like this one, from your network or for this e-mail "
        "address. Please wait {minutes} minutes and try again.",
        minutes,
    ).format(minutes=minutes)
    return RateLimited(message, retry_after=retry)


def _limit(
    request: HttpRequest, *, action: str, email: str, ip_scope: str, per_ip: int, now: datetime
) -> None:
    if not settings.RATE_LIMIT_ENABLED:
        return
    if _count(ip_scope, client_ip(request), now=now) > per_ip:
        raise _too_many(now)
    if email and _count(f"{action}-address", email, now=now) > settings.RATE_LIMIT_PER_ADDRESS:
        raise _too_many(now)


def limit_email_request(request: HttpRequest, *, action: str, email: str, now: datetime) -> None:
    """One more e-mail asked for by a public form (sign-up, password reset, a new
    confirmation link) to ``email``: at most ``RATE_LIMIT_PER_ADDRESS`` per address and
    action, and ``RATE_LIMIT_PER_IP`` from one client for all those forms together, per
    window. Counted whether or not the address has an account, so the limit tells nobody
    that. Raises :class:`RateLimited`."""
    _limit(
        request,
        action=action,
        email=email,
        ip_scope="mail-ip",
        per_ip=settings.RATE_LIMIT_PER_IP,
        now=now,
    )


def limit_invitation(request: HttpRequest, *, email: str, now: datetime) -> None:
    """One more invitation e-mailed by staff (a parent to the portal, a partner company):
    ``RATE_LIMIT_PER_ADDRESS`` per invited address, ``RATE_LIMIT_INVITES_PER_IP`` per client,
    per window. Raises :class:`RateLimited`."""
    _limit(
        request,
        action="invite",
        email=email,
        ip_scope="invite-ip",
        per_ip=settings.RATE_LIMIT_INVITES_PER_IP,
        now=now,
    )


# --- log-ins: failures per client address, whatever the e-mail (password spraying) ---------


def login_failed(request: HttpRequest | None, *, now: datetime) -> None:
    """Count a failed log-in against the client's address."""
    if request is not None and settings.RATE_LIMIT_ENABLED:
        _count("login-ip", client_ip(request), now=now)


def login_paused(request: HttpRequest | None, *, now: datetime) -> bool:
    """Whether the client's address has failed ``LOGIN_FAILURES_PER_IP`` log-ins this window."""
    if request is None or not settings.RATE_LIMIT_ENABLED:
        return False
    return _peek("login-ip", client_ip(request), now=now) >= settings.LOGIN_FAILURES_PER_IP


def check_login(request: HttpRequest, *, now: datetime) -> None:
    """Refuse a log-in attempt from an address that failed too often. Raises
    :class:`RateLimited`."""
    if login_paused(request, now=now):
        minutes = _minutes(_retry_after(now))
        raise RateLimited(
            ngettext(
                "Too many failed log-ins from your network. Please wait {minutes} minute and "
                "try again, or reset your password.",
                "Too many failed log-ins from your network. Please wait {minutes} minutes and "
                "try again, or reset your password.",
                minutes,
            ).format(minutes=minutes),
            retry_after=_retry_after(now),
        )
