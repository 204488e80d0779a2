"""Enrolling students in classes and withdrawing them."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.dates import check_in_range
from makeup.errors import DomainError
from programmes.models import Class, age_in_months

from .. import hooks
from ..models import Enrolment, Student


class AgeOutsideRange(DomainError):
    """The student's age is outside the class's range: staff may confirm and go on."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="age_outside_range")


def _age_label(months: int) -> str:
    years, rest = divmod(months, 12)
    label = ngettext("{count} years", "{count} years", years).format(count=years)
    if rest:
        label += " " + ngettext("{count} months", "{count} months", rest).format(count=rest)
    return label


def places_taken(*, klass: Class, on_or_after: date) -> int:
    """Regular places taken from ``on_or_after`` on: every enrolment not withdrawn before."""
    return (
        Enrolment.objects.filter(klass=klass)
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=on_or_after))
        .count()
    )


@transaction.atomic
def enrolment_create(
    *,
    klass: Class,
    student: Student,
    start_date: date,
    actor=None,
    confirm_age: bool = False,
    agreed_price: Decimal | None = None,
) -> Enrolment:
    """Enrol ``student`` in ``klass`` from ``start_date``.

    Refused when the class is full (the class row is locked while counting, so two staff
    members can't both take the last place), archived, already joined, or over; an age
    outside the class's range raises :class:`AgeOutsideRange` unless ``confirm_age``.
    """
    if klass.company_id != student.company_id:
        raise DomainError(_("The student and the class belong to different companies."))
    check_in_range(start_date)
    klass = Class.objects.select_for_update().get(pk=klass.pk)
    if klass.archived_at is not None:
        raise DomainError(
            _("{klass} is archived and takes no enrolments.").format(klass=klass.name)
        )
    if start_date > klass.end_date:
        raise DomainError(
            _("{klass} ends on {day}; choose an earlier start date.").format(
                klass=klass.name, day=date_format(klass.end_date, "DAY_FORMAT")
            )
        )
    start_date = max(start_date, klass.start_date)
    already = Enrolment.objects.filter(klass=klass, student=student).filter(
        Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=start_date)
    )
    if already.exists():
        raise DomainError(
            _("{student} is already enrolled in {klass}.").format(
                student=student, klass=klass.name
            ),
            code="duplicate",
        )
    taken = places_taken(klass=klass, on_or_after=start_date)
    if taken >= klass.capacity:
        raise DomainError(
            _(
                "{klass} is full: {taken} of {capacity} places are taken. Withdraw someone or "
                "raise the capacity first."
            ).format(klass=klass.name, taken=taken, capacity=klass.capacity),
            code="full",
        )
    if not confirm_age:
        age = age_in_months(student.date_of_birth, start_date)
        too_young = klass.min_age_months is not None and age < klass.min_age_months
        too_old = klass.max_age_months is not None and age > klass.max_age_months
        if too_young or too_old:
            raise AgeOutsideRange(
                _(
                    "{student} is {age} old on {day}; {klass} is for ages {ages}. Enrol anyway?"
                ).format(
                    student=student.first_name,
                    age=_age_label(age),
                    day=date_format(start_date, "DAY_FORMAT"),
                    klass=klass.name,
                    ages=klass.age_range_label(),
                )
            )
    return Enrolment.objects.create(
        company_id=klass.company_id,
        klass=klass,
        student=student,
        start_date=start_date,
        agreed_price=agreed_price,
        created_by=actor,
    )


@transaction.atomic
def enrolment_withdraw(
    *, enrolment: Enrolment, withdrawn_from: date, now: datetime, actor=None
) -> Enrolment:
    """The student leaves the class: sessions on or after ``withdrawn_from`` are no longer
    theirs. Past attendance stays as it was."""
    check_in_range(withdrawn_from)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if withdrawn_from < enrolment.start_date:
        raise DomainError(
            _("The enrolment starts on {day}; withdraw from that day or later.").format(
                day=date_format(enrolment.start_date, "DAY_FORMAT")
            )
        )
    enrolment.withdrawn_from = withdrawn_from
    enrolment.updated_at = now
    enrolment.save(update_fields=["withdrawn_from", "updated_at"])
    hooks.enrolment_withdrawn(enrolment=enrolment, now=now)
    return enrolment
