"""The owners' audit log (issue 8): configuration changes are recorded by the service that
makes them, inside its transaction."""

from .models import AuditEntry


def audit_record(*, company_id: int, actor, area: str, summary: str, now) -> AuditEntry:
    """One line of the audit log. ``summary`` is stored as written (in the actor's language)."""
    return AuditEntry.objects.create(
        company_id=company_id,
        at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        area=area,
        summary=str(summary)[:300],
    )
