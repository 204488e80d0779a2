"""The client's IP address, for login lockout (django-axes) and rate limits.

Behind ``PROXY_COUNT`` reverse proxies (env ``AXES_PROXY_COUNT``) every request arrives
from the nearest proxy, so ``REMOTE_ADDR`` is the proxy's address. Each proxy *appends*
the address it received the request from to ``X-Forwarded-For``, so the rightmost entries
are written by our proxies and everything left of them is whatever the client sent (and
can forge). With N proxies the client is therefore the Nth entry from the right: the one
the outermost proxy wrote ("rightmost untrusted"). Anything the client puts further left
is ignored.

With ``PROXY_COUNT = 0`` (nothing in front) the header is ignored altogether: a client
talking to the app directly could put anything in it.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    """A normalised IP address, or ``None``; tolerates a port (``1.2.3.4:80``,
    ``[2001:db8::1]:80``) as some proxies write it."""
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # IPv4 with a port (an IPv6 address has several colons)
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` (django-axes'
    ``AXES_CLIENT_IP_CALLABLE``, and the key of the per-client rate limits)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        # Not through the proxies (e.g. a health probe from the host): the peer it is.
        return remote
    # Fewer entries than proxies: the request skipped the outer ones, and the leftmost entry
    # is the one the first proxy it reached wrote.
    candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    return _address(candidate) or remote
