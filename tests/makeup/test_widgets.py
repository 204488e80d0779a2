"""The widgets drawn in Python (makeup.widgets) give exactly Django's own markup, so a page
that uses them looks and submits the same — only faster."""

from datetime import date

import pytest
from django import forms
from django.utils.safestring import mark_safe

from makeup.widgets import QuickDateInput, QuickSelect
from portal.forms import MakeupSearchForm

CHOICES = [("", "Any day"), (0, "Monday"), (1, "Tom & Jerry <b>"), (2, mark_safe("<i>ok</i>"))]


@pytest.mark.parametrize("value", [None, "", 0, "0", 1, "2", "9", ["1"]])
@pytest.mark.parametrize("choices", [CHOICES, [], [(None, "none"), ("1", "one"), (1, "dup")]])
def test_select_draws_what_django_draws(value, choices):
    attrs = {"class": "form-select", "data-x": '"quoted"', "disabled": True, "hidden": False}
    ours = QuickSelect(choices=choices, attrs=attrs).render("day", value, {"id": "id_day"})
    django = forms.Select(choices=choices, attrs=attrs).render("day", value, {"id": "id_day"})
    assert ours == django


@pytest.mark.parametrize("value", [None, "", "2027-03-01", "not a date", date(2027, 3, 1)])
def test_date_input_draws_what_django_draws(value):
    attrs = {"type": "date", "class": "form-control", "aria-invalid": "true"}
    ours = QuickDateInput(attrs=attrs).render("date_from", value, {"id": "id_date_from"})
    django = forms.DateInput(attrs=attrs).render("date_from", value, {"id": "id_date_from"})
    assert ours == django


def test_the_search_filters_draw_as_before():
    """The make-up search form, bound with a filter and an error, field by field."""
    data = {"student": "3", "credit": "", "date_from": "2027-03-09", "date_to": "2027-03-01"}
    form = MakeupSearchForm(data, students=[(3, "Ema"), (4, "Ben (no credits)")])
    assert not form.is_valid()  # the end before the start: drawn with its error
    for name, field in form.fields.items():
        quick = str(form[name])
        field.widget = _django_widget(field)
        assert quick == str(form[name]), name


def _django_widget(field) -> forms.Widget:
    """The Django widget a quick one draws as, with the same attributes and choices."""
    quick = field.widget
    if isinstance(quick, QuickSelect):
        return forms.Select(attrs=quick.attrs, choices=field.choices)
    assert isinstance(quick, QuickDateInput)
    return forms.DateInput(attrs={**quick.attrs, "type": quick.input_type})
