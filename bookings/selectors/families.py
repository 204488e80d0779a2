"""Reads for families."""

from django_scopes import scopes_disabled

from makeup.models import Company

from ..models import Guardian


def guardian_for_user(*, company: Company, user) -> Guardian | None:
    """The logged-in user's parent record in ``company`` (with the family), or ``None``."""
    if not user.is_authenticated:
        return None
    return Guardian.objects.filter(company=company, user=user).select_related("family").first()


def portal_companies_for_user(user) -> list[Company]:
    """Companies where ``user`` is a parent. Crosses scopes on purpose: it runs at login,
    before any company is chosen, and reads only the user's own guardian rows."""
    if not user.is_authenticated:
        return []
    with scopes_disabled():
        ids = list(Guardian.objects.filter(user=user).values_list("company_id", flat=True))
    return list(Company.objects.filter(pk__in=ids).order_by("name"))
