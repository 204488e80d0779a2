"""Writes for families, parents and students."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup import outbox
from makeup.errors import DomainError
from makeup.models import Company, User
from makeup.services import hash_password_anyway, user_create, user_request_confirmation
from makeup.shapes import Shape

from ..models import Family, Guardian, Student
from ..selectors.families import guardian_with_email

OLDEST_AGE_YEARS = 100


def _family_name_for(full_name: str, email: str) -> str:
    words = full_name.split()
    return words[-1] if words else email.split("@")[0]


@transaction.atomic
def parent_signup(
    *, company: Company, email: str, password: str, full_name: str, now: datetime
) -> User | None:
    """A parent signs up on ``company``'s portal: a login (unconfirmed) and a family — or,
    when the school already has a parent with that address, that parent's family.

    The confirmation e-mail goes out through a Celery task after commit. When the address
    already has a login, nothing is created and its owner is e-mailed instead, so the form
    never tells a stranger who has an account; the password is hashed anyway, so neither
    does the time the answer takes. Returns the new user, or ``None``.
    """
    existing = User.objects.filter(email__iexact=email.strip()).first()
    if existing is not None:
        # As long as creating a login takes (the password hash): the timing tells nothing.
        hash_password_anyway(password)
        outbox.enqueue("makeup.tasks.send_account_exists", company.pk, existing.pk)
        return None
    user = user_create(email=email, password=password, full_name=full_name, now=now)
    known = (
        Guardian.objects.select_for_update()
        .filter(company=company, email__iexact=user.email, user__isnull=True)
        .first()
    )
    if known is not None:
        # The school already has this parent (entered by staff or imported): the login joins
        # their family. Nobody gets in before confirming they own the address.
        known.user = user
        known.save(update_fields=["user"])
    else:
        family = Family.objects.create(
            company=company, name=_family_name_for(full_name, user.email)
        )
        Guardian.objects.create(
            company=company,
            family=family,
            user=user,
            full_name=full_name or user.email,
            email=user.email,
        )
    user_request_confirmation(user=user, company=company)
    return user


def check_portal_parent(*, family: Family, user) -> Guardian:
    """MKP-9: ``user`` may act for ``family`` in the portal — a parent of the family with
    their own login (active), whose e-mail address is confirmed. Returns the parent, or
    refuses (code ``not_parent`` or ``unconfirmed``). The one check of who a family is: the
    portal pages and the services that act for a family on its own (booking a make-up,
    watching a full session) all use it."""
    guardian = None
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        guardian = _FAMILY_PARENT.first(
            company_id=family.company_id, family_id=family.pk, user_id=user.pk
        )
    if guardian is None:
        raise DomainError(
            _("Only a parent of this family, logged in with their own account, can do this."),
            code="not_parent",
        )
    if not user.email_confirmed:
        raise DomainError(_("Please confirm your e-mail address first."), code="unconfirmed")
    return guardian


@transaction.atomic
def parent_join(*, company: Company, user: User) -> Guardian:
    """A logged-in parent of another company starts a family at ``company`` too."""
    existing = Guardian.objects.filter(company=company, user=user).first()
    if existing is not None:
        return existing
    if not user.email_confirmed:
        raise DomainError(_("Please confirm your e-mail address first."), code="unconfirmed")
    full_name = user.full_name or user.email
    family = Family.objects.create(company=company, name=_family_name_for(full_name, user.email))
    return Guardian.objects.create(
        company=company, family=family, user=user, full_name=full_name, email=user.email
    )


# --- back office: families, parents and students -------------------------------------------


def _text(value: str, *, label: str, max_length: int, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise DomainError(_("Enter the {label}.").format(label=label))
    if len(value) > max_length:
        raise DomainError(
            ngettext(
                "The {label} is too long (at most {max_length} characters).",
                "The {label} is too long (at most {max_length} characters).",
                max_length,
            ).format(label=label, max_length=max_length)
        )
    return value


def _email(value: str) -> str:
    value = (value or "").strip().lower()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError as error:
        raise DomainError(
            _("{email} is not a valid e-mail address.").format(email=value)
        ) from error
    return value


def check_date_of_birth(*, date_of_birth: date, today: date) -> None:
    """A date of birth is not in the future and not more than 100 years ago."""
    if date_of_birth > today:
        raise DomainError(_("The date of birth can't be in the future."))
    try:
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS, day=28)
    if date_of_birth < oldest:
        raise DomainError(
            ngettext(
                "The date of birth can't be more than {count} years ago: check the year.",
                "The date of birth can't be more than {count} years ago: check the year.",
                OLDEST_AGE_YEARS,
            ).format(count=OLDEST_AGE_YEARS)
        )


def _check_email_free(*, company: Company, email: str, exclude_pk: int | None = None) -> None:
    """A parent's e-mail is unique among the company's parents: it identifies the family
    (portal invitations, CSV imports)."""
    other = guardian_with_email(company=company, email=email, exclude_pk=exclude_pk)
    if other is not None:
        raise DomainError(
            _("{email} is already the e-mail of {name} ({family} family).").format(
                email=email, name=other.full_name, family=other.family.name
            )
        )


@transaction.atomic
def family_create(*, company: Company, name: str, notes: str = "", actor=None) -> Family:
    """A new client household of ``company`` (its parents and children are added with
    :func:`guardian_create` and :func:`student_create`)."""
    return Family.objects.create(
        company=company,
        name=_text(name, label=_("family name"), max_length=150),
        notes=(notes or "").strip(),
    )


@transaction.atomic
def family_create_with_members(
    *,
    company: Company,
    family: dict,
    parent: dict,
    child: dict | None = None,
    actor=None,
    now: datetime,
) -> Family:
    """A new family with its first parent and, optionally, its first child, all or nothing
    (the "New family" page): ``family`` holds the values of :func:`family_create`, ``parent``
    those of :func:`guardian_create`, ``child`` those of :func:`student_create` or ``None``."""
    created = family_create(company=company, actor=actor, **family)
    guardian_create(family=created, actor=actor, **parent)
    if child is not None:
        student_create(family=created, actor=actor, now=now, **child)
    return created


@transaction.atomic
def family_update(
    *, family: Family, name: str, now: datetime, notes: str = "", actor=None
) -> Family:
    family = Family.objects.select_for_update(of=("self",)).get(pk=family.pk)
    family.name = _text(name, label=_("family name"), max_length=150)
    family.notes = (notes or "").strip()
    family.updated_at = now
    family.save(update_fields=["name", "notes", "updated_at"])
    return family


@transaction.atomic
def guardian_create(
    *,
    family: Family,
    full_name: str,
    email: str = "",
    phone: str = "",
    actor=None,
    email_checked: bool = False,
) -> Guardian:
    """A parent of ``family``, without a portal login until invited (:func:`guardian_invite`).
    The e-mail, if any, is unique among the company's parents. ``email_checked``: the caller
    has already checked it in this transaction (the CSV import, which loads every parent's
    address once instead of querying per row)."""
    email = _email(email)
    if email and not email_checked:
        _check_email_free(company=family.company, email=email)
    return Guardian.objects.create(
        company_id=family.company_id,
        family=family,
        full_name=_text(full_name, label=_("parent's name"), max_length=150),
        email=email,
        phone=_text(phone, label=_("phone number"), max_length=40, required=False),
    )


@transaction.atomic
def guardian_update(
    *,
    guardian: Guardian,
    full_name: str,
    now: datetime,
    email: str = "",
    phone: str = "",
    actor=None,
) -> Guardian:
    """Change a parent's details. A parent with a portal login keeps the login's e-mail:
    it is how they log in, so staff can't change it here."""
    guardian = (
        Guardian.objects.select_for_update(of=("self",))
        .select_related("user", "company")
        .get(pk=guardian.pk)
    )
    email = _email(email)
    if guardian.user_id is not None and email != guardian.email:
        raise DomainError(
            _("{name} logs in to the portal as {email}: that e-mail can't be changed here.").format(
                name=guardian.full_name, email=guardian.email
            )
        )
    if email:
        _check_email_free(company=guardian.company, email=email, exclude_pk=guardian.pk)
    guardian.full_name = _text(full_name, label=_("parent's name"), max_length=150)
    guardian.email = email
    guardian.phone = _text(phone, label=_("phone number"), max_length=40, required=False)
    guardian.updated_at = now
    guardian.save(update_fields=["full_name", "email", "phone", "updated_at"])
    return guardian


