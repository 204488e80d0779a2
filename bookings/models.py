"""Families, their parents (guardians) and students."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from makeup.models import Company
from makeup.searchtext import search_text, typo_keys


class LoadedValues:
    """Keeps ``loaded``: the values of ``loaded_fields`` (attribute names) as last read from
    or written to the database — empty for a row not saved yet — so a receiver can tell what
    a save changed without reading the row again."""

    loaded_fields: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        instance = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        instance.loaded = {
            name: value
            for name, value in zip(field_names, values, strict=True)
            if name in cls.loaded_fields
        }
        return instance

    def mark_loaded(self) -> None:
        """After a save: what the row now holds."""
        self.loaded = {name: getattr(self, name) for name in self.loaded_fields}

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self.mark_loaded()


class SearchTextMixin:
    """Keeps ``search_text`` and ``search_keys`` (DAY-3, ``makeup.searchtext``) in step with
    the fields they are built from on every save, also a save with ``update_fields``. Bulk
    inserts set them themselves (``fill_search_text``). On PostgreSQL both columns have a
    trigram index (migration 0013)."""

    SEARCH_SOURCE: tuple[str, ...] = ()

    def fill_search_text(self) -> None:
        self.search_text = self.build_search_text()
        self.search_keys = typo_keys(self.search_text)

    def build_search_text(self) -> str:
        return search_text(*(getattr(self, name) for name in self.SEARCH_SOURCE))

    def save(self, *args, update_fields=None, **kwargs):
        self.fill_search_text()
        if update_fields is not None and set(update_fields) & set(self.SEARCH_SOURCE):
            update_fields = {*update_fields, "search_text", "search_keys"}
        super().save(*args, update_fields=update_fields, **kwargs)


#: The help of the stored search columns.
SEARCH_TEXT_HELP = _("Names, e-mail and phone digits in lower case without accents, for search.")
SEARCH_KEYS_HELP = _("The words of the search text with one letter left out, for typos.")


class Family(SearchTextMixin, models.Model):
    """A client household of one company."""

    SEARCH_SOURCE = ("name",)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="families")
    name = models.CharField(max_length=150, help_text=_("Usually the family's surname."))
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was last changed, by the service that changed it (empty: never)."),
    )
    search_text = models.TextField(default="", editable=False, help_text=SEARCH_TEXT_HELP)
    search_keys = models.TextField(default="", editable=False, help_text=SEARCH_KEYS_HELP)

    objects = ScopedManager(company="company")

    class Meta:
        verbose_name_plural = _("families")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["company", "name"])]

    def __str__(self) -> str:
        return self.name


class Guardian(SearchTextMixin, models.Model):
    """A parent of a family: with a portal login (``user``) or, until invited, without."""

    SEARCH_SOURCE = ("full_name", "email", "phone")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="guardians")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="guardianships",
    )
    full_name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    invited_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the last portal invitation was sent.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was last changed, by the service that changed it (empty: never)."),
    )
    search_text = models.TextField(default="", editable=False, help_text=SEARCH_TEXT_HELP)
    search_keys = models.TextField(default="", editable=False, help_text=SEARCH_KEYS_HELP)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["full_name", "pk"]
        constraints = [
            # One login is a parent of at most one family per company.
            models.UniqueConstraint(
                fields=["company", "user"],
                condition=models.Q(user__isnull=False),
                name="guardian_user_once_per_company",
            ),
            # A parent's e-mail identifies them in the company (sign-up, import, invitations).
            models.UniqueConstraint(
                Lower("email"),
                "company",
                condition=~models.Q(email=""),
                name="guardian_email_once_per_company",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def build_search_text(self) -> str:
        return search_text(self.full_name, self.email, phone=self.phone)


class Student(SearchTextMixin, models.Model):
    """A child (or adult client) of a family."""

    SEARCH_SOURCE = ("first_name", "last_name")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="students")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was last changed, by the service that changed it (empty: never)."),
    )
    search_text = models.TextField(default="", editable=False, help_text=SEARCH_TEXT_HELP)
    search_keys = models.TextField(default="", editable=False, help_text=SEARCH_KEYS_HELP)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["first_name", "last_name", "pk"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Enrolment(models.Model):
    """A student's regular place in a class (the "subscription"). Credits are earned on it.

    The student is expected at the class's sessions from ``start_date`` on, and no longer at
    those on or after ``withdrawn_from``.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrolments")
    klass = models.ForeignKey(
        "programmes.Class", on_delete=models.PROTECT, related_name="enrolments"
    )
    start_date = models.DateField()
    withdrawn_from = models.DateField(
        null=True, blank=True, help_text=_("Sessions on or after this day are no longer theirs.")
    )
    agreed_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Per-session price agreed with this family, instead of the class's."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was last changed, by the service that changed it (empty: never)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["start_date", "pk"]
        indexes = [models.Index(fields=["klass", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_from__isnull=True)
                | models.Q(withdrawn_from__gte=models.F("start_date")),
                name="enrolment_withdrawn_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(agreed_price__isnull=True) | models.Q(agreed_price__gte=0),
                name="enrolment_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.klass}"

    def is_active_on(self, day) -> bool:
        return self.start_date <= day and (self.withdrawn_from is None or day < self.withdrawn_from)


class AttendanceState(models.TextChoices):
    """ATT-1."""

    EXPECTED = "expected", _("Expected")
    PRESENT = "present", _("Present")
    CANCELLED = "cancelled", _("Cancelled (on time)")
    LATE_CANCELLED = "late_cancelled", _("Cancelled late")
    NO_SHOW = "no_show", _("Did not attend")
    STAFF_CANCELLED = "staff_cancelled", _("Cancelled by us")


CLIENT_CANCELLED_STATES = {AttendanceState.CANCELLED, AttendanceState.LATE_CANCELLED}
# A regular student in one of these states has given their place up for the day (MKP-7).
PLACE_FREEING_STATES = [*sorted(CLIENT_CANCELLED_STATES), AttendanceState.STAFF_CANCELLED]


class Attendance(LoadedValues, models.Model):
    """The state of one enrolment at one session (ATT-1). A missing row means ``expected``:
    rows are written on the first change, so generating sessions costs no attendance rows."""

    loaded_fields = ("state",)  # whether a save freed or took a place (bookings.receivers)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendances")
    session = models.ForeignKey(
        "programmes.Session", on_delete=models.PROTECT, related_name="attendances"
    )
    state = models.CharField(
        max_length=20, choices=AttendanceState.choices, default=AttendanceState.EXPECTED
    )
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the client told us.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(company="company")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "session"], name="attendance_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=AttendanceState.values), name="attendance_state_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=sorted(CLIENT_CANCELLED_STATES))
                | models.Q(cancelled_at__isnull=False),
                name="attendance_client_cancel_has_time",
            ),
        ]
        indexes = [models.Index(fields=["session", "state"])]

    def __str__(self) -> str:
        return f"{self.enrolment} @ {self.session_id}: {self.state}"


