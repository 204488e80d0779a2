"""Core models: users, companies (the tenants), memberships and company settings."""

import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from .shapes import Shape

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]
CURRENCY_CHOICES = [
    ("AUD", _("AUD — Australian dollar")),
    ("CAD", _("CAD — Canadian dollar")),
    ("CHF", _("CHF — Swiss franc")),
    ("CZK", _("CZK — Czech koruna")),
    ("EUR", _("EUR — Euro")),
    ("GBP", _("GBP — Pound sterling")),
    ("HUF", _("HUF — Hungarian forint")),
    ("NZD", _("NZD — New Zealand dollar")),
    ("PLN", _("PLN — Polish złoty")),
    ("USD", _("USD — US dollar")),
]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> "User":
        # Log in by e-mail, whatever its case.
        return self.get(email__iexact=username)

    def get(self, *args, **kwargs) -> "User":
        """As ``QuerySet.get``. A read by the primary key alone — Django's ``ModelBackend``
        reads the login's user so on every request — is compiled once per worker
        (makeup.shapes, issue 20); anything else, and a related manager, as before."""
        pk = kwargs.get("pk")
        if (
            type(self) is UserManager
            and self._db is None
            and not args
            and kwargs.keys() == {"pk"}
            and isinstance(pk, int)
            and not isinstance(pk, bool)
        ):
            return _USER_BY_PK.get(pk=pk)
        return super().get(*args, **kwargs)

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_confirmed_at", timezone.now())  # clock: createsuperuser command
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: staff of one or more companies, a parent, or both."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text=_("May log in to the Django admin site (operators only).")
    )
    date_joined = models.DateTimeField(default=timezone.now)  # clock: a record, no rule
    email_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set when the user follows the confirmation link.")
    )
    language = models.CharField(max_length=10, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split(" ")[0] if self.full_name else "") or self.email

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


# A user by primary key (UserManager.get).
_USER_BY_PK = Shape(lambda pk: User.objects.filter(pk=pk))


