from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from makeup import dates
from programmes.models import Class

from .models import AttendanceState, Student

STATE_CHOICES = [
    (AttendanceState.EXPECTED, _("Expected")),
    (AttendanceState.PRESENT, _("Present")),
    ("client_cancelled", _("Client cancelled")),
    (AttendanceState.NO_SHOW, _("Did not attend")),
    (AttendanceState.STAFF_CANCELLED, _("Cancelled by us")),
]


class AttendanceForm(forms.Form):
    """One click on the attendance view. "Client cancelled" carries the time the client told
    us (default now, ATT-3); the policy turns it into on time or late (ATT-4)."""

    state = forms.ChoiceField(choices=STATE_CHOICES)
    cancelled_at = dates.DateTimeField(
        required=False,
        label=_("Client told us at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("state") == "client_cancelled":
            cleaned["state"] = AttendanceState.CANCELLED  # cancelled_at empty: the service's now
        return cleaned


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label=_("Reason"),
        help_text=_('Parents see it, e.g. "Pool closed for maintenance".'),
    )


class WeekForm(forms.Form):
    date = dates.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    view = forms.ChoiceField(choices=[("week", _("Week")), ("day", _("Day"))], required=False)
    programme = forms.IntegerField(required=False, min_value=1)
    instructor = forms.IntegerField(required=False, min_value=1)


class OneOffSessionForm(forms.Form):
    local_date = dates.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"), min_value=5, max_value=600, initial=30
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_local_date(self) -> date:
        day = self.cleaned_data["local_date"]
        if day < self.today:
            raise ValidationError(_("Choose today or a later day."))
        return day


class EnrolForm(forms.Form):
    """Enrol one student in one class; the page fixes one of the two."""

    klass = forms.ModelChoiceField(queryset=Class.objects.none(), label=_("Class"))
    student = forms.ModelChoiceField(queryset=Student.objects.none(), label=_("Student"))
    start_date = dates.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    confirm_age = forms.BooleanField(
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, company, today: date, klass=None, student=None, **kwargs):
        super().__init__(*args, **kwargs)
        if klass is not None:
            del self.fields["klass"]
            # Students already in the class are not offered again.
            self.fields["student"].queryset = (
                Student.objects.filter(company=company)
                .exclude(enrolments__klass=klass, enrolments__withdrawn_from__isnull=True)
                .select_related("family")
                .order_by("first_name", "last_name")
            )
            self.fields["student"].label_from_instance = lambda s: gettext(
                "{first_name} {last_name} ({family}, born {born})"
            ).format(
                first_name=s.first_name,
                last_name=s.last_name,
                family=s.family.name,
                born=date_format(s.date_of_birth, "j M Y"),
            )
        if student is not None:
            del self.fields["student"]
            self.fields["klass"].queryset = (
                Class.objects.filter(company=company, archived_at__isnull=True)
                .select_related("programme")
                .order_by("programme__name", "name")
            )
            self.fields["klass"].label_from_instance = lambda c: (
                f"{c.programme.name} · {c.name} ({c.age_range_label()})"
            )
        self.fields["start_date"].initial = today


class WithdrawForm(forms.Form):
    withdrawn_from = dates.DateField(
        label=_("No longer attends from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Sessions on or after this day are no longer theirs; past attendance stays."),
    )
