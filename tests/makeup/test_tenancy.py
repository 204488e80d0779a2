"""TEN-1: tenant data never leaks across companies; scoping is enforced, not remembered."""

import pytest
from django.http import Http404
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from bookings.models import Family
from makeup.tenancy import access_object
from tests.factories import FamilyFactory


@pytest.mark.django_db
def test_ten_1_tenant_query_outside_a_scope_raises(world):
    FamilyFactory(company=world.company_a)
    with pytest.raises(ScopeError):
        list(Family.objects.all())
    with pytest.raises(ScopeError):
        Family.objects.filter(name="Parker").first()


@pytest.mark.django_db
def test_ten_1_scope_shows_only_the_scoped_company(world):
    FamilyFactory(company=world.company_a, name="Alpha family")
    FamilyFactory(company=world.company_b, name="Beta family")
    with scope(company=world.company_b):
        names = set(Family.objects.values_list("name", flat=True))
    assert names == {"Beta family"}


@pytest.mark.django_db
def test_ten_1_access_object_is_404_alike_for_missing_and_foreign(world):
    theirs = FamilyFactory(company=world.company_a)
    ours = FamilyFactory(company=world.company_b)
    with scope(company=world.company_b):
        assert access_object(Family.objects.all(), company=world.company_b, pk=ours.pk) == ours
        with pytest.raises(Http404):
            access_object(Family.objects.all(), company=world.company_b, pk=theirs.pk)
        with pytest.raises(Http404):
            access_object(Family.objects.all(), company=world.company_b, pk=999_999)
        with pytest.raises(Http404):
            access_object(Family.objects.all(), company=None, pk=ours.pk)


@pytest.mark.django_db
def test_ten_1_views_run_inside_the_company_scope(world, login):
    """The middleware enters the scope: a back-office page that reads tenant rows works."""
    response = login(world.staff_a).get("/manage/")
    assert response.status_code == 200
    assert response.context["company"] == world.company_a
