"""Families, their parents (guardians) and students."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from makeup.models import Company


class Family(models.Model):
    """A client household of one company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="families")
    name = models.CharField(max_length=150, help_text=_("Usually the family's surname."))
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(company="company")

    class Meta:
        verbose_name_plural = "families"
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["company", "name"])]

    def __str__(self) -> str:
        return self.name


class Guardian(models.Model):
    """A parent of a family: with a portal login (``user``) or, until invited, without."""

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
    created_at = models.DateTimeField(auto_now_add=True)

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
        ]

    def __str__(self) -> str:
        return self.full_name


class Student(models.Model):
    """A child (or adult client) of a family."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="students")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(company="company")

    class Meta:
        ordering = ["first_name", "last_name", "pk"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
