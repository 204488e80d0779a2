"""Cancellation policies (one per programme). Credits and the decision chain build on them."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from bookings.models import AttendanceState
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


class TermEndCredits(models.TextChoices):
    """WAL-4: what becomes of a student's unused credits when their class's term ends."""

    EXPIRE = "expire", _("keep their own expiry and run out as issued")
    CARRY = "carry", _("move to the student's next class in this programme, with extra days")


class CancellationPolicy(models.Model):
    """A programme's cancellation policy (POL-1…POL-6, POL-11, WAL-4). Defaults: cancel 24
    hours before; on time issues a credit valid 30 days from the cancellation, late forfeits,
    a staff cancellation issues a credit valid 30 days; unused credits expire as issued when
    the term ends."""

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
    # WAL-4: unused credits at the end of the class's term.
    term_end_credits = models.CharField(
        max_length=10, choices=TermEndCredits.choices, default=TermEndCredits.EXPIRE
    )
    carry_extra_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    carry_max_credits = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(company="company")

    class Meta:
        verbose_name_plural = _("cancellation policies")
        constraints = [
            models.CheckConstraint(
                condition=(Q(window_credits__isnull=True) & Q(window_days__isnull=True))
                | (Q(window_credits__isnull=False) & Q(window_days__isnull=False)),
                name="policy_window_both_or_neither",
            ),
            models.CheckConstraint(
                condition=~Q(term_end_credits="carry") | Q(carry_extra_days__isnull=False),
                name="policy_carry_has_extra_days",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Cancellation policy of {programme}").format(programme=self.programme)

    def clean(self) -> None:
        """The rules across fields (POL-3, POL-6, POL-11, WAL-4), held wherever a policy is
        saved: the policy form shows them on their fields, and ``credits.services.policy_update``
        refuses them too. A number of days is needed (and kept) only for a validity in days;
        the carry-over's extra days only when credits carry (its limit is kept only then too).
        """
        errors: dict[str, str] = {}
        for path in ("on_time", "late", "staff"):
            kind = getattr(self, f"{path}_validity")
            if kind == ValidityKind.DAYS and not getattr(self, f"{path}_validity_days"):
                errors[f"{path}_validity_days"] = _(
                    "Enter the number of days, or choose another validity."
                )
            elif kind != ValidityKind.DAYS:
                setattr(self, f"{path}_validity_days", None)
        if (self.window_credits is None) != (self.window_days is None):
            field = "window_days" if self.window_days is None else "window_credits"
            errors[field] = _("Set both the number of credits and the days, or neither.")
        if (
            self.portal_late_cancellation == LatePortalCancellation.REFUSE
            and not (self.late_cancellation_instructions or "").strip()
        ):
            errors["late_cancellation_instructions"] = _(
                "Tell parents what to do instead when the portal refuses."
            )
        if self.term_end_credits == TermEndCredits.CARRY:
            if not self.carry_extra_days:
                errors["carry_extra_days"] = _(
                    "Enter how many days moved credits get, or let them run out as issued."
                )
        else:
            self.carry_extra_days = self.carry_max_credits = None
        if errors:
            raise ValidationError(errors)


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
        return gettext("{lesson_day} lessons: late after {cutoff_day} {time}").format(
            lesson_day=self.get_lesson_weekday_display(),
            cutoff_day=self.get_cutoff_weekday_display(),
            time=f"{self.cutoff_time:%H:%M}",
        )

    def days_before(self) -> int:
        return (self.lesson_weekday - self.cutoff_weekday) % 7


class CreditPath(models.TextChoices):
    """Where a credit comes from: the three policy paths (POL-2) or an admin (POL-8)."""

    ON_TIME = "on_time", _("Client cancelled on time")
    LATE = "late", _("Client cancelled late")
    STAFF = "staff", _("Cancelled by us")
    MANUAL = "manual", _("Added by an admin")


CLIENT_PATHS = (CreditPath.ON_TIME, CreditPath.LATE)


class CreditState(models.TextChoices):
    """CRD-2."""

    AVAILABLE = "available", _("Available")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


LIVE_CREDIT_STATES = [CreditState.AVAILABLE, CreditState.USED, CreditState.EXPIRED]


def usable_q(now) -> Q:
    """Credits that can be spent at ``now``: available and not expired (CRD-3, CRD-4); the
    one definition of "usable", in SQL (``MakeupCredit.is_usable`` for one row), as a filter
    or an aggregate's condition."""
    return Q(state=CreditState.AVAILABLE) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class CreditQuerySet(models.QuerySet):
    def usable(self, now):
        """Credits that can be spent at ``now`` (:func:`usable_q`)."""
        return self.filter(usable_q(now))


class CreditManager(models.Manager.from_queryset(CreditQuerySet)):
    def bulk_create(self, objs, *args, **kwargs):
        """As ``MakeupCredit.save()`` does, a new credit without a holder is held by its own
        enrolment (on the manager, so it holds in and out of a company's scope)."""
        objs = list(objs)
        for obj in objs:
            if obj.holder_id is None:
                obj.holder_id = obj.enrolment_id
        return super().bulk_create(objs, *args, **kwargs)


