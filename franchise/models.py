"""Franchise links between companies (FRN-1) and each company's terms for incoming make-ups
from a partner (FRN-3).

A link is shared by two companies, so it is not scoped by django-scopes: every read goes
through :mod:`franchise.selectors`, which always filters by the company asking (either side).
Restrictions belong to the host company and are scoped as usual.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from makeup.models import Company


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class CompanyLink(models.Model):
    """Company A (``inviter``) asked company B to take each other's make-ups (FRN-1).

    ``invitee`` is known from the start when the e-mail belongs to a company; otherwise it is
    set when an owner of a new company follows the invitation. The ``nonce`` makes the
    e-mailed link single-use: answering replaces it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        ENDED = "ended", _("Ended")

    inviter = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    invitee = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    invitee_email = models.EmailField(help_text=_("Where the invitation was sent."))
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    message = models.CharField(max_length=500, blank=True)
    nonce = models.CharField(max_length=40, default=new_nonce)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by_company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One live link (pending or approved) per pair, whichever side invited.
            models.UniqueConstraint(
                fields=["inviter", "invitee"],
                condition=Q(state__in=["pending", "approved"]),
                name="franchise_one_live_link_per_pair",
            ),
            models.CheckConstraint(
                condition=~Q(inviter=models.F("invitee")), name="franchise_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inviter_id} → {self.invitee_id or self.invitee_email} ({self.state})"

    def other(self, company_id: int) -> Company | None:
        """The partner seen from ``company_id``'s side."""
        return self.invitee if company_id == self.inviter_id else self.inviter

    def involves(self, company_id: int) -> bool:
        return company_id in (self.inviter_id, self.invitee_id)


class IncomingRestriction(models.Model):
    """What ``company`` (the host) accepts from guests of ``partner`` (FRN-3). Without a row,
    every programme with "allow make-up sessions from other companies" takes the partner's
    guests, with no cap beyond capacity and the usual booking window."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    programmes = models.ManyToManyField(
        "programmes.Programme",
        blank=True,
        related_name="+",
        help_text=_(
            "Only these programmes take this partner's guests. None ticked: every programme "
            'with "allow make-up sessions from other companies" on.'
        ),
    )
    max_guests_per_session = models.PositiveSmallIntegerField(
        _("at most guests per session"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("This partner's guests in one session at most. Empty: no cap but capacity."),
    )
    max_days_ahead = models.PositiveSmallIntegerField(
        _("book at most days ahead"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("How far ahead this partner's families may book. Empty: no limit."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(company="company")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "partner"], name="restriction_unique"),
        ]

    def __str__(self) -> str:
        return f"Incoming from {self.partner_id} at {self.company_id}"
