"""Writes for users, companies, memberships and company settings."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.text import normalize_newlines
from django.utils.translation import gettext as _

from . import outbox
from .audit import audit_record
from .errors import DomainError
from .holidays import check_holiday_region
from .models import AuditEntry, Company, CompanySettings, Membership, Role, User
from .tokens import read_email_confirmation_token


def user_create(
    *,
    email: str,
    password: str | None,
    now: datetime,
    full_name: str = "",
    confirmed: bool = False,
) -> User:
    """Create a login. ``confirmed`` skips e-mail confirmation (staff created by an owner,
    demo data); parents who sign up confirm through the e-mailed link."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(_("An account with this e-mail address already exists."), code="exists")
    return User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name.strip(),
        email_confirmed_at=now if confirmed else None,
    )


def hash_password_anyway(password: str) -> None:
    """Hash ``password`` and throw the result away: a sign-up for an address that already has
    a login creates nothing, and without this it would answer in a few milliseconds where a
    new login takes the hasher's full time — telling a stranger who has an account."""
    make_password(password)


@transaction.atomic
def company_owner_signup(
    *,
    email: str,
    password: str,
    full_name: str,
    name: str,
    slug: str,
    timezone: str = "UTC",
    currency: str = "AUD",
    language: str = "",
    now: datetime,
) -> Company | None:
    """Someone without a login creates a company: a login for them (unconfirmed; the link
    is e-mailed) and the company, with them as its owner. Returns the company.

    When the address already has a login, nothing is created and its owner is e-mailed how
    to log in and create the company from there; returns ``None``. Both ways the password is
    hashed and one e-mail is written to the outbox, so the person at the form sees the same
    answer in the same time and learns nothing about who has an account."""
    normalised = User.objects.normalize_email(email).strip().lower()
    existing = User.objects.filter(email__iexact=normalised).first()
    if existing is not None:
        hash_password_anyway(password)
        outbox.enqueue("makeup.tasks.send_company_signup_exists", existing.pk, language)
        return None
    owner = user_create(email=normalised, password=password, full_name=full_name, now=now)
    company = company_create(
        name=name, slug=slug, timezone=timezone, currency=currency, owner=owner
    )
    user_request_confirmation(user=owner, company=company)
    return company


def user_confirm_email(*, token: str, now: datetime) -> User:
    """Confirm the address in a sign-up link. A second use of the same link is refused,
    so a forwarded old link never logs anybody in."""
    parsed = read_email_confirmation_token(token)
    if parsed is None:
        raise DomainError(_("This confirmation link is invalid or has expired."), code="invalid")
    user_id, email = parsed
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or user.email != email:
            raise DomainError(
                _("This confirmation link is invalid or has expired."), code="invalid"
            )
        if user.email_confirmed_at is not None:
            raise DomainError(
                _("This e-mail address is already confirmed: please log in."), code="already"
            )
        user.email_confirmed_at = now
        user.save(update_fields=["email_confirmed_at"])
    return user


def user_request_confirmation(*, user: User, company: Company) -> None:
    """Send (again) the confirmation link for ``user``, branded for ``company``."""
    if user.email_confirmed_at is None:
        outbox.enqueue("makeup.tasks.send_email_confirmation", company.pk, user.pk)


@transaction.atomic
def company_create(
    *,
    name: str,
    slug: str,
    timezone: str = "UTC",
    currency: str = "AUD",
    address: str = "",
    contact_email: str = "",
    owner: User | None = None,
) -> Company:
    """A new tenant with its settings row and, if given, its owner."""
    if Company.objects.filter(slug=slug).exists():
        raise DomainError(
            _("The address /portal/%(slug)s/ is taken.") % {"slug": slug}, code="slug_taken"
        )
    company = Company.objects.create(
        name=name,
        slug=slug,
        timezone=timezone,
        currency=currency,
        address=address,
        contact_email=contact_email,
    )
    CompanySettings.objects.create(company=company)
    if owner is not None:
        Membership.objects.create(user=owner, company=company, role=Role.OWNER)
    return company


@transaction.atomic
def membership_set(*, company: Company, user: User, role: str) -> Membership:
    """Give ``user`` the ``role`` in ``company`` (create or change). TEN-2: a company keeps
    at least one owner."""
    if role not in Role.values:
        raise DomainError(_("Unknown role."))
    membership = Membership.objects.select_for_update().filter(company=company, user=user).first()
    if membership is None:
        return Membership.objects.create(company=company, user=user, role=role)
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.filter(company=company, role=Role.OWNER).count()
        if owners <= 1:
            raise DomainError(_("A company needs at least one owner."), code="last_owner")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


_SETTINGS_FIELDS = {
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
}


@transaction.atomic
def company_settings_update(
    *, company: Company, now: datetime, actor=None, **values
) -> CompanySettings:
    """Change company settings; unknown fields are refused rather than ignored. The audit
    log records the fields whose value changed, if any."""
    unknown = set(values) - _SETTINGS_FIELDS
    if unknown:
        raise DomainError(
            _("Unknown settings: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    values = {field: _normalised(value) for field, value in values.items()}
    settings_row = CompanySettings.objects.select_for_update().get(company=company)
    if "holiday_country" in values or "holiday_subdivision" in values:
        check_holiday_region(
            values.get("holiday_country", settings_row.holiday_country),
            values.get("holiday_subdivision", settings_row.holiday_subdivision),
        )
    changed = _changed(settings_row, values)
    for field, value in values.items():
        setattr(settings_row, field, value)
    settings_row.full_clean()
    settings_row.save()
    if changed:
        audit_record(
            company_id=company.pk,
            actor=actor,
            now=now,
            area=AuditEntry.Area.SETTINGS,
            summary=_("Settings changed: %(fields)s.") % {"fields": changed},
        )
    return settings_row


def _normalised(value):
    """A text as forms keep it: ``\\n`` line breaks only (browsers send a textarea's as
    ``\\r\\n``) and no surrounding whitespace; any other value as it is."""
    return normalize_newlines(value).strip() if isinstance(value, str) else value


def _changed(instance, values: dict) -> str:
    """The names of the fields whose value changes, for the audit log: texts are compared
    normalised, so a text saved unchanged from a form is not a change."""
    return ", ".join(
        str(instance._meta.get_field(field).verbose_name)
        for field, value in values.items()
        if _normalised(getattr(instance, field)) != _normalised(value)
    )


_COMPANY_FIELDS = {"name", "timezone", "currency", "language", "address", "contact_email"}


@transaction.atomic
def company_update(*, company: Company, now: datetime, actor=None, **values) -> Company:
    """Change a company's details (not its slug: portal links and e-mails use it). Texts are
    kept normalised (``\\n`` line breaks, no surrounding whitespace); the audit log records
    the fields whose value changed, if any."""
    unknown = set(values) - _COMPANY_FIELDS
    if unknown:
        raise DomainError(
            _("Unknown company fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    values = {field: _normalised(value) for field, value in values.items()}
    company = Company.objects.select_for_update().get(pk=company.pk)
    changed = _changed(company, values)
    for field, value in values.items():
        setattr(company, field, value)
    company.full_clean()
    company.save()
    if changed:
        audit_record(
            company_id=company.pk,
            actor=actor,
            now=now,
            area=AuditEntry.Area.SETTINGS,
            summary=_("Company details changed: %(fields)s.") % {"fields": changed},
        )
    return company


def user_set_language(*, user: User, language: str) -> User:
    """The user's language for pages and e-mails (English or Czech)."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise DomainError(_("Choose English or Czech."), code="language")
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user
