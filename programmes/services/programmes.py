"""Writes for programmes: create, edit, archive (FRN-4: a code names one programme per
company)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.errors import DomainError
from makeup.models import Company

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
) -> Programme:
    """A new programme. Its code is stored in capitals and is unique in the company (FRN-4);
    the apps registered with ``programmes.hooks`` add what belongs to it, in the same
    transaction (credits: the default cancellation policy)."""
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
    )
    full_clean_or_refuse(programme, exclude=["company"])
    try:
        with transaction.atomic():
            programme.save()
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
) -> Programme:
    """Change a programme's name, code and make-up switches (POL-7, MKP-3, FRN-2, FRN-4)."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    code = normalise_programme_code(code)
    if programme_code_taken(company=programme.company, code=code, exclude_pk=programme.pk):
        raise _programme_code_taken_error(code)
    programme.name = name.strip()
    programme.code = code
    programme.description = description.strip()
    programme.makeups_enabled = makeups_enabled
    programme.accept_partner_makeups = accept_partner_makeups
    full_clean_or_refuse(programme, exclude=["company"])
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError as error:
        raise _programme_code_taken_error(code) from error
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
    programme.save(update_fields=["archived_at"])
    return programme
