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
