from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credits.services.claims import MESSAGE_MAX
from makeup import dates
from makeup.formats import local_datetime
from makeup.forms import NewPasswordFields
from makeup.widgets import QuickDateInput, QuickSelect, Textarea


class SignupForm(NewPasswordFields):
    field_order = ["full_name", "email", "password1", "password2"]

    full_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)


WEEKDAY_CHOICES = [
    ("", _("Any day")),
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]
TIME_OF_DAY_CHOICES = [
    ("", _("Any time")),
    ("morning", _("Morning (before 12:00)")),
    ("afternoon", _("Afternoon (12:00–17:00)")),
    ("evening", _("Evening (from 17:00)")),
]


def credit_label(credit) -> str:
    """How a parent recognises a credit: its programme and when it must be used by."""
    programme = credit.enrolment.klass.programme.name
    if credit.expires_at is None:
        return gettext("{programme} · no expiry").format(programme=programme)
    until = local_datetime(credit.expires_at, fmt="WEEKDAY_FORMAT")
    return gettext("{programme} · use by {until}").format(programme=programme, until=until)


class MakeupSearchForm(forms.Form):
    """The make-up search filters. The child and the credit arrive already checked against
    the parent's family (the view resolves them); this form renders them and parses the
    rest."""

    # Drawn in Python (makeup.widgets): the filters are drawn on every uncached search.
    student = forms.TypedChoiceField(
        label=_("Child"), coerce=int, required=False, widget=QuickSelect
    )
    credit = forms.TypedChoiceField(
        label=_("Credit"), coerce=int, required=False, widget=QuickSelect
    )
    date_from = dates.DateField(
        label=_("From"), required=False, widget=QuickDateInput(attrs={"type": "date"})
    )
    date_to = dates.DateField(
        label=_("To"), required=False, widget=QuickDateInput(attrs={"type": "date"})
    )
    weekday = forms.TypedChoiceField(
        label=_("Day"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=QuickSelect,
    )
    time_of_day = forms.ChoiceField(
        label=_("Time of day"), choices=TIME_OF_DAY_CHOICES, required=False, widget=QuickSelect
    )

    def __init__(self, *args, students=(), credits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = list(students)
        self.fields["credit"].choices = [(c.pk, credit_label(c)) for c in credits]
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = css

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class MakeupBookForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the school (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("E.g. Make-up for missed lesson 30/10")}),
    )


class ClaimForm(forms.Form):
    message = forms.CharField(
        label=_("Anything the school should know? (optional)"),
        required=False,
        max_length=MESSAGE_MAX,
        widget=Textarea(
            attrs={
                "rows": 4,
                "placeholder": _("E.g. I phoned the front desk on Monday morning."),
            }
        ),
    )


class MakeupMoveForm(forms.Form):
    """WAL-2: the page of sessions a booked make-up could move to (``date_from`` pages it),
    and the session chosen (POST)."""

    date_from = dates.DateField(required=False)
    session = forms.IntegerField(required=False, min_value=1)
