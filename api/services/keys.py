"""API keys (API-1, API-5): made and revoked by owners, stored hashed, shown once."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from makeup.audit import audit_record
from makeup.errors import DomainError
from makeup.models import AuditEntry, Company, Membership, Role

from ..models import ApiKey

KEY_PREFIX = "mk_"
#: ``last_used_at`` is written at most this often per key, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(raw: str) -> str:
    # A key carries 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_owner(*, company: Company, actor) -> None:
    if not Membership.objects.filter(company=company, user=actor, role=Role.OWNER).exists():
        raise DomainError(_("Only an owner of the company can manage API keys."), code="not_owner")


@transaction.atomic
def api_key_create(
    *, company: Company, name: str, access: str, actor, now: datetime
) -> tuple[ApiKey, str]:
    """API-1: a new key for ``company``, made by one of its owners. Returns the key's row and
    the key itself — the only time it exists in clear: only its hash is kept."""
    _check_owner(company=company, actor=actor)
    name = name.strip()
    if not name:
        raise DomainError(_("Give the key a name, e.g. the tool that will use it."), code="name")
    if access not in ApiKey.Access.values:
        raise DomainError(_("Choose read only or read and write."), code="access")
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        company=company,
        name=name[:100],
        access=access,
        prefix=prefix,
        key_hash=_hash(raw),
        created_by=actor,
        created_at=now,
    )
    audit_record(
        company_id=company.pk,
        actor=actor,
        now=now,
        area=AuditEntry.Area.SETTINGS,
        summary=_("API key “%(name)s” made (%(access)s).")
        % {"name": key.name, "access": key.get_access_display()},
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor, now: datetime) -> ApiKey:
    """API-1: an owner revokes a key; it answers 401 from the next request on. Revoking twice
    changes nothing."""
    _check_owner(company=key.company, actor=actor)
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    if updated:
        audit_record(
            company_id=key.company_id,
            actor=actor,
            now=now,
            area=AuditEntry.Area.SETTINGS,
            summary=_("API key “%(name)s” revoked.") % {"name": key.name},
        )
    key.refresh_from_db()
    return key


def api_key_authenticate(raw: str, *, now: datetime) -> ApiKey | None:
    """The active key ``raw`` is, with its company, or ``None`` (unknown, wrong, revoked, or
    its maker no longer an owner of the company). One query to find it, and at most one
    write a minute to record it was used (API-1 "last used").

    Keys are looked up before any company scope exists (the key decides the scope), hence
    the named ``scopes_disabled``; the lookup is by the key's own prefix."""
    if not raw.startswith(KEY_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(KEY_PREFIX) :].split("_", 1)[0]
    with scopes_disabled():
        key = (
            ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True)
            .filter(
                company__memberships__user=F("created_by"),
                company__memberships__role=Role.OWNER,
            )
            .select_related("company", "created_by")
            .first()
        )
        if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)):
            return None
        if key.last_used_at is None or key.last_used_at <= now - LAST_USED_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
    return key