@transaction.atomic
def student_create(
    *,
    family: Family,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    now: datetime,
    actor=None,
) -> Student:
    """A child (or adult client) of ``family``. The date of birth is not in the future nor
    more than 100 years ago (in the company's time zone)."""
    check_date_of_birth(
        date_of_birth=date_of_birth, today=timezone.localdate(now, timezone=family.company.tzinfo)
    )
    return Student.objects.create(
        company_id=family.company_id,
        family=family,
        first_name=_text(first_name, label=_("first name"), max_length=100),
        last_name=_text(last_name, label=_("last name"), max_length=100),
        date_of_birth=date_of_birth,
    )


@transaction.atomic
def student_update(
    *,
    student: Student,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    now: datetime,
    actor=None,
) -> Student:
    student = (
        Student.objects.select_for_update(of=("self",)).select_related("company").get(pk=student.pk)
    )
    check_date_of_birth(
        date_of_birth=date_of_birth, today=timezone.localdate(now, timezone=student.company.tzinfo)
    )
    student.first_name = _text(first_name, label=_("first name"), max_length=100)
    student.last_name = _text(last_name, label=_("last name"), max_length=100)
    student.date_of_birth = date_of_birth
    student.updated_at = now
    student.save(update_fields=["first_name", "last_name", "date_of_birth", "updated_at"])
    return student


