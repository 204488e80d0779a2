from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from makeup import dates
from makeup.widgets import Textarea
from programmes.models import WEEKDAYS

from .models import CancellationPolicy, CreditState, PolicyMode
from .services.claims import REASON_MAX


class PolicyForm(forms.ModelForm):
    class Meta:
        model = CancellationPolicy
        fields = [
            "mode",
            "hours_before",
            "issue_on_time",
            "issue_late",
            "issue_staff",
            "on_time_validity",
            "on_time_validity_days",
            "on_time_validity_start",
            "late_validity",
            "late_validity_days",
            "late_validity_start",
            "staff_validity",
            "staff_validity_days",
            "on_time_outstanding_cap",
            "late_outstanding_cap",
            "window_credits",
            "window_days",
            "portal_late_cancellation",
            "late_cancellation_instructions",
            "term_end_credits",
            "carry_extra_days",
            "carry_max_credits",
        ]
        labels = {
            "mode": _("Mode"),
            "hours_before": _("Hours before"),
            "on_time_validity": _("On-time credits are valid"),
            "on_time_validity_days": _("days"),
            "on_time_validity_start": _("counted"),
            "late_validity": _("Late credits are valid"),
            "late_validity_days": _("days"),
            "late_validity_start": _("counted"),
            "staff_validity": _("Staff-cancellation credits are valid"),
            "staff_validity_days": _("days (counted from when the credit is issued)"),
            "on_time_outstanding_cap": _("At most this many unused on-time credits"),
            "late_outstanding_cap": _("At most this many unused late credits"),
            "window_credits": _("At most this many client credits…"),
            "window_days": _("…in this many days"),
            "portal_late_cancellation": _("Portal late cancellation"),
            "late_cancellation_instructions": _("Late cancellation instructions"),
            "term_end_credits": _("When a class's term ends, its unused credits…"),
            "carry_extra_days": _("Extra days to use a moved credit"),
            "carry_max_credits": _("At most this many credits moved into one class"),
        }
        help_texts = {
            "on_time_outstanding_cap": _(
                "Per enrolment; used, expired and revoked credits don't count. Empty: no cap."
            ),
            "late_outstanding_cap": _("Per enrolment. Empty: no cap."),
            "window_credits": _(
                "Per enrolment, counted back from each cancellation; used "
                "credits still count, staff and manual credits don't. "
                "Set both or neither."
            ),
            "late_cancellation_instructions": _(
                'Shown when the portal refuses a late cancellation, e.g. "Call us on 02 9999 0000".'
            ),
            "term_end_credits": _(
                "The next class is the child's place in another class of this programme whose "
                "term is still running. Credits that had already run out before the term ended "
                "stay expired."
            ),
            "carry_extra_days": _(
                "Added to the credit's own expiry; a credit with no expiry keeps none. Needed "
                "when credits move."
            ),
            "carry_max_credits": _(
                "Per child and class, counting every credit moved into it before; the others "
                "keep their own expiry. Empty: no limit."
            ),
        }
        widgets = {
            "late_cancellation_instructions": Textarea(attrs={"rows": 2}),
            "term_end_credits": forms.RadioSelect,
        }

    def clean(self):
        # The rules across fields (days for a validity in days, both or neither of the
        # rolling window, instructions when late portal cancellations are refused) are the
        # model's (CancellationPolicy.clean), so the service holds them too; ModelForm runs
        # them and puts each error on its field.
        cleaned = super().clean()
        if cleaned.get("mode") == PolicyMode.HOURS_BEFORE and cleaned.get("hours_before") is None:
            self.add_error("hours_before", _("Enter how many hours before the lesson."))
        return cleaned


class CutoffForm(forms.Form):
    """One row of the weekly cut-off table: lessons on ``lesson_weekday`` are late after
    ``cutoff_time`` on ``cutoff_weekday`` before them."""

    lesson_weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, widget=forms.HiddenInput)
    cutoff_weekday = forms.TypedChoiceField(
        choices=[("", "—"), *WEEKDAYS],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("late after"),
        widget=forms.Select(
            attrs={"class": "form-select form-select-sm", "aria-label": _("Late after (day)")}
        ),
    )
    cutoff_time = forms.TimeField(
        required=False,
        label=_("at"),
        widget=forms.TimeInput(
            attrs={
                "type": "time",
                "class": "form-control form-control-sm",
                "aria-label": _("Late after (time)"),
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lesson_day = dict(WEEKDAYS).get(self.initial.get("lesson_weekday"))
        if lesson_day:
            self.fields["cutoff_weekday"].widget.attrs["aria-label"] = gettext(
                "{day} lessons: late after (day)"
            ).format(day=lesson_day)
            self.fields["cutoff_time"].widget.attrs["aria-label"] = gettext(
                "{day} lessons: late after (time)"
            ).format(day=lesson_day)

    def clean(self):
        cleaned = super().clean()
        day, at = cleaned.get("cutoff_weekday"), cleaned.get("cutoff_time")
        if (day is None) != (at is None) and not self.errors:
            raise ValidationError(_("Choose both a day and a time, or leave both empty."))
        return cleaned


# One row per weekday; a forged TOTAL_FORMS can't make the page build thousands of forms.
CutoffFormSet = forms.formset_factory(
    CutoffForm, extra=0, min_num=7, max_num=7, absolute_max=7, validate_max=True
)


class ManualCreditForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label=_("Reason"),
        help_text=_(
            'The family and your team see it, e.g. "Compensation for the cancelled holiday clinic".'
        ),
    )
    valid_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label=_("Valid for (days)"),
        help_text=_("Empty: the credit doesn't expire."),
    )


class CreditFilterForm(forms.Form):
    state = forms.ChoiceField(required=False)
    programme = forms.IntegerField(required=False, min_value=1)
    expiring_within = forms.IntegerField(
        required=False, min_value=0, max_value=3650, label=_("Expiring within (days)")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Any state")), *CreditState.choices]


class DeclineForm(forms.Form):
    """Staff decline an "I cancelled in time" claim (BEY-6)."""

    reason = forms.CharField(
        label=_("Why is it declined?"),
        max_length=REASON_MAX,
        widget=Textarea(attrs={"rows": 3}),
        help_text=_("The family reads this in the e-mail and in the portal."),
    )


class PeriodForm(forms.Form):
    """The period of a report."""

    first = dates.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last = dates.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("first") and cleaned.get("last") and cleaned["last"] < cleaned["first"]:
            self.add_error("last", gettext("The period ends before it starts."))
        return cleaned
