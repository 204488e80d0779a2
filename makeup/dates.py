"""Sane ranges for dates and times people type.

A date field takes anything from year 1 to 9999; the code behind it does not: a class ending
on 31 Dec 9999 overflowed the session generator, a cancellation "at" 1 Jan 0001 could not be
stored, a class ending in 2200 made 9,090 sessions in one request. Every date a person gives
(a form field, and again in the service that writes it) must fall in :data:`FIRST_YEAR` …
:data:`LAST_YEAR`; a class's term is at most :data:`MAX_TERM_DAYS` long.
"""

from datetime import date, datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .errors import DomainError

FIRST_YEAR = 2000
LAST_YEAR = 2100
#: The longest term of a class: two years (a leap year included).
MAX_TERM_DAYS = 731
#: How far before its class's start a client cancellation may be dated.
CANCELLATION_LEAD = timedelta(days=365)


def year_in_range(value: date | datetime) -> bool:
    """Compares the year only: no arithmetic, so it never overflows."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def out_of_range_message() -> str:
    return _("Give a date between the years {first} and {last}.").format(
        first=FIRST_YEAR, last=LAST_YEAR
    )


def check_in_range(*values: date | datetime | None) -> None:
    """For services: a :class:`DomainError` if any given date is outside the sane range."""
    if any(value is not None and not year_in_range(value) for value in values):
        raise DomainError(out_of_range_message())


def validate_in_range(value: date | datetime | None) -> None:
    """For forms: the same check as a field validator."""
    if value is not None and not year_in_range(value):
        raise ValidationError(out_of_range_message(), code="out_of_range")


def term_too_long_message() -> str:
    return _(
        "A class's term is at most two years ({days} days): end it sooner and add a new class "
        "for the next term."
    ).format(days=MAX_TERM_DAYS)


def check_term(start: date, end: date) -> None:
    """For services: a class's term is within the sane range and at most two years long."""
    check_in_range(start, end)
    if (end - start).days > MAX_TERM_DAYS:
        raise DomainError(term_too_long_message())


class DateField(forms.DateField):
    """A form date between :data:`FIRST_YEAR` and :data:`LAST_YEAR`."""

    default_validators = [validate_in_range]


class DateTimeField(forms.DateTimeField):
    """A form date and time between :data:`FIRST_YEAR` and :data:`LAST_YEAR`."""

    default_validators = [validate_in_range]


def limit_date_fields(form: forms.BaseForm, *names: str) -> None:
    """Give a (model) form's date fields the sane range, e.g. in ``__init__``."""
    for name in names:
        field = form.fields.get(name)
        if field is not None and validate_in_range not in field.validators:
            field.validators.append(validate_in_range)