@transaction.atomic
def guardian_invite(*, guardian: Guardian, actor, now: datetime) -> Guardian:
    """Give a parent a portal login (MKP-9: booking needs the parent's own login).

    - An address that already has a confirmed login: that login becomes this parent's,
      unless it is already a parent of another family of the company, and its owner is
      e-mailed that they now have access to the company's portal.
    - Otherwise a login is created (no usable password, e-mail unconfirmed) and the parent
      is e-mailed a link to choose a password, which also confirms the address. Inviting
      again while they haven't done so sends a fresh link.

    The e-mail goes out through a Celery task after commit.
    """
    guardian = (
        Guardian.objects.select_for_update(of=("self",))
        .select_related("user", "family")
        .get(pk=guardian.pk)
    )
    if not guardian.email:
        raise DomainError(
            _("Add an e-mail address for {name} first.").format(name=guardian.full_name)
        )
    user = guardian.user
    if user is not None and user.email_confirmed_at is not None:
        raise DomainError(_("{name} already has a portal login.").format(name=guardian.full_name))
    if user is None:
        user = User.objects.filter(email__iexact=guardian.email).first()
        if user is not None and not user.is_active:
            raise DomainError(
                _("The login {email} is deactivated: it can't be invited.").format(email=user.email)
            )
        if user is None:
            user = user_create(
                email=guardian.email, password=None, full_name=guardian.full_name, now=now
            )
        other = (
            Guardian.objects.filter(company_id=guardian.company_id, user=user)
            .exclude(pk=guardian.pk)
            .select_related("family")
            .first()
        )
        if other is not None:
            raise DomainError(
                _(
                    "The login {email} is already a parent of the {family} family here; one "
                    "login can be a parent of one family per company."
                ).format(email=user.email, family=other.family.name)
            )
        guardian.user = user
        try:
            with transaction.atomic():
                guardian.save(update_fields=["user"])
        except IntegrityError as error:  # linked to another family meanwhile
            raise DomainError(
                _("The login {email} was just linked to another family; reload the page.").format(
                    email=user.email
                )
            ) from error
    guardian.invited_at = now
    guardian.save(update_fields=["invited_at"])
    outbox.enqueue("bookings.tasks.send_parent_invite", guardian.company_id, guardian.pk)
    return guardian


@transaction.atomic
def parent_accept_invitation(*, user: User, now: datetime) -> User:
    """An invited parent followed the link e-mailed to them and chose a password: the link
    came to their address, so it is confirmed (MKP-9). The password is saved by the page's
    form."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
        user.save(update_fields=["email_confirmed_at"])
    return user


# At most one (a parent has one record per company): no ordering to sort.
_FAMILY_PARENT = Shape(
    lambda company_id, family_id, user_id: (
        Guardian.objects.filter(company_id=company_id, family_id=family_id, user_id=user_id)
        .select_related("user")
        .order_by()[:1]
    )
)
