"""Forms of the staff make-up pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from makeup import dates


class StaffBookingForm(forms.Form):
    session = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    note = forms.CharField(
        max_length=200,
        required=False,
        label=_("Staff note"),
        help_text=_(
            "For staff only: shown on the attendance list and the family page, never e-mailed, "
            'e.g. "Make-up for missed lesson 30/10, mum phoned Friday".'
        ),
    )
    family_message = forms.CharField(
        max_length=300,
        required=False,
        label=_("Message to the family"),
        help_text=_("Optional: shown in the confirmation e-mail the family receives."),
    )
    override_reason = forms.CharField(
        max_length=150,
        required=False,
        label=_("Reason for booking past the portal's rules"),
        help_text=_("Needed only where a portal-only rule fails; kept with the booking."),
    )


class StaffMoveForm(forms.Form):
    """WAL-2: staff move a booked make-up to ``session``."""

    session = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    family_message = forms.CharField(
        max_length=300,
        required=False,
        label=_("Message to the family"),
        help_text=_("Optional: shown in the e-mail telling the family of the move."),
    )
    override_reason = forms.CharField(
        max_length=150,
        required=False,
        label=_("Reason for moving past the portal's rules"),
        help_text=_(
            "Needed only past the family's deadline for changes or a portal-only rule; kept "
            "with the booking and in the credit's history."
        ),
    )


class CancelForm(forms.Form):
    cancelled_at = dates.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        label=_("The family told us at"),
    )


class ExplainForm(forms.Form):
    credit = forms.IntegerField(required=False, min_value=1)
    session = forms.IntegerField(required=False, min_value=1)
    date = dates.DateField(required=False)
    credit_q = forms.CharField(required=False, max_length=100)
