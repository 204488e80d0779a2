"""Hooks for django-axes (login rate limiting)."""


def axes_username(request, credentials) -> str | None:
    """The e-mail as typed, lower-cased: ``Owner@…`` and ``owner@…`` share one failure count."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if username else None
