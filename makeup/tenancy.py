"""Tenancy: which company a request works in, who may do what there, and 404 for outsiders.

Scoping is enforced, not remembered: every tenant model has a django-scopes
``ScopedManager(company=...)``, and :class:`makeup.middleware.TenancyMiddleware` enters
``scope(company=...)`` for the request. Views still filter by company explicitly through
the ``access_*`` helpers, which answer the same 404 for a missing object and for another
company's object (TEN-1).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest

from .models import Company, Membership, Role
from .shapes import Shape

SESSION_COMPANY_KEY = "makeup_company_id"


def memberships_for_user(user) -> list[Membership]:
    """All of a user's memberships, companies and settings loaded, in one query."""
    if not user.is_authenticated:
        return []
    return _MEMBERSHIPS(user_id=user.pk)


_MEMBERSHIPS = Shape(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id)
        .select_related("company", "company__settings")
        .order_by("company__name", "company_id")
    )
)


def current_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The membership the staff user works in now: the one chosen with the switcher, else
    the first by company name."""
    if not memberships:
        return None
    chosen = request.session.get(SESSION_COMPANY_KEY)
    for membership in memberships:
        if membership.company_id == chosen:
            return membership
    return memberships[0]


def access_object[M: Model](queryset: QuerySet[M], *, company: Company | None, **lookup: Any) -> M:
    """Fetch one tenant object by lookup, or 404 — alike for missing and another company's."""
    if company is None:
        raise Http404
    obj = queryset.filter(company=company, **lookup).first()
    if obj is None:
        raise Http404
    return obj


def access_one(shape: Shape, *, company: Company | None, **values: Any):
    """As :func:`access_object`, for a read compiled once (:class:`makeup.shapes.Shape`)
    whose build takes ``company_id`` and filters by it: the first row, or 404 — alike for
    missing and another company's."""
    if company is None:
        raise Http404
    found = shape.first(company_id=company.pk, **values)
    if found is None:
        raise Http404
    return found


def membership_of(user, company_id: int) -> Membership | None:
    """``user``'s membership (owner, admin or staff) of company ``company_id``, or ``None``
    — also for no user, an anonymous or a deactivated one. Services use it to check that a
    staff action is taken by the company's own people (TEN-2)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Membership.objects.filter(user=user, company_id=company_id).first()


def access_company_for_user(user, company_id: int) -> Membership:
    """A membership of ``user`` in company ``company_id``, or 404 (never a hint it exists)."""
    membership = (
        Membership.objects.filter(user=user, company_id=company_id)
        .select_related("company")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def company_role_required(minimum: str = Role.STAFF) -> Callable:
    """Decorate a back-office view: logged in, a member of the current company, with at
    least ``minimum`` role (TEN-2). Anonymous → login page; a parent or a too-junior role →
    403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None or not membership.has_role(minimum):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.minimum_role = minimum  # read by the permission tests
        return wrapper

    return decorator


staff_required = company_role_required(Role.STAFF)
admin_required = company_role_required(Role.ADMIN)
owner_required = company_role_required(Role.OWNER)