class MakeupCredit(models.Model):
    """The right to attend one session elsewhere (CRD-1): on one enrolment, with its source,
    issue time and expiry. Never deleted; every change is a :class:`CreditEvent`.

    ``enrolment`` is where the credit was earned, for good: it gives the credit's programme
    (MKP-1, WAL-3) and is where the caps count it (POL-5, POL-6). ``holder`` is the enrolment
    whose student may spend it: the same one, until the credit is given to a sibling (WAL-1,
    ``credits.services.credit_transfer``) or carried into the child's next class when the
    holder's term ends (WAL-4, ``credits.services.credits_carry_over``); either moves who
    spends it and nothing the caps count."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(
        "bookings.Enrolment",
        on_delete=models.PROTECT,
        related_name="credits",
        help_text=_("The enrolment it was earned on."),
    )
    holder = models.ForeignKey(
        "bookings.Enrolment",
        on_delete=models.PROTECT,
        related_name="held_credits",
        help_text=_(
            "The enrolment whose student may spend it: its own, a sibling's it was given to, "
            "or the next class's it was carried into."
        ),
    )
    transferred_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When it was last given to a sibling.")
    )
    path = models.CharField(max_length=10, choices=CreditPath.choices)
    attendance = models.ForeignKey(
        "bookings.Attendance",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credits",
        help_text=_("The missed lesson it was earned for."),
    )
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text=_("The cancellation it was earned by.")
    )
    reason = models.CharField(max_length=200, blank=True, help_text=_("Why an admin added it."))
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty: open-ended."))
    state = models.CharField(
        max_length=10, choices=CreditState.choices, default=CreditState.AVAILABLE
    )
    state_changed_at = models.DateTimeField()
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey(
        "bookings.MakeupBooking",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credits",
        help_text=_("The make-up it is spent on, while used."),
    )
    created_by = models.ForeignKey(
        "makeup.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(_manager_class=CreditManager, company="company")

    class Meta:
        ordering = ["expires_at", "pk"]
        indexes = [
            models.Index(fields=["enrolment", "state"]),
            models.Index(fields=["holder", "state"]),
            models.Index(fields=["state", "expires_at"]),
            models.Index(fields=["company", "state", "expires_at"]),
        ]
        constraints = [
            # POL-10: one attendance never yields two live credits.
            models.UniqueConstraint(
                fields=["attendance"],
                condition=Q(attendance__isnull=False) & ~Q(state="revoked"),
                name="credit_one_live_per_attendance",
            ),
            models.CheckConstraint(
                condition=Q(state__in=CreditState.values), name="credit_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(path=CreditPath.MANUAL) | Q(attendance__isnull=False),
                name="credit_policy_path_has_attendance",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Credit #{pk} ({path}, {state})").format(
            pk=self.pk, path=self.get_path_display(), state=self.get_state_display()
        )

    def save(self, *args, **kwargs) -> None:
        if self.holder_id is None:  # a new credit is its own enrolment's to spend
            self.holder_id = self.enrolment_id
        super().save(*args, **kwargs)

    @property
    def is_transferred(self) -> bool:
        """WAL-1: held by a sibling — another child than the one who earned it. A credit
        carried into the next term (WAL-4) is held by another enrolment of the same child:
        not transferred. Reads the holder only when it is not the earning enrolment."""
        return (
            self.holder_id != self.enrolment_id
            and self.holder.student_id != self.enrolment.student_id
        )

    @property
    def holder_student(self):
        """The student who may spend it (WAL-1). Reads the earning enrolment's student while
        that enrolment holds it, so lists that load ``enrolment__student`` pay nothing more
        for credits never given away or carried (load ``holder__student`` too for the
        others)."""
        if self.holder_id == self.enrolment_id:
            return self.enrolment.student
        return self.holder.student

    def is_usable(self, now) -> bool:
        """CRD-3/CRD-4: available and not expired at ``now`` (open-ended never expires)."""
        return self.state == CreditState.AVAILABLE and (
            self.expires_at is None or self.expires_at > now
        )


class CreditEvent(models.Model):
    """CRD-2: the append-only history of a credit — who changed its state, when and why."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        USED = "used", _("Used for a make-up")
        RETURNED = "returned", _("Returned (make-up cancelled on time)")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        REVIEWED = "reviewed", _("Conflict reviewed")
        MOVED = "moved", _("Make-up moved to another session")
        TRANSFERRED = "transferred", _("Given to a sibling")
        CARRIED = "carried", _("Moved to the next term")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    credit = models.ForeignKey(MakeupCredit, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=10, choices=CreditState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=CreditState.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        "makeup.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    # The old and new holder of a credit that changes hands: a transfer's giving and
    # receiving enrolments (WAL-1), a carry-over's ended and next enrolment (WAL-4); empty
    # for every other kind.
    from_enrolment = models.ForeignKey(
        "bookings.Enrolment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_enrolment = models.ForeignKey(
        "bookings.Enrolment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(
                fields=["to_enrolment"],
                condition=Q(kind="carried"),
                name="credit_event_carried_into",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="transferred")
                | (Q(from_enrolment__isnull=False) & Q(to_enrolment__isnull=False)),
                name="credit_event_transfer_has_both_sides",
            ),
            models.CheckConstraint(
                condition=~Q(kind="carried")
                | (Q(from_enrolment__isnull=False) & Q(to_enrolment__isnull=False)),
                name="credit_event_carry_has_both_sides",
            ),
        ]

    def __str__(self) -> str:
        return gettext("{kind} at {at}").format(
            kind=self.get_kind_display(), at=f"{self.at:%Y-%m-%d %H:%M}"
        )


