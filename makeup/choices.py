"""Choice fields of several rows by id, safe against ids no database column can hold.

Django refuses an out-of-range id for a single choice (the lookup finds nothing), but not in a
list: ``pk__in`` with a 60-digit "id" made SQLite raise ``OverflowError`` and PostgreSQL a
``DataError`` — a server error for a typed-in form. These fields refuse such an id as an
invalid value before any query.
"""

from django import forms
from django.core.exceptions import ValidationError
from django_scopes.forms import SafeModelMultipleChoiceField

#: The largest id a column holds (PostgreSQL's bigint, SQLite's INTEGER).
MAX_ID = 2**63 - 1


class IdsInRangeMixin:
    """For a ``ModelMultipleChoiceField``: every given id that is a whole number must fit a
    column; the field's own checks do the rest."""

    def _check_values(self, value):
        try:
            given = frozenset(value)
        except TypeError:
            return super()._check_values(value)
        for pk in given:
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # not a whole number: the field's own check refuses it
            if abs(number) > MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class IdsChoiceField(IdsInRangeMixin, forms.ModelMultipleChoiceField):
    """A choice of several rows by id."""


class ScopedIdsChoiceField(IdsInRangeMixin, SafeModelMultipleChoiceField):
    """The same, starting from no rows until the form sets its own queryset (django-scopes)."""
