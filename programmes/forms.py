"""Forms for the programme and class pages. They check each rule next to its field; the
services check the same again (a form is a convenience, not the guard)."""

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes.forms import SafeModelChoiceField

from makeup.choices import ScopedIdsChoiceField
from makeup.dates import MAX_TERM_DAYS, limit_date_fields, term_too_long_message
from makeup.models import Company, User
from makeup.widgets import Textarea

from .models import WEEKDAYS, Class, ClassSchedule, Closure, ClosureCredits, Programme
from .selectors import (
    HolidayRow,
    closure_location_choices,
    instructor_choices,
    programme_choices,
)
from .services import Slot, normalise_programme_code, programme_code_taken, schedule_conflicts

#: What a page says when its form comes back with errors.
NOTHING_SAVED = _("Nothing was saved: please correct the fields marked below.")
MAX_SCHEDULE_SLOTS = 21  # three a day
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ProgrammeChoicesField(ScopedIdsChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.code})"


class ProgrammeForm(forms.ModelForm):
    # WAL-3: the company's other programmes (active ones, and any archived one already chosen).
    accepts_credits_from = ProgrammeChoicesField(
        queryset=Programme.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Also accepts credits from"),
        help_text=Programme._meta.get_field("accepts_credits_from").help_text,
    )

    class Meta:
        model = Programme
        fields = [
            "name",
            "code",
            "description",
            "makeups_enabled",
            "accept_partner_makeups",
            "accepts_credits_from",
            "credit_transfer_allowed",
        ]
        widgets = {"description": Textarea(attrs={"rows": 3})}
        labels = {"name": _("Name"), "code": _("Code"), "description": _("Description")}

    def __init__(self, *args, company: Company, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        others = Programme.objects.filter(company=company)
        chosen: list[int] = []
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
            chosen = [p.pk for p in self.instance.accepts_credits_from.all()]
        self.fields["accepts_credits_from"].queryset = others.filter(
            Q(archived_at__isnull=True) | Q(pk__in=chosen)
        ).order_by("name", "pk")

    def clean_code(self) -> str:
        code = normalise_programme_code(self.cleaned_data["code"])
        if programme_code_taken(company=self.company, code=code, exclude_pk=self.instance.pk):
            raise forms.ValidationError(
                gettext(
                    "Another programme of yours already uses the code {code}; choose another."
                ).format(code=code),
                code="code_taken",
            )
        return code


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.full_name or obj.email


def _age_field(label: str, *, months: bool) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=11 if months else 99,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _months(years: int | None, months: int | None) -> int | None:
    if years is None and months is None:
        return None
    return (years or 0) * 12 + (months or 0)


class ClassForm(forms.ModelForm):
    """A class's details. Ages are entered as years and months and stored in months."""

    programme = SafeModelChoiceField(queryset=Programme.objects.none(), label=_("Programme"))
    instructor = UserChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Instructor"),
        empty_label=_("No instructor yet"),
        help_text=_("A member of your company."),
    )
    min_years = _age_field(_("Youngest age: years"), months=False)
    min_months = _age_field(_("and months"), months=True)
    max_years = _age_field(_("Oldest age: years"), months=False)
    max_months = _age_field(_("and months"), months=True)
    capacity = forms.IntegerField(
        min_value=1,
        max_value=500,
        label=_("Capacity"),
        help_text=_("Regular students per session."),
        error_messages={"min_value": _("A class needs at least one place.")},
    )

    class Meta:
        model = Class
        fields = [
            "programme",
            "name",
            "instructor",
            "location",
            "capacity",
            "start_date",
            "end_date",
            "price_per_session",
            "course_price",
            "allow_makeups",
            "extra_makeup_capacity",
            "extra_capacity_mode",
            "deduct_per_attendance",
        ]
        widgets = {"start_date": DATE_WIDGET, "end_date": DATE_WIDGET}
        labels = {
            "name": _("Name"),
            "location": _("Location"),
            "start_date": _("Start date"),
            "end_date": _("End date"),
            "extra_capacity_mode": _("Extra capacity mode"),
            "deduct_per_attendance": _("Deduct per attendance"),
        }

    AGE_FIELDS = ("min_years", "min_months", "max_years", "max_months")

    def __init__(self, *args, company: Company, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        limit_date_fields(self, "start_date", "end_date")
        klass = self.instance
        self.fields["programme"].queryset = programme_choices(
            company=company, keep_pk=klass.programme_id
        )
        self.fields["instructor"].queryset = instructor_choices(
            company=company, keep_pk=klass.instructor_id
        )
        if klass.pk:
            for prefix, months in (("min", klass.min_age_months), ("max", klass.max_age_months)):
                if months is not None:
                    self.initial[f"{prefix}_years"], self.initial[f"{prefix}_months"] = divmod(
                        months, 12
                    )
        currency = company.currency
        self.fields["price_per_session"].label = gettext(
            "Price for one session ({currency})"
        ).format(currency=currency)
        self.fields["course_price"].label = gettext(
            "Price for the whole course ({currency})"
        ).format(currency=currency)
        course_help = gettext("Give a price for one session, for the whole course, or both.")
        self.fields["course_price"].help_text = course_help
        extra = company.settings.makeup_extra_capacity
        extra_help = gettext("Your company's extra capacity (Settings) is {extra}.").format(
            extra=extra
        )
        self.fields[
            "extra_makeup_capacity"
        ].help_text = f"{self.fields['extra_makeup_capacity'].help_text} {extra_help}"

    def _clean_price(self, field: str) -> Decimal | None:
        price = self.cleaned_data.get(field)
        if price is not None and price < 0:
            raise forms.ValidationError(gettext("A price can't be negative."), code="negative")
        return price

    def clean_price_per_session(self) -> Decimal | None:
        return self._clean_price("price_per_session")

    def clean_course_price(self) -> Decimal | None:
        return self._clean_price("course_price")

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", gettext("The end date must not be before the start date."))
        elif start and end and (end - start).days > MAX_TERM_DAYS:
            self.add_error("end_date", term_too_long_message())
        if not any(f in self.errors for f in self.AGE_FIELDS):
            youngest = _months(data.get("min_years"), data.get("min_months"))
            oldest = _months(data.get("max_years"), data.get("max_months"))
            if youngest is not None and oldest is not None and youngest > oldest:
                self.add_error(
                    "max_years", gettext("The oldest age must not be below the youngest age.")
                )
            else:
                data["min_age_months"], data["max_age_months"] = youngest, oldest
        prices_valid = not any(f in self.errors for f in ("price_per_session", "course_price"))
        if (
            prices_valid
            and data.get("price_per_session") is None
            and data.get("course_price") is None
        ):
            self.add_error(
                "price_per_session",
                gettext(
                    "Give a price for one session, a price for the whole course, or both. "
                    "Only classes with a price for one session take make-ups."
                ),
            )
        return data

    def class_values(self) -> dict:
        """The cleaned values, as the services take them."""
        data = self.cleaned_data
        values = {field: data[field] for field in self._meta.fields}
        values["location"] = values["location"] or ""
        values["min_age_months"] = data["min_age_months"]
        values["max_age_months"] = data["max_age_months"]
        return values


class SlotForm(forms.ModelForm):
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), min_value=5, max_value=600, initial=30
    )

    class Meta:
        model = ClassSchedule
        fields = ["weekday", "start_time", "duration_minutes"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {"weekday": _("Weekday"), "start_time": _("Start time")}
        help_texts = {"start_time": ""}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["weekday"].choices = [("", gettext("Choose a day")), *WEEKDAYS]

    # Clashes between slots (same start or overlapping windows) are checked across the
    # formset, where a slot being removed in the same request is known.
    def validate_unique(self) -> None:
        pass

    def validate_constraints(self) -> None:
        pass

    def slot(self) -> Slot:
        data = self.cleaned_data
        return Slot(
            weekday=int(data["weekday"]),
            start_time=data["start_time"],
            duration_minutes=data["duration_minutes"],
        )


class BaseScheduleFormSet(BaseInlineFormSet):
    """A class's weekly slots: at least one; none overlapping another on the same day."""

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = gettext("Remove this slot")

    def validate_unique(self) -> None:
        pass  # an exact duplicate is an overlap, reported by clean() next to the slot

    def kept_forms(self) -> list[SlotForm]:
        """Filled-in forms that are not being removed."""
        return [
            form
            for form in self.forms
            if form.cleaned_data
            and not (self.can_delete and self._should_delete_form(form))
            and form.cleaned_data.get("start_time") is not None
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = self.kept_forms()
        if not kept:
            raise forms.ValidationError(
                gettext("Add at least one weekly slot: a day, a start time and a length."),
                code="no_slots",
            )
        slots = [form.slot() for form in kept]
        for first, second in schedule_conflicts(slots):
            if "start_time" in kept[second].errors:
                continue
            kept[second].add_error(
                "start_time",
                gettext("This slot overlaps {slot} of this class.").format(
                    slot=slots[first].label()
                ),
            )

    def slots(self) -> list[Slot]:
        return [form.slot() for form in self.kept_forms()]


def schedule_formset_class(*, extra: int):
    return inlineformset_factory(
        Class,
        ClassSchedule,
        form=SlotForm,
        formset=BaseScheduleFormSet,
        extra=extra,
        can_delete=True,
        # A class meets a few times a week: a forged TOTAL_FORMS can't make the page build
        # thousands of forms (Django's default ceiling is max_num + 1000).
        max_num=MAX_SCHEDULE_SLOTS,
        absolute_max=MAX_SCHEDULE_SLOTS,
        validate_max=True,
    )


WEEKDAY_FILTER_CHOICES = [("", _("Any day")), *WEEKDAYS]
STATUS_CHOICES = [("active", _("Active")), ("archived", _("Archived")), ("all", _("All"))]


class ClassFilterForm(forms.Form):
    programme = SafeModelChoiceField(
        queryset=Programme.objects.none(),
        required=False,
        label=_("Programme"),
        empty_label=_("All programmes"),
    )
    instructor = UserChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=_("Instructor"),
        empty_label=_("All instructors"),
    )
    weekday = forms.TypedChoiceField(
        choices=WEEKDAY_FILTER_CHOICES,
        required=False,
        coerce=int,
        empty_value=None,
        label=_("Weekday"),
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label=_("Status"))

    def __init__(self, *args, company: Company, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programme_choices(
            company=company, include_archived=True
        )
        self.fields["instructor"].queryset = instructor_choices(company=company)

    def filters(self) -> dict:
        """The valid filters only: a bad value in one field doesn't drop the others."""
        if not self.is_bound:
            return {"archived": False}
        self.is_valid()
        data = self.cleaned_data
        status = data.get("status") or "active"
        return {
            "programme": data.get("programme"),
            "instructor": data.get("instructor"),
            "weekday": data.get("weekday"),
            "archived": {"active": False, "archived": True, "all": None}[status],
        }


class ClosureForm(forms.Form):
    """A closure (CLO-1): its name, days, hours (for part of a day), scope and credits. The
    service checks the days, the hours and the scope; its refusals come back on this form."""

    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("Families see it, e.g. “Christmas” or “Pool maintenance”."),
    )
    first_day = forms.DateField(label=_("First day"), widget=DATE_WIDGET)
    last_day = forms.DateField(
        label=_("Last day"), widget=DATE_WIDGET, help_text=_("The last closed day, inclusive.")
    )
    start_time = forms.TimeField(
        label=_("Closed from"),
        required=False,
        widget=TIME_WIDGET,
        help_text=_("Only part of each day? Give both times. Leave both empty for whole days."),
    )
    end_time = forms.TimeField(label=_("Closed until"), required=False, widget=TIME_WIDGET)
    locations = forms.MultipleChoiceField(
        label=_("Locations"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none to close every location."),
    )
    programmes = ScopedIdsChoiceField(
        queryset=Programme.objects.none(),
        label=_("Programmes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none to close every programme."),
    )
    credits = forms.ChoiceField(
        label=_("Credits for the lessons it cancels"),
        choices=ClosureCredits.choices,
        initial=ClosureCredits.POLICY,
        widget=forms.RadioSelect,
        help_text=_(
            "By policy: each programme's policy for lessons you cancel decides. No credit: the "
            "closure is priced into the term, so its cancelled lessons earn none."
        ),
    )

    def __init__(self, *args, company: Company, closure: Closure | None = None, **kwargs):
        chosen = [p.pk for p in closure.programmes.all()] if closure is not None else []
        if closure is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": closure.name,
                    "first_day": closure.first_day,
                    "last_day": closure.last_day,
                    "start_time": closure.start_time,
                    "end_time": closure.end_time,
                    "locations": closure.locations,
                    "programmes": chosen,
                    "credits": closure.credits,
                },
            )
        super().__init__(*args, **kwargs)
        limit_date_fields(self, "first_day", "last_day")
        kept = closure.locations if closure is not None else []
        self.fields["locations"].choices = [
            (loc, loc) for loc in closure_location_choices(company, keep=kept)
        ]
        self.fields["programmes"].queryset = Programme.objects.filter(
            Q(archived_at__isnull=True) | Q(pk__in=chosen), company=company
        ).order_by("name", "pk")

    def closure_values(self) -> dict:
        """The cleaned values, as the closure services take them."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "first_day": data["first_day"],
            "last_day": data["last_day"],
            "start_time": data["start_time"],
            "end_time": data["end_time"],
            "locations": data["locations"],
            "programmes": list(data["programmes"]),
            "credits": data["credits"],
        }


class HolidaysForm(forms.Form):
    """The public holidays to add (CLO-1): only days offered on the page — holidays of the
    company's region in the coming year, not yet on the calendar — are accepted."""

    days = forms.MultipleChoiceField(
        label=_("Public holidays"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Tick the public holidays to add."),
            "invalid_choice": _(
                "%(value)s is not one of the public holidays offered: reload the page and "
                "tick again."
            ),
        },
    )

    def __init__(self, *args, holidays: list[HolidayRow], **kwargs):
        super().__init__(*args, **kwargs)
        self.names = {row.day.isoformat(): (row.day, row.name) for row in holidays if not row.added}
        self.fields["days"].choices = [(key, name) for key, (_day, name) in self.names.items()]

    def chosen(self) -> list[tuple]:
        """(day, holiday name) of each ticked holiday."""
        return [self.names[key] for key in self.cleaned_data["days"]]
