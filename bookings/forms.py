"""Forms of the back office's bookings pages: families, parents and children, packages and
payments, the CSV import; the session calendar and attendance, the class page's enrolments
and one-off sessions. They parse and check what a person typed; the services write (and check
again)."""

from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from makeup import dates
from makeup.errors import DomainError
from makeup.models import Company
from makeup.widgets import Textarea
from programmes.models import Class, Programme

from .models import AttendanceState, Family, Guardian, Payment, Student
from .selectors.families import guardian_with_email
from .services.families import check_date_of_birth
from .services.import_csv import MAX_FILE_BYTES, MAX_ROWS

#: What a page says when its form comes back with errors.
NOTHING_SAVED = _("Nothing was saved: please correct the fields marked below.")

# --- families, parents, children, packages, payments, the CSV import ----------------------


class FamilySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("Family, parent, e-mail, phone or child"),
            }
        ),
    )
    blocked = forms.BooleanField(
        label=_("Only families blocked by an unpaid balance"),
        required=False,
        widget=forms.HiddenInput,
    )


class PeopleSearchForm(forms.Form):
    """The back office's one search box (DAY-3); also the class page's student picker."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    any_age = forms.BooleanField(label=_("Also students outside the class's ages"), required=False)


class FamilyForm(forms.Form):
    name = forms.CharField(
        label=_("Family name"),
        max_length=Family._meta.get_field("name").max_length,
        help_text=_("Usually the family's surname."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=Textarea(attrs={"rows": 3}),
        help_text=_("Seen by staff only."),
    )


class GuardianForm(forms.Form):
    """A parent's details. The e-mail is unique among the company's parents; a parent with
    a portal login keeps the login's e-mail (shown, not editable)."""

    full_name = forms.CharField(
        label=_("Parent's name"), max_length=Guardian._meta.get_field("full_name").max_length
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Needed to invite the parent to the portal."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=Guardian._meta.get_field("phone").max_length,
    )

    def __init__(self, *args, company: Company, guardian: Guardian | None = None, **kwargs):
        self.company = company
        self.guardian = guardian
        if guardian is not None:
            kwargs.setdefault(
                "initial",
                {"full_name": guardian.full_name, "email": guardian.email, "phone": guardian.phone},
            )
        super().__init__(*args, **kwargs)
        if guardian is not None and guardian.user_id is not None:
            self.fields["email"].disabled = True
            self.fields["email"].help_text = _(
                "The parent logs in to the portal with this address; it can't be changed here."
            )

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        exclude_pk = self.guardian.pk if self.guardian is not None else None
        other = guardian_with_email(company=self.company, email=email, exclude_pk=exclude_pk)
        if other is not None:
            raise forms.ValidationError(
                gettext(
                    "This e-mail is already {name}'s ({family} family); each parent needs their "
                    "own."
                ).format(name=other.full_name, family=other.family.name)
            )
        return email


class StudentForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), max_length=Student._meta.get_field("first_name").max_length
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=Student._meta.get_field("last_name").max_length
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args, company: Company, now: datetime, student: Student | None = None, **kwargs
    ):
        self.company, self.now = company, now
        if student is not None:
            kwargs.setdefault(
                "initial",
                {
                    "first_name": student.first_name,
                    "last_name": student.last_name,
                    "date_of_birth": student.date_of_birth,
                },
            )
        super().__init__(*args, **kwargs)

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        try:
            check_date_of_birth(
                date_of_birth=value,
                today=timezone.localdate(self.now, timezone=self.company.tzinfo),
            )
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return value


class OptionalStudentForm(StudentForm):
    """The first child on the new-family page: all empty means "no child yet"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_permitted", True)
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)

    @property
    def is_filled(self) -> bool:
        return self.is_bound and self.has_changed()


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        validators=[
            FileExtensionValidator(
                ["csv"], _("Upload a .csv file (in Excel: Save As → CSV UTF-8).")
            )
        ],
        help_text=format_lazy(
            _("UTF-8 CSV with a header row, at most {megabytes} MB and {rows} rows."),
            megabytes=MAX_FILE_BYTES // (1024 * 1024),
            rows=f"{MAX_ROWS:,}",
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                gettext(
                    "The file is {size} MB; the limit is {limit} MB. Split it into several files."
                ).format(
                    size=f"{upload.size / (1024 * 1024):.1f}", limit=MAX_FILE_BYTES // (1024 * 1024)
                )
            )
        return upload


class PackageForm(forms.Form):
    """PKG-1: a package of sessions sold to (or recorded for) a family."""

    programme = forms.ModelChoiceField(queryset=None, label=_("Programme"))
    sessions = forms.IntegerField(
        min_value=1,
        max_value=500,
        label=_("Sessions"),
        help_text=_("How many sessions the family bought."),
    )
    price = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2, label=_("Price paid"))
    purchased_on = dates.DateField(
        label=_("Bought on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = dates.DateField(
        required=False,
        label=_("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Lessons after this day don't use it. Empty: no end."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.filter(
            company=company, archived_at__isnull=True
        ).order_by("name")

    def clean(self):
        cleaned = super().clean()
        bought, until = cleaned.get("purchased_on"), cleaned.get("valid_until")
        if bought and until and until < bought:
            self.add_error("valid_until", gettext("A package can't end before it is bought."))
        return cleaned


class PaymentForm(forms.Form):
    """BAL-1: a payment receipted to the family."""

    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    paid_on = dates.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=100,
        help_text=_("Receipt number, bank reference…"),
    )


# --- sessions, attendance, enrolments ------------------------------------------------------

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
                born=date_format(s.date_of_birth, "DAY_FORMAT"),
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