class Company(models.Model):
    """A tenant: one business, or one branch of a franchise (its own legal entity)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=_("Used in the portal address: /portal/<slug>/. Lowercase letters, digits, -."),
    )
    timezone = models.CharField(
        max_length=64,
        choices=TIMEZONE_CHOICES,
        default="UTC",
        help_text=_("Lesson times, cut-offs and expiries are shown and computed in this zone."),
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="AUD")
    language = models.CharField(
        max_length=10,
        choices=[("en", "English"), ("cs", "Čeština")],
        default="en",
        help_text=_("Language of e-mails to parents unless a parent chose their own."),
    )
    address = models.TextField(blank=True, help_text=_("Shown to parents and partner branches."))
    contact_email = models.EmailField(blank=True, help_text=_("Where parents can write to you."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    STAFF = "staff", _("Staff")


ROLE_RANK = {Role.STAFF: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(models.Model):
    """A user's role in a company (TEN-2).

    Not scoped by django-scopes on purpose: memberships are what *decide* the scope of a
    request (the tenancy middleware reads them before any scope exists). Every query on
    it filters by user or company explicitly.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.company} ({self.get_role_display()})"

    def has_role(self, minimum: str) -> bool:
        """Owner ⊇ admin ⊇ staff."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)


class CompanySettings(models.Model):
    """Company-wide make-up settings, one row per company, edited on Settings."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, primary_key=True, related_name="settings"
    )
    makeup_extra_capacity = models.PositiveSmallIntegerField(
        _("extra capacity for make-ups"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "Places per session that only make-up bookings may use, on top of the class "
            "capacity. A class can add its own number to this one, or replace it."
        ),
    )
    makeup_lead_days = models.PositiveSmallIntegerField(
        _("make-up lead days"),
        default=4,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "A class is offered for make-ups only from this many days before its start date, "
            "so make-ups don't take places meant for full-paying enrolments (the 4-day rule). "
            "Staff may override it with a reason."
        ),
    )
    balance_gate_enabled = models.BooleanField(
        _("limit make-up booking by outstanding balance"),
        default=False,
        help_text=_(
            "When on and a number of days is set, the portal refuses a make-up while the "
            "family's charges of those days exceed their payments. Staff can "
            "still book."
        ),
    )
    balance_gate_days = models.PositiveSmallIntegerField(
        _("balance period (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "How many days back the balance check looks. The check is active only with the "
            "switch on and this set; either alone does nothing."
        ),
    )
    portal_payments_enabled = models.BooleanField(
        _("take payments in the portal"),
        default=False,
        help_text=_("A parent blocked by the balance check is taken to a payment page."),
    )
    expiry_reminder_days = models.PositiveSmallIntegerField(
        _("expiry reminder (days before)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Parents are e-mailed this many days before an unused credit expires."),
    )

    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=2,
        blank=True,
        help_text=_(
            "The country whose public holidays you can add to the closures in one step "
            "(empty: none offered)."
        ),
    )
    holiday_subdivision = models.CharField(
        _("state or region"),
        max_length=10,
        blank=True,
        help_text=_("Adds the holidays of this state or region too, e.g. NSW (optional)."),
    )
    regular_lesson_reminders = models.BooleanField(
        _("remind families of regular lessons"),
        default=False,
        help_text=_(
            "E-mail families the day before each regular lesson, with a one-click "
            '"can\'t come" link. Make-ups are always reminded.'
        ),
    )

    class WatchMode(models.TextChoices):
        """WAL-5: what a place freed in a watched session does."""

        BOOK = "book", _("Book the first watcher automatically")
        OFFER = "offer", _("Offer the place to the first watcher")

    watch_mode = models.CharField(
        _("freed places for watchers"),
        max_length=5,
        choices=WatchMode.choices,
        default=WatchMode.BOOK,
        help_text=_(
            "When a place frees in a full session, either book it at once for the family "
            "that has waited longest, or e-mail that family an offer to accept; an offer not "
            "accepted in time passes to the next family in line."
        ),
    )
    watch_offer_hours = models.PositiveSmallIntegerField(
        _("offer valid for (hours)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text=_(
            "How long a family has to accept an offered place. Hours between 21:00 and 07:00 "
            "are not counted, so nobody loses a place overnight."
        ),
    )

    objects = ScopedManager(company="company")

    class Meta:
        verbose_name_plural = _("company settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_gate_days__isnull=True)
                | models.Q(balance_gate_days__gte=1),
                name="settings_balance_days_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_reminder_days__gte=1), name="settings_reminder_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(watch_offer_hours__gte=1, watch_offer_hours__lte=72),
                name="settings_watch_offer_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Settings of {self.company}"

    @property
    def balance_gate_active(self) -> bool:
        """BAL-2: the switch and the days together, never either alone."""
        return bool(self.balance_gate_enabled and self.balance_gate_days)


class AuditEntry(models.Model):
    """Who changed a company's configuration, and when: policies, settings, partner links and
    restrictions (attendance and credits keep their own histories; the owners' audit log
    shows all of them together)."""

    class Area(models.TextChoices):
        POLICY = "policy", _("Cancellation policy")
        SETTINGS = "settings", _("Settings")
        LINK = "link", _("Partner link")
        PROGRAMME = "programme", _("Programme")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    area = models.CharField(max_length=20, choices=Area.choices)
    summary = models.CharField(max_length=300)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.area}: {self.summary}"


class OutboxMessage(models.Model):
    """A task (nearly always an e-mail) that a service asked for, written in the same
    transaction as the change that wants it: if the change commits, the message exists; if it
    rolls back, so does the message. A relay hands pending rows to Celery, so a broker that is
    down delays the e-mail but never loses it, and the ``key`` makes delivery happen once:
    the worker claims the row before running the task and skips a row already done.

    Not scoped to a company: the relay and the workers read it across companies; ``company``
    is kept for operators only."""

    key = models.CharField(max_length=200, unique=True, help_text="Idempotency key.")
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)  # clock: delivery bookkeeping
    due_at = models.DateTimeField(
        default=timezone.now,  # clock: delivery bookkeeping
        help_text="When the relay should (re)send it to the broker.",
    )
    relayed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed deliveries so far.")
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"], condition=models.Q(done_at__isnull=True), name="outbox_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} ({self.key})"


# The notification service's models (NTF-1…NTF-4) live beside their code.
from .notifications.models import (  # noqa: E402
    Notification,
    ParentContact,
    SmsOptOut,
    SmsProvider,
)

__all__ = [
    "AuditEntry",
    "Company",
    "CompanySettings",
    "Membership",
    "Notification",
    "OutboxMessage",
    "ParentContact",
    "Role",
    "SmsOptOut",
    "SmsProvider",
    "User",
]
