"""Cancellation policies (one per programme). Credits and the decision chain build on them."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from makeup.models import Company
from programmes.models import WEEKDAYS, Programme


class PolicyMode(models.TextChoices):
    HOURS_BEFORE = "hours_before", _("Hours before the lesson")
    WEEKLY_CUTOFF = "weekly_cutoff", _("Weekly cut-off table")


class ValidityKind(models.TextChoices):
    DAYS = "days", _("A number of days")
    TERM_END = "term_end", _("Until the end of the class's term")
    OPEN = "open", _("Open-ended")


class ValidityStart(models.TextChoices):
    CANCELLATION = "cancellation", _("From the cancellation")
    SESSION = "session", _("From the missed lesson's start")


class LatePortalCancellation(models.TextChoices):
    ALLOW = "allow", _("Take it: the place is freed, the late path decides about a credit")
    REFUSE = "refuse", _("Refuse it and show our instructions")


class CancellationPolicy(models.Model):
    """A programme's cancellation policy (POL-1…POL-6, POL-11). Defaults: cancel 24 hours
    before; on time issues a credit valid 30 days from the cancellation, late forfeits, a
    staff cancellation issues a credit valid 30 days."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    programme = models.OneToOneField(
        Programme, on_delete=models.CASCADE, related_name="cancellation_policy"
    )
    mode = models.CharField(
        max_length=20, choices=PolicyMode.choices, default=PolicyMode.HOURS_BEFORE
    )
    hours_before = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 28)],
        help_text=_("On time if cancelled at least this many hours before the lesson starts."),
    )
    # POL-2: the three paths.
    issue_on_time = models.BooleanField(_("client on time: issue a credit"), default=True)
    issue_late = models.BooleanField(_("client late: issue a credit"), default=False)
    issue_staff = models.BooleanField(_("staff cancellation: issue a credit"), default=True)
    # POL-3: validity per path.
    on_time_validity = models.CharField(
        max_length=10, choices=ValidityKind.choices, default=ValidityKind.DAYS
    )
    on_time_validity_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=30, validators=[MinValueValidator(1)]
    )
    late_validity = models.CharField(
        max_length=10, choices=ValidityKind.choices, default=ValidityKind.DAYS
    )
    late_validity_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=30, validators=[MinValueValidator(1)]
    )
    staff_validity = models.CharField(
        max_length=10, choices=ValidityKind.choices, default=ValidityKind.DAYS
    )
    staff_validity_days = models.PositiveSmallIntegerField(
        null=True, blank=True, default=30, validators=[MinValueValidator(1)]
    )
    # POL-4: where the clock starts, per client path.
    on_time_validity_start = models.CharField(
        max_length=15, choices=ValidityStart.choices, default=ValidityStart.CANCELLATION
    )
    late_validity_start = models.CharField(
        max_length=15, choices=ValidityStart.choices, default=ValidityStart.CANCELLATION
    )
    # POL-5: outstanding cap per client path (empty: no cap).
    on_time_outstanding_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    late_outstanding_cap = models.PositiveSmallIntegerField(null=True, blank=True)
    # POL-6: at most N client-path credits in M days (both empty: no window).
    window_credits = models.PositiveSmallIntegerField(null=True, blank=True)
    window_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # POL-11
    portal_late_cancellation = models.CharField(
        max_length=10,
        choices=LatePortalCancellation.choices,
        default=LatePortalCancellation.ALLOW,
    )
    late_cancellation_instructions = models.TextField(
        blank=True, help_text=_('Shown instead when the portal refuses, e.g. "Call us on …".')
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(company="company")

    class Meta:
        verbose_name_plural = "cancellation policies"
        constraints = [
            models.CheckConstraint(
                condition=(Q(window_credits__isnull=True) & Q(window_days__isnull=True))
                | (Q(window_credits__isnull=False) & Q(window_days__isnull=False)),
                name="policy_window_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return f"Cancellation policy of {self.programme}"


class WeeklyCutoff(models.Model):
    """POL-1 weekly cut-off: a lesson on ``lesson_weekday`` is late when cancelled after
    ``cutoff_time`` on ``cutoff_weekday`` before it (the same day when the weekdays match)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(
        CancellationPolicy, on_delete=models.CASCADE, related_name="weekly_cutoffs"
    )
    lesson_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    cutoff_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    cutoff_time = models.TimeField()

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["lesson_weekday"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "lesson_weekday"], name="cutoff_one_per_lesson_weekday"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_lesson_weekday_display()} lessons: late after "
            f"{self.get_cutoff_weekday_display()} {self.cutoff_time:%H:%M}"
        )

    def days_before(self) -> int:
        return (self.lesson_weekday - self.cutoff_weekday) % 7
