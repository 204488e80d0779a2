from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiKey, WebhookEvent


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


class WebhookEndpointForm(forms.Form):
    """An endpoint's address and events (API-4); ``active`` only when editing one."""

    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_("Where your system receives the messages: an address starting with https://."),
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=100,
        required=False,
        help_text=_("For you, e.g. “Accounting sync”."),
    )
    events = forms.MultipleChoiceField(
        label=_("Send a message when"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(
        label=_("On"),
        required=False,
        help_text=_(
            "Turned off, nothing is sent to it, and what happens meanwhile is not sent later."
        ),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["active"]
