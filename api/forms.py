from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What will use it, e.g. “Accounting” or “Zapier”."),
    )
    access = forms.ChoiceField(
        label=_("Access"),
        choices=ApiKey.Access.choices,
        initial=ApiKey.Access.READ,
        widget=forms.RadioSelect,
        help_text=_(
            "Read only: the tool can read your data. Read and write: it can also record "
            "attendance and book, move and cancel make-ups, by the same rules as your staff."
        ),
    )
