"""Reads for packages (PKG-1)."""

from django.db.models import Q, Sum

from ..models import Package


def packages_with_remaining(packages) -> list[Package]:
    """Packages annotated with ``used`` and ``remaining`` sessions (live uses only)."""
    rows = list(
        packages.annotate(
            used=Sum("uses__sessions", filter=Q(uses__reversed_at__isnull=True), default=0)
        )
    )
    for package in rows:
        package.remaining = package.sessions - package.used
    return rows
