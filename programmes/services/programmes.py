"""Writes for programmes: create, edit, archive (FRN-4: a code names one programme per
company), with the make-up settings: the level map (WAL-3) and sibling transfers (WAL-1)."""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.audit import audit_record
from makeup.errors import DomainError
from makeup.models import AuditEntry, Company

from .. import hooks
from ..models import Class, Programme


def full_clean_or_refuse(obj, *, exclude: list[str]) -> None:
    """The model's own field checks, as a domain error a person can read (programmes and
    classes alike)."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages)) from error


def normalise_programme_code(code: str) -> str:
    return code.strip().upper()


def programme_code_taken(*, company: Company, code: str, exclude_pk: int | None = None) -> bool:
    """FRN-4: a code names one programme per company."""
    taken = Programme.objects.filter(company=company, code=normalise_programme_code(code))
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _check_credit_map(programme: Programme, entries: list[Programme]) -> None:
    """WAL-3: the programmes whose credits ``programme`` also takes are other programmes of
    its own company (its own credits always count; a partner's count by code, FRN-4)."""
    for entry in entries:
        if entry.company_id != programme.company_id:
            raise DomainError(
                _("Only your own programmes can be chosen to take credits from."),
                code="map_other_company",
            )
        if programme.pk is not None and entry.pk == programme.pk:
            raise DomainError(
                _("A programme always takes its own credits: don't choose {name} itself.").format(
                    name=programme.name
                ),
                code="map_itself",
            )


def _programme_code_taken_error(code: str) -> DomainError:
    return DomainError(
        _("Another programme of yours already uses the code {code}; choose another.").format(
            code=code
        ),
        code="code_taken",
    )


@transaction.atomic
def programme_create(
    *,
    company: Company,
    name: str,
    code: str,
    description: str = "",
    makeups_enabled: bool = True,
    accept_partner_makeups: bool = False,
    credit_transfer_allowed: bool = False,
    accepts_credits_from: Iterable[Programme] = (),
) -> Programme:
    """A new programme. Its code is stored in capitals and is unique in the company (FRN-4);
    the apps registered with ``programmes.hooks`` add what belongs to it, in the same
    transaction (credits: the default cancellation policy). It may take credits of other
    programmes of the company (WAL-3) and let them be given to siblings (WAL-1)."""
    code = normalise_programme_code(code)
    if programme_code_taken(company=company, code=code):
        raise _programme_code_taken_error(code)
    programme = Programme(
        company=company,
        name=name.strip(),
        code=code,
        description=description.strip(),
        makeups_enabled=makeups_enabled,
        accept_partner_makeups=accept_partner_makeups,
        credit_transfer_allowed=credit_transfer_allowed,
    )
    entries = list(accepts_credits_from)
    _check_credit_map(programme, entries)
    full_clean_or_refuse(programme, exclude=["company"])
    try:
        with transaction.atomic():
            programme.save()
            programme.accepts_credits_from.set(entries)
            hooks.programme_created(programme=programme)
    except IntegrityError as error:  # the same code saved meanwhile by someone else
        raise _programme_code_taken_error(code) from error
    return programme


@transaction.atomic
def programme_update(
    *,
    programme: Programme,
    name: str,
    code: str,
    description: str,
    makeups_enabled: bool,
    accept_partner_makeups: bool,
    now: datetime,
    actor=None,
    credit_transfer_allowed: bool | None = None,
    accepts_credits_from: Iterable[Programme] | None = None,
) -> Programme:
    """Change a programme's name, code and make-up switches (POL-7, MKP-3, FRN-2, FRN-4), and
    the level map (WAL-3) and sibling transfers (WAL-1) — each left as it is when ``None``.
    Changing them changes what is offered from then on; credits keep where they were earned
    and who holds them. A change to the map or to transfers is written to the audit log
    (who, at ``now``, what it is now)."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    was_transfer = programme.credit_transfer_allowed
    was_map = set(programme.accepts_credits_from.values_list("pk", flat=True))
    code = normalise_programme_code(code)
    if programme_code_taken(company=programme.company, code=code, exclude_pk=programme.pk):
        raise _programme_code_taken_error(code)
    programme.name = name.strip()
    programme.code = code
    programme.description = description.strip()
    programme.makeups_enabled = makeups_enabled
    programme.accept_partner_makeups = accept_partner_makeups
    if credit_transfer_allowed is not None:
        programme.credit_transfer_allowed = credit_transfer_allowed
    entries = list(accepts_credits_from) if accepts_credits_from is not None else None
    if entries is not None:
        _check_credit_map(programme, entries)
    full_clean_or_refuse(programme, exclude=["company"])
    programme.updated_at = now
    try:
        with transaction.atomic():
            programme.save()
            if entries is not None:
                programme.accepts_credits_from.set(entries)
    except IntegrityError as error:
        raise _programme_code_taken_error(code) from error
    changes = []
    if programme.credit_transfer_allowed != was_transfer:
        changes.append(
            _("credits can be given to a brother or sister")
            if programme.credit_transfer_allowed
            else _("credits can no longer be given to a brother or sister")
        )
    if entries is not None and {e.pk for e in entries} != was_map:
        names = ", ".join(sorted(e.name for e in entries))
        changes.append(
            _("also accepts credits from {programmes}").format(programmes=names)
            if entries
            else _("accepts credits of no other programme")
        )
    if changes:
        audit_record(
            company_id=programme.company_id,
            actor=actor,
            now=now,
            area=AuditEntry.Area.PROGRAMME,
            summary=_("{programme}: {changes}.").format(
                programme=programme.name, changes="; ".join(changes)
            ),
        )
    return programme


@transaction.atomic
def programme_set_archived(*, programme: Programme, archived: bool, now: datetime) -> Programme:
    """Archive (hide from new classes) or unarchive a programme. A programme with active
    classes is not archived: archive its classes first, so no session disappears unseen."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if archived and programme.archived_at is None:
        active = Class.objects.filter(programme=programme, archived_at__isnull=True).count()
        if active:
            raise DomainError(
                ngettext(
                    "{name} still has {count} active class(es); archive them first.",
                    "{name} still has {count} active class(es); archive them first.",
                    active,
                ).format(name=programme.name, count=active),
                code="has_active_classes",
            )
        programme.archived_at = now
    elif not archived:
        programme.archived_at = None
    programme.updated_at = now
    programme.save(update_fields=["archived_at", "updated_at"])
    return programme
