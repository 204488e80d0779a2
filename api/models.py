"""API keys of a company (API-1, API-5)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from makeup.models import Company


class ApiKey(models.Model):
    """A company's key to the JSON API. Only a SHA-256 hash of the key is stored (the key is
    shown once, when it is made); ``prefix`` — the key's first characters — finds the row and
    is shown to owners so they can tell keys apart. A key acts for the owner who made it, and
    stops working when it is revoked or when that person is no longer an owner."""

    class Access(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    access = models.CharField(
        _("access"), max_length=5, choices=Access.choices, default=Access.READ
    )
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(access__in=["read", "write"]), name="apikey_access_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.access == self.Access.WRITE

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEvent(models.TextChoices):
    """What a webhook endpoint can be told of (API-4). The values are the ``type`` the
    receiver reads: they never change."""

    CREDIT_ISSUED = "credit.issued", _("A make-up credit is issued")
    CREDIT_EXPIRING = "credit.expiring", _("A credit expires soon (the family is reminded)")
    CREDIT_EXPIRED = "credit.expired", _("A credit expired unused")
    MAKEUP_BOOKED = "makeup.booked", _("A make-up is booked")
    MAKEUP_CANCELLED = "makeup.cancelled", _("A make-up is cancelled")
    MAKEUP_MOVED = "makeup.moved", _("A make-up is moved to another session")
    PLACE_RELEASED = "place.released", _("A place is released in a session")
    SESSION_CANCELLED = "session.cancelled", _("The school cancels a session")
    CLOSURE_APPLIED = "closure.applied", _("A closure is applied")


class WebhookEndpoint(models.Model):
    """An address of the company's own system that is told of the ``events`` it chose (API-4).

    ``secret`` signs every delivery (HMAC-SHA256). It has to be kept readable to sign with, so
    it is stored as it is, in this row — like the API's other credentials it never leaves the
    server again after the owner saw it once; an owner who lost it makes a new one."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=100, blank=True)
    secret = models.CharField(max_length=80)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to tell which one the receiver holds."""
        return f"{self.secret[:10]}…"

    def event_labels(self) -> list[str]:
        labels = dict(WebhookEvent.choices)
        return [str(labels[event]) for event in self.events if event in labels]


class WebhookDelivery(models.Model):
    """One event sent to one endpoint (API-4): written in the transaction of the change it
    tells of, then posted — again after each failure, later and later — until the receiver
    answers 2xx or the attempts run out (``failed``)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=40)
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    #: One delivery per endpoint and happening (a credit is issued once, a booking cancelled
    #: once): a service run twice writes nothing the second time.
    key = models.CharField(max_length=200)
    object_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="webhookdelivery_once"),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"
