"""Programmes, classes with weekly schedules, and their sessions."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from makeup.models import Company

programme_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]*$",
    _("Use capital letters, digits and dashes, e.g. SWIM-L2."),
)

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class Programme(models.Model):
    """What is taught ("Swim Level 2"); owns the make-up switches and the cancellation
    policy (``credits.CancellationPolicy``)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="programmes")
    name = models.CharField(max_length=120)
    code = models.CharField(
        max_length=30,
        validators=[programme_code_validator],
        help_text=_(
            "A short code, unique in your company. Partner branches that use the same code "
            "for their programme can exchange make-ups with it."
        ),
    )
    description = models.TextField(blank=True)
    makeups_enabled = models.BooleanField(
        _("make-up sessions enabled"),
        default=True,
        help_text=_(
            "Off: no make-up credit is issued for this programme on any path, and its "
            "classes take no make-up bookings."
        ),
    )
    accept_partner_makeups = models.BooleanField(
        _("allow make-up sessions from other companies"),
        default=False,
        help_text=_(
            "Linked partner branches may book their students into this programme's classes "
            "for make-ups."
        ),
    )
    # WAL-3: the level map. Not symmetrical: "Level 3 takes Level 2 credits" says nothing
    # about Level 2 taking Level 3's. Only programmes of the same company are chosen; across
    # companies the entries count by their codes (FRN-4).
    accepts_credits_from = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="credits_accepted_by",
        verbose_name=_("also accepts credits from"),
        help_text=_(
            "Make-up credits earned in these programmes can also be spent in this "
            "programme's classes (for example, Swim Level 3 also taking Level 2 credits). "
            "A partner branch's credit counts when its programme has the code of one chosen "
            "here."
        ),
    )
    # WAL-1
    credit_transfer_allowed = models.BooleanField(
        _("credits can be given to a brother or sister"),
        default=False,
        help_text=_(
            "A parent or your staff may give an unused make-up credit earned in this "
            "programme to a brother or sister in the same family whose class can use it. The "
            "credit keeps its expiry."
        ),
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was last changed, by the service that changed it (empty: never)."),
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="programme_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class ExtraCapacityMode(models.TextChoices):
    ADD = "add", _("Add to the company's extra capacity")
    REPLACE = "replace", _("Replace the company's extra capacity")


class Class(models.Model):
    """A group of a programme: instructor, ages, capacity, term dates, weekly schedule."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="classes")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(max_length=120)
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="instructed_classes",
    )
    location = models.CharField(max_length=120, blank=True)
    min_age_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Youngest age, in months (empty: no minimum).")
    )
    max_age_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Oldest age, in months (empty: no maximum).")
    )
    capacity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("Regular students per session."),
    )
    start_date = models.DateField()
    end_date = models.DateField(help_text=_("The end of term; credits may expire with it."))
    price_per_session = models.DecimalField(
        _("price for one session"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Needed for make-ups: a class priced only per course takes none."),
    )
    course_price = models.DecimalField(
        _("price for the whole course"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    allow_makeups = models.BooleanField(
        _("allow make-up bookings into this class"),
        default=True,
        help_text=_("Off keeps credits from other classes out of this one."),
    )
    extra_makeup_capacity = models.PositiveSmallIntegerField(
        _("extra make-up capacity"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "Places only make-ups may use. With 'add', 0 leaves the company's number "
            "as it is; with 'replace', 0 removes extra capacity for this class."
        ),
    )
    extra_capacity_mode = models.CharField(
        max_length=10, choices=ExtraCapacityMode.choices, default=ExtraCapacityMode.ADD
    )
    deduct_per_attendance = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(20)],
        help_text=_("Sessions taken from a family's package per counted attendance."),
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it was last changed, by the service that changed it (empty: never)."),
    )

    objects = ScopedManager(company="company")

    class Meta:
        verbose_name_plural = _("classes")
        ordering = ["programme__name", "name", "pk"]
        indexes = [models.Index(fields=["company", "programme"])]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="class_capacity_positive"),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="class_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(min_age_months__isnull=True)
                | Q(max_age_months__isnull=True)
                | Q(min_age_months__lte=F("max_age_months")),
                name="class_ages_ordered",
            ),
            models.CheckConstraint(
                condition=Q(price_per_session__isnull=True) | Q(price_per_session__gte=0),
                name="class_session_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(course_price__isnull=True) | Q(course_price__gte=0),
                name="class_course_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def extra_capacity(self, company_extra: int) -> int:
        """MKP-7: places for make-ups only, from the company's number and this class's."""
        if self.extra_capacity_mode == ExtraCapacityMode.REPLACE:
            return self.extra_makeup_capacity
        return company_extra + self.extra_makeup_capacity

    def age_range_label(self) -> str:
        def fmt(months: int) -> str:
            years, rest = divmod(months, 12)
            if rest:
                return gettext("{years}y {months}m").format(years=years, months=rest)
            return gettext("{years}y").format(years=years)

        if self.min_age_months is None and self.max_age_months is None:
            return gettext("any age")
        if self.max_age_months is None:
            return f"{fmt(self.min_age_months)}+"
        if self.min_age_months is None:
            return gettext("up to {age}").format(age=fmt(self.max_age_months))
        return f"{fmt(self.min_age_months)}–{fmt(self.max_age_months)}"


def age_in_months(born: date, on: date) -> int:
    """Whole months between a birth date and a day (a child born 14 March is 1 month old on
    14 April, not on 13 April)."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    if on.day < born.day:
        months -= 1
    return months


class ClassSchedule(models.Model):
    """One weekly slot of a class: weekday, start time (company time zone) and length."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="schedule")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start_time = models.TimeField(help_text=_("Local time, in the company's time zone."))
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(600)], default=30
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["klass", "weekday", "start_time"], name="schedule_slot_unique"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="schedule_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M} ({self.duration_minutes} min)"

    @property
    def weekday_abbr(self) -> str:
        """The weekday's short name ("Mon"), in the active language."""
        return str(WEEKDAYS_ABBR[self.weekday])


class Session(models.Model):
    """One lesson of a class. ``starts_at`` is stored in UTC (TEN-3); ``local_date`` is its
    day in the company's time zone, kept for day views and enrolment checks."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="sessions")
    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="sessions")
    schedule = models.ForeignKey(
        ClassSchedule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        help_text=_("The weekly slot it was generated from; empty for a one-off session."),
    )
    one_off = models.BooleanField(
        default=False, help_text=_("Added by hand, not generated from the weekly schedule.")
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    local_date = models.DateField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closure = models.ForeignKey(
        "Closure",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancelled_sessions",
        help_text=_("The closure that cancelled it; empty for any other cancellation."),
    )
    places_taken = models.IntegerField(
        default=0,
        editable=False,
        help_text=_(
            "Places taken: regular students enrolled that day, minus those who cancelled, plus "
            "make-up guests. Kept up to date under the session's lock by every booking, "
            "cancellation, attendance change and enrolment change."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["company", "starts_at"]),
            models.Index(fields=["company", "local_date"]),
            models.Index(fields=["klass", "starts_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["klass", "starts_at"], name="session_unique_start"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.klass} · {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class ClosureCredits(models.TextChoices):
    POLICY = "policy", _("Credits by each programme's policy")
    NONE = "none", _("No credit: priced into the term")


class Closure(models.Model):
    """CLO-1: a named period the school is shut — whole days ``first_day``…``last_day`` in the
    company's zone, or only ``start_time``…``end_time`` on each of those days — for the whole
    company or only some locations or programmes. Removing one keeps the row (``removed_at``)
    for the history of the sessions it cancelled."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="closures")
    name = models.CharField(
        max_length=120, help_text=_("Families see it, e.g. “Christmas” or “Pool maintenance”.")
    )
    first_day = models.DateField()
    last_day = models.DateField(help_text=_("The last closed day, inclusive."))
    start_time = models.TimeField(
        null=True,
        blank=True,
        help_text=_("Part of a day: closed from this time on each day (empty: the whole day)."),
    )
    end_time = models.TimeField(
        null=True, blank=True, help_text=_("Part of a day: closed until this time.")
    )
    locations = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Only classes at these locations (empty: every location)."),
    )
    programmes = models.ManyToManyField(
        Programme,
        blank=True,
        related_name="closures",
        help_text=_("Only these programmes (empty: every programme)."),
    )
    credits = models.CharField(
        max_length=10,
        choices=ClosureCredits.choices,
        default=ClosureCredits.POLICY,
        help_text=_(
            "By policy: each programme's policy for lessons we cancel decides. No credit: the "
            "closure is priced into the term, so cancelled lessons earn none."
        ),
    )
    holiday = models.CharField(
        max_length=120,
        blank=True,
        help_text=_("Set when added from the public holidays: the holiday's own name."),
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When its sessions were last cancelled.")
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["first_day", "start_time", "pk"]
        indexes = [models.Index(fields=["company", "last_day"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="closure_days_ordered"
            ),
            models.CheckConstraint(
                condition=(Q(start_time__isnull=True) & Q(end_time__isnull=True))
                | (Q(start_time__isnull=False) & Q(end_time__gt=F("start_time"))),
                name="closure_times_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def whole_days(self) -> bool:
        return self.start_time is None

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class ClosureRun(models.Model):
    """CLO-7: one background run applying or removing a closure, with its progress. A run
    works session by session, each in its own transaction, so a failure leaves every
    session either fully done or untouched and a new run finishes the rest."""

    class Kind(models.TextChoices):
        APPLY = "apply", _("Cancel its sessions")
        RESTORE = "restore", _("Remove it and restore its sessions")
        REMOVE = "remove", _("Remove it, its sessions stay cancelled")

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="closure_run_progress")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.closure}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)