class AttendanceChange(models.Model):
    """ATT-6: every change of state, who made it, when, from and to. Append-only."""

    class Source(models.TextChoices):
        STAFF = "staff", _("Staff")
        PORTAL = "portal", _("Portal")
        SESSION_CANCEL = "session_cancel", _("Session cancelled")
        SESSION_RESTORE = "session_restore", _("Session restored")
        SYSTEM = "system", _("System")
        API = "api", _("The school's own system, through the API")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    attendance = models.ForeignKey(Attendance, on_delete=models.CASCADE, related_name="changes")
    from_state = models.CharField(max_length=20, choices=AttendanceState.choices)
    to_state = models.CharField(max_length=20, choices=AttendanceState.choices)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()  # the changing service's now
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    note = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class MakeupBooking(LoadedValues, models.Model):
    """A credit spent on a session of another compatible class (MKP-1…MKP-11).

    ``company`` is the host (the session's company); the student and the home enrolment may
    belong to a linked partner company (franchise). The credit spent points here
    (``credits.MakeupCredit.booking``). Its attendance is taken on the host's attendance
    view like any other (MKP-10); a make-up never deducts from a package (PKG-2).
    """

    loaded_fields = ("state", "session_id")  # a place taken, freed or moved (bookings.receivers)

    class State(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Parent, in the portal")
        STAFF = "staff", _("Staff")
        WATCH = "watch", _("Automatically, from a watch")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    home_company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        "programmes.Session", on_delete=models.PROTECT, related_name="makeup_bookings"
    )
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="makeups")
    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.PROTECT,
        related_name="makeups",
        help_text=_("The home enrolment whose credit was spent."),
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.BOOKED)
    attendance_state = models.CharField(
        max_length=20, choices=AttendanceState.choices, default=AttendanceState.EXPECTED
    )
    note = models.CharField(
        max_length=200, blank=True, help_text=_('E.g. "Make-up for missed lesson 30/10".')
    )
    family_message = models.CharField(
        _("message to the family"),
        max_length=300,
        blank=True,
        help_text=_(
            "What the confirmation e-mail tells the family, written by staff. A staff "
            "booking's note stays internal; a parent's own note is shown back to them."
        ),
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PORTAL)
    override_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Why staff booked past a portal-only rule."),
    )
    booked_at = models.DateTimeField()
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_late = models.BooleanField(default=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["booked_at", "pk"]
        indexes = [models.Index(fields=["session", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "student"],
                condition=models.Q(state="booked"),
                name="makeup_one_active_per_student_session",
            ),
        ]

    def __str__(self) -> str:
        return f"Make-up: {self.student} @ {self.session_id}"


class MakeupAttendanceChange(models.Model):
    """ATT-6 for make-up guests: every change of a guest's attendance, who, when, from, to."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    booking = models.ForeignKey(
        MakeupBooking, on_delete=models.CASCADE, related_name="attendance_changes"
    )
    from_state = models.CharField(max_length=20, choices=AttendanceState.choices)
    to_state = models.CharField(max_length=20, choices=AttendanceState.choices)
    changed_at = models.DateTimeField()  # the changing service's now
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Package(models.Model):
    """PKG-1: a pack of N sessions of one programme a family bought. Attending deducts from
    it (see :class:`PackageUse`); a make-up never does (PKG-2)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="packages")
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.PROTECT, related_name="packages"
    )
    sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("How many sessions the family bought."),
    )
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    purchased_on = models.DateField()
    valid_until = models.DateField(
        null=True, blank=True, help_text=_("Lessons after this day don't use it (empty: no end).")
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["purchased_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions__gte=1), name="package_sessions_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="package_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("purchased_on")),
                name="package_valid_after_purchase",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sessions} × {self.programme}"


class PackageUse(models.Model):
    """One deduction from a package for one counted attendance (PKG-1). A correction to a
    state that doesn't count reverses it (``reversed_at``); rows are never deleted, and an
    attendance has at most one live deduction, so nothing is taken twice."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="uses")
    attendance = models.ForeignKey(
        Attendance, on_delete=models.PROTECT, related_name="package_uses"
    )
    sessions = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    reversed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["attendance"],
                condition=models.Q(reversed_at__isnull=True),
                name="package_one_live_use_per_attendance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sessions} from package {self.package_id}"


class Charge(models.Model):
    """BAL-1: a counted regular attendance charged at the class's per-session price (or the
    enrolment's agreed price), dated the session's day. A correction to a state that doesn't
    count reverses it (``reversed_at``); rows are never deleted."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="charges")
    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="charges")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    charged_on = models.DateField()
    description = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    reversed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["charged_on", "pk"]
        indexes = [models.Index(fields=["family", "charged_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["attendance"],
                condition=models.Q(reversed_at__isnull=True),
                name="charge_one_live_per_attendance",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="charge_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.charged_on}"


class Payment(models.Model):
    """BAL-1: a payment receipted to a family."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Card")
        BANK = "bank", _("Bank transfer")
        ONLINE = "online", _("Online (portal)")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    method = models.CharField(max_length=10, choices=Method.choices)
    paid_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    provider_reference = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text=_("The payment provider's id: a payment is recorded once per id."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["paid_on", "pk"]
        indexes = [models.Index(fields=["family", "paid_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_reference"], name="payment_provider_reference_once"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} paid {self.paid_on}"


class FeedTokenManager(models.Manager):
    """Unscoped on purpose, for one use only: the public feed view finds a feed by its token
    before it knows the company (a calendar app sends no login and no company slug); it then
    enters ``scope(company=feed.company)`` for everything else. Anything else uses the scoped
    ``CalendarFeed.objects``."""


class CalendarFeed(models.Model):
    """A private iCalendar address: a family's lessons and make-ups, or an instructor's
    classes, in one company. Calendar apps fetch it without a login, so the secret
    ``token`` is the only key; resetting it replaces the address (the old one answers 404).
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(
        Family, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
        help_text=_("The instructor whose classes the feed lists."),
    )
    # ``unique`` gives the index the lookup by token uses.
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")  # the default manager: first declared
    tokens = FeedTokenManager()  # the lookup by token only (see FeedTokenManager)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(family__isnull=False, user__isnull=True)
                | models.Q(family__isnull=True, user__isnull=False),
                name="calendarfeed_family_or_user",
            ),
            models.UniqueConstraint(
                fields=["company", "family"],
                condition=models.Q(family__isnull=False),
                name="calendarfeed_one_per_family",
            ),
            models.UniqueConstraint(
                fields=["company", "user"],
                condition=models.Q(user__isnull=False),
                name="calendarfeed_one_per_instructor",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar of {self.family or self.user}"


class LessonReminder(models.Model):
    """A "see you tomorrow" e-mail sent for one student's lesson (a make-up, or a regular
    lesson when the company turns those on). The unique row is the claim: whichever sweep
    inserts it sends the e-mail, so each lesson is reminded exactly once."""

    class Kind(models.TextChoices):
        MAKEUP = "makeup", _("Make-up")
        REGULAR = "regular", _("Regular lesson")

    company = models.ForeignKey(
        Company,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The family's company (it sends the e-mail)."),
    )
    session = models.ForeignKey(
        "programmes.Session", on_delete=models.CASCADE, related_name="reminders"
    )
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    enrolment = models.ForeignKey(
        Enrolment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    booking = models.ForeignKey(
        MakeupBooking, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField()
    run = models.CharField(max_length=32, help_text=_("The sweep run that claimed it."))

    objects = ScopedManager(company="company")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "student"], name="reminder_once"),
        ]

    def __str__(self) -> str:
        return f"Reminder: {self.student_id} @ {self.session_id}"


class FamilyImport(models.Model):
    """An uploaded CSV of families (``bookings.services.import_csv``), checked and then
    imported by a Celery task so no upload holds a web worker. The file's text is kept in the
    company's own row until the import is over (then dropped: it holds personal data), with
    the outcome (counts, row errors) for the page that follows the import."""

    class State(models.TextChoices):
        CHECKING = "checking", _("Checking")  # the dry run: queued or running
        CHECKED = "checked", _("Checked")  # the dry run's report is ready
        IMPORTING = "importing", _("Importing")  # confirmed: queued or running
        IMPORTED = "imported", _("Imported")
        REFUSED = "refused", _("Not imported")  # rows had errors at import time
        FAILED = "failed", _("Failed")  # the file could not be read

    RUNNING = (State.CHECKING, State.IMPORTING)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    language = models.CharField(
        max_length=10, help_text=_("Row messages are written in the uploader's language.")
    )
    content = models.TextField(blank=True, help_text=_("The file's text, until the import ends."))
    state = models.CharField(max_length=10, choices=State.choices, default=State.CHECKING)
    message = models.TextField(blank=True, help_text=_("Why the file could not be read."))
    report = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    checked_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the check ran (its start).")
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["company", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.state})"

    @property
    def running(self) -> bool:
        return self.state in self.RUNNING

    @property
    def progress_key(self) -> str:
        return f"family-import:{self.pk}:{self.state}"
