"""Writes for families, parents and students."""

from django.db import transaction

from makeup.errors import DomainError
from makeup.models import Company, User
from makeup.services import user_create, user_request_confirmation

from ..models import Family, Guardian


def _family_name_for(full_name: str, email: str) -> str:
    words = full_name.split()
    return words[-1] if words else email.split("@")[0]


@transaction.atomic
def parent_signup(*, company: Company, email: str, password: str, full_name: str) -> User | None:
    """A parent signs up on ``company``'s portal: a login (unconfirmed) and a family.

    The confirmation e-mail goes out through a Celery task after commit. When the address
    already has a login, nothing is created and its owner is e-mailed instead, so the form
    never tells a stranger who has an account. Returns the new user, or ``None``.
    """
    from makeup.tasks import send_account_exists

    existing = User.objects.filter(email__iexact=email.strip()).first()
    if existing is not None:
        transaction.on_commit(lambda: send_account_exists.delay(company.pk, existing.pk))
        return None
    user = user_create(email=email, password=password, full_name=full_name)
    family = Family.objects.create(company=company, name=_family_name_for(full_name, user.email))
    Guardian.objects.create(
        company=company,
        family=family,
        user=user,
        full_name=full_name or user.email,
        email=user.email,
    )
    user_request_confirmation(user=user, company=company)
    return user


@transaction.atomic
def parent_join(*, company: Company, user: User) -> Guardian:
    """A logged-in parent of another company starts a family at ``company`` too."""
    existing = Guardian.objects.filter(company=company, user=user).first()
    if existing is not None:
        return existing
    if not user.email_confirmed:
        raise DomainError("Please confirm your e-mail address first.", code="unconfirmed")
    full_name = user.full_name or user.email
    family = Family.objects.create(company=company, name=_family_name_for(full_name, user.email))
    return Guardian.objects.create(
        company=company, family=family, user=user, full_name=full_name, email=user.email
    )
