"""Forms of the franchise pages. They check each rule next to its field; the services check
the same again."""

from django import forms
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from makeup.choices import IdsChoiceField
from makeup.models import Company
from makeup.widgets import Textarea
from programmes.models import Programme

from .models import IncomingRestriction


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail of the company to invite"),
        max_length=254,
        help_text=_(
            "Their contact e-mail or an owner's login. If they are not using the system yet, "
            "the e-mail tells them how to create their company first."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    message = forms.CharField(
        label=_("Message (optional)"),
        max_length=500,
        required=False,
        widget=Textarea(attrs={"rows": 2}),
        help_text=_("Shown in the invitation e-mail."),
    )


class ProgrammeChoiceField(IdsChoiceField):
    def label_from_instance(self, obj: Programme) -> str:
        switch = (
            gettext("takes partner make-ups")
            if obj.accept_partner_makeups
            else gettext("partner make-ups off")
        )
        return f"{obj.name} ({obj.code}) — {switch}"


def _model_field(name: str):
    return IncomingRestriction._meta.get_field(name)


def _limit_field(name: str, maximum: int) -> forms.IntegerField:
    model_field = _model_field(name)
    return forms.IntegerField(
        label=capfirst(model_field.verbose_name),
        help_text=model_field.help_text,
        required=False,
        min_value=1,
        max_value=maximum,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class RestrictionForm(forms.Form):
    """FRN-3: a host's terms for one partner's guests. Only the company's own programmes are
    choices, so another company's programme id is refused as an invalid choice."""

    programmes = ProgrammeChoiceField(
        label=_("Programmes"),
        queryset=Programme.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_model_field("programmes").help_text,
    )
    max_guests_per_session = _limit_field("max_guests_per_session", 100)
    max_days_ahead = _limit_field("max_days_ahead", 365)

    def __init__(self, *args, company: Company, chosen: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Archived programmes are offered only while they are still ticked.
        self.fields["programmes"].queryset = Programme.objects.filter(company=company).filter(
            Q(archived_at__isnull=True) | Q(pk__in=chosen or [])
        )


class ReportYearForm(forms.Form):
    year = forms.TypedChoiceField(
        label=_("Year"), coerce=int, widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, this_year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, y) for y in range(this_year + 1, this_year - 10, -1)]
