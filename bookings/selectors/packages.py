"""Reads for packages (PKG-1)."""

from django.db.models import Q, Sum

from ..models import Package


def with_used(packages):
    """``packages`` annotated with ``used``: the sessions of their live uses."""
    return packages.annotate(
        used=Sum("uses__sessions", filter=Q(uses__reversed_at__isnull=True), default=0)
    )


def packages_with_remaining(packages) -> list[Package]:
    """Packages annotated with ``used`` and ``remaining`` sessions (live uses only)."""
    return with_remaining(list(with_used(packages)))


def with_remaining(rows: list[Package]) -> list[Package]:
    """Rows read through :func:`with_used`, each given ``remaining`` sessions."""
    for package in rows:
        package.remaining = package.sessions - package.used
    return rows