class DecisionReason(models.TextChoices):
    """POL-9."""

    ISSUED = "issued", _("Credit issued")
    MAKEUPS_DISABLED = "makeups_disabled", _("Make-ups are off for the programme")
    NO_SHOW = "no_show", _("Did not attend: no credit")
    LATE_FORFEITED = "late_forfeited", _("Cancelled after the cut-off")
    PATH_FORFEITED = "path_forfeited", _("The policy issues no credit on this path")
    OUTSTANDING_CAP = "outstanding_cap", _("Too many unused credits")
    ROLLING_WINDOW_CAP = "rolling_window_cap", _("Too many credits in the period")
    REVOKED = "revoked", _("Credit revoked by a correction")
    SPENT_CONFLICT = "spent_conflict", _("Correction conflicts with a spent credit")
    CLOSURE_NO_CREDIT = "closure_no_credit", _("Closed: priced into the term")


class CreditDecision(models.Model):
    """POL-9: what the decision chain did for one attendance change, and the figures why."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    attendance = models.ForeignKey(
        "bookings.Attendance", on_delete=models.CASCADE, related_name="credit_decisions"
    )
    attendance_state = models.CharField(max_length=20)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=10, choices=CreditPath.choices, blank=True)
    reason = models.CharField(max_length=20, choices=DecisionReason.choices)
    figures = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300)
    credit = models.ForeignKey(
        MakeupCredit, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    decided_at = models.DateTimeField()
    actor = models.ForeignKey(
        "makeup.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    needs_attention = models.BooleanField(
        default=False, help_text=_("A correction met a spent credit: an admin should look.")
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["decided_at", "pk"]
        indexes = [models.Index(fields=["attendance", "decided_at"])]

    def __str__(self) -> str:
        return self.message


class SessionWatch(models.Model):
    """BEY-2: a parent watches a full session with a chosen credit; when a place frees, the
    first watcher in line is booked automatically — or, when the company offers places
    (WAL-5), offered the place until ``offer_expires_at`` (state ``offered``; one open offer
    per session). ``company`` is the host's."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Watching")
        OFFERED = "offered", _("Place offered")
        BOOKED = "booked", _("Booked automatically")
        ENDED = "ended", _("Ended")

    #: The states of a watch still in line (it blocks a second watch of the same session).
    WAITING = (State.ACTIVE, State.OFFERED)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        "programmes.Session", on_delete=models.CASCADE, related_name="watches"
    )
    student = models.ForeignKey(
        "bookings.Student", on_delete=models.CASCADE, related_name="watches"
    )
    credit = models.ForeignKey(MakeupCredit, on_delete=models.CASCADE, related_name="watches")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "makeup.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    booking = models.ForeignKey(
        "bookings.MakeupBooking", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "student"],
                condition=Q(state__in=["active", "offered"]),
                name="watch_one_active_per_student_session",
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(state="offered"),
                name="watch_one_offer_per_session",
            ),
        ]

    def __str__(self) -> str:
        return gettext("{student} watches session {session}").format(
            student=self.student, session=self.session_id
        )


class AbsenceClaim(models.Model):
    """BEY-6: a parent's "I cancelled in time" about a late cancellation or a no-show.

    The attendance's state, its recorded cancellation time and the cut-off instant are
    copied when the claim is made, so staff judge it on the timestamps as they were; the
    decision (who, when, approved or declined with the reason, the state it led to) stays on
    the row. At most one open claim per attendance."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the school")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    attendance = models.ForeignKey(
        "bookings.Attendance", on_delete=models.CASCADE, related_name="absence_claims"
    )
    claimed_by = models.ForeignKey(
        "makeup.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField()
    message = models.TextField(max_length=1000, blank=True)
    recorded_state = models.CharField(max_length=20, choices=AttendanceState.choices)
    recorded_cancelled_at = models.DateTimeField(null=True, blank=True)
    cutoff_at = models.DateTimeField(help_text=_("The cut-off instant when the claim was made."))
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    decided_by = models.ForeignKey(
        "makeup.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=1000, blank=True)
    resulting_state = models.CharField(max_length=20, choices=AttendanceState.choices, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        indexes = [models.Index(fields=["company", "state", "claimed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["attendance"],
                condition=Q(state="open"),
                name="claim_one_open_per_attendance",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "approved", "declined"]), name="claim_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="open") | Q(decided_at__isnull=False),
                name="claim_decided_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decline_reason=""),
                name="claim_declined_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Claim #{pk} ({state})").format(pk=self.pk, state=self.get_state_display())
