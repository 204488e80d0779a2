"""The notification service's data (NTF-1…NTF-4): each message sent to a family, a parent's
contact choices, the numbers that texted STOP, and a company's SMS provider.

Imported by :mod:`makeup.models`, so these are models of the ``makeup`` app. Keyed by the
parent's e-mail address (lower case) rather than a row of ``bookings``: the core knows no
families, and an address is what both a login and a parent without one have.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_scopes import ScopedManager

from .kinds import Channel, Kind


class Notification(models.Model):
    """One message to one recipient on one channel (NTF-4): rendered when the family was
    told, sent by the outbox, then its provider's delivery status. ``about`` names the object
    and event it is about (``makeup-booked:12``): the unique constraint makes a second
    notification of the same thing to the same address on the same channel a no-op."""

    class State(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("notification", "Waiting")
        SENDING = "sending", pgettext_lazy("notification", "Sending")
        SENT = "sent", pgettext_lazy("notification", "Sent")
        DELIVERED = "delivered", pgettext_lazy("notification", "Delivered")
        FAILED = "failed", pgettext_lazy("notification", "Failed")

    company = models.ForeignKey("makeup.Company", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    about = models.CharField(max_length=150)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254, help_text="E-mail address or mobile number.")
    family_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    language = models.CharField(max_length=10, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    unsubscribe_url = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "about", "recipient", "channel"], name="notification_once"
            )
        ]
        indexes = [models.Index(fields=["company", "family_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} to {self.recipient} ({self.state})"


class ParentContact(models.Model):
    """A parent's choices in one company (NTF-2): channels per group and a mobile number,
    confirmed by a code sent to it. ``preferences``: ``{group: {"email": bool, "sms": bool}}``;
    a group not in it has its defaults (:func:`makeup.notifications.kinds.group_defaults`)."""

    company = models.ForeignKey("makeup.Company", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(help_text="The parent's address, lower case.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preferences = models.JSONField(default=dict, blank=True)
    mobile = models.CharField(max_length=20, blank=True)
    mobile_confirmed_at = models.DateTimeField(null=True, blank=True)
    pending_mobile = models.CharField(max_length=20, blank=True)
    code_hash = models.CharField(max_length=128, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(company="company")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "email"], name="parent_contact_once")
        ]

    def __str__(self) -> str:
        return self.email


class SmsOptOut(models.Model):
    """A number that texted STOP to the company's number (NTF-2): no text goes to it until
    it texts START."""

    company = models.ForeignKey("makeup.Company", on_delete=models.CASCADE, related_name="+")
    mobile = models.CharField(max_length=20)
    at = models.DateTimeField()

    objects = ScopedManager(company="company")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "mobile"], name="sms_optout_once")
        ]

    def __str__(self) -> str:
        return self.mobile


class SmsProvider(models.Model):
    """A company's Twilio account (NTF-1): the account SID, the auth token *encrypted* with
    the server's ``NOTIFICATIONS_SECRET_KEY`` (:mod:`makeup.notifications.secrets`), and the
    number or messaging service texts are sent from."""

    company = models.OneToOneField(
        "makeup.Company", on_delete=models.CASCADE, primary_key=True, related_name="sms_provider"
    )
    account_sid = models.CharField(_("account SID"), max_length=64)
    auth_token_encrypted = models.TextField()
    from_number = models.CharField(_("sending number"), max_length=40)
    connected_at = models.DateTimeField()

    objects = ScopedManager(company="company")

    def __str__(self) -> str:
        return f"Twilio {self.account_sid} for {self.company_id}"
