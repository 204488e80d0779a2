from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import outbox
from .errors import DomainError
from .holidays import check_holiday_region, country_choices, supported_countries
from .models import Company, CompanySettings
from .widgets import Textarea


class EmailAuthenticationForm(AuthenticationForm):
    """Log in by e-mail; a parent who has not confirmed their address is told so."""

    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That e-mail and password don't match an account. Check both and try again."
        ),
        "unconfirmed": _(
            "Please confirm your e-mail address first: follow the link we e-mailed "
            "you. No e-mail? Ask for a new link below."
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user.email_confirmed_at is None:
            raise ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the e-mail made and sent by a Celery task.

    The outbox row holds the typed address and the page's language, nothing more: the
    worker looks the account up and makes the link (its token) when it sends the e-mail, so
    no working reset link is ever stored in the database or its backups. The request does
    the same work whether or not the address has an account (one outbox row), so neither
    the answer nor its timing tells who has one."""

    def save(self, **kwargs) -> None:
        email = self.cleaned_data["email"].strip().lower()
        outbox.enqueue("makeup.tasks.send_password_reset", email, get_language())


class CompanyDetailsForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "timezone", "currency", "language", "address", "contact_email"]
        labels = {
            "name": _("Name"),
            "timezone": _("Timezone"),
            "currency": _("Currency"),
            "language": _("Language"),
            "address": _("Address"),
            "contact_email": _("Contact email"),
        }
        widgets = {"address": Textarea(attrs={"rows": 3})}


class CompanySettingsForm(forms.ModelForm):
    # The public holidays offered on the Closures page (CLO-1): a country the holiday
    # library knows, and optionally one of its states or regions. The service checks both.
    holiday_country = forms.ChoiceField(
        label=_("Public holidays of"),
        required=False,
        help_text=_(
            "The country whose public holidays you can add to your closures in one step "
            "(none: no holidays offered)."
        ),
    )
    holiday_subdivision = forms.CharField(
        label=_("State or region"),
        required=False,
        max_length=10,
        help_text=_("Adds the holidays of this state or region too, e.g. NSW (optional)."),
    )

    class Meta:
        model = CompanySettings
        fields = [
            "makeup_extra_capacity",
            "makeup_lead_days",
            "balance_gate_enabled",
            "balance_gate_days",
            "portal_payments_enabled",
            "expiry_reminder_days",
            "regular_lesson_reminders",
            "holiday_country",
            "holiday_subdivision",
            "watch_mode",
            "watch_offer_hours",
        ]

    #: Fields a form posted without them (an older page) keeps at their saved value.
    KEPT_WHEN_MISSING = ("watch_mode", "watch_offer_hours")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holiday_country"].choices = [("", _("None")), *country_choices()]
        for name in self.KEPT_WHEN_MISSING:
            self.fields[name].required = False

    def clean(self) -> dict:
        data = super().clean()
        for name in self.KEPT_WHEN_MISSING:
            if name in data and data[name] in (None, ""):
                data[name] = getattr(self.instance, name)
        country = data.get("holiday_country") or ""
        subdivision = (data.get("holiday_subdivision") or "").strip()
        # "nsw" is NSW: the region's own spelling, whatever the case typed.
        spelled = {code.upper(): code for code in supported_countries().get(country, ())}
        subdivision = spelled.get(subdivision.upper(), subdivision)
        data["holiday_subdivision"] = subdivision
        if "holiday_country" not in self.errors:
            try:
                check_holiday_region(country, subdivision)
            except DomainError as error:
                self.add_error("holiday_subdivision", error.message)
        return data


class CompanySignupForm(forms.ModelForm):
    """A new company, created by the logged-in user who becomes its owner."""

    class Meta:
        model = Company
        fields = ["name", "slug", "timezone", "currency"]
        labels = {
            "name": _("Company name"),
            "slug": _("Portal address"),
            "timezone": _("Timezone"),
            "currency": _("Currency"),
        }
        error_messages = {
            "slug": {"unique": _("This portal address is taken: choose another.")},
        }

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()


class NewPasswordFields(forms.Form):
    """A new password, typed twice and checked by the password validators (sign-ups)."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords don't match."))
        elif password1:
            try:
                password_validation.validate_password(password1)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class CompanyOwnerSignupForm(NewPasswordFields, CompanySignupForm):
    """A new company and its owner's login, for someone without one."""

    field_order = [*CompanySignupForm.Meta.fields, "full_name", "email", "password1", "password2"]

    full_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(
        label=_("Your e-mail"),
        max_length=254,
        help_text=_("You log in with it; we'll send a link to confirm it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self) -> str:
        # Never "this address already has a login": that would tell anyone who has one. The
        # sign-up e-mails the address's owner instead (makeup.services.company_signup).
        return self.cleaned_data["email"].strip().lower()
