"""Busy reads compiled once per worker (makeup.shapes): the same rows as the queryset,
the company in scope put in on every call (TEN-1), and a shape whose SQL holds more than
the places of its values refused on its first call."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError

from bookings.models import Enrolment
from makeup.models import Company, User
from makeup.shapes import Shape, ShapeError, UpdateShape
from programmes.models import Session
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _sessions(klass_id, since, until):
    return (
        Session.objects.filter(klass_id=klass_id, starts_at__gt=since, starts_at__lte=until)
        .select_related("klass__programme")
        .annotate(places=F("klass__capacity"))
        .order_by("starts_at", "pk")
    )


SESSIONS = Shape(_sessions)


@pytest.fixture
def two_schools(world):
    a = f.ClassFactory(programme__company=world.company_a, capacity=6)
    b = f.ClassFactory(programme__company=world.company_b, capacity=9)
    days = [NOW + timedelta(days=n) for n in range(1, 8)]
    for day in days:
        f.SessionFactory(klass=a, local_date=day.date())
        f.SessionFactory(klass=b, local_date=day.date())
    return a, b


def test_a_shape_reads_the_rows_its_queryset_reads_compiling_once(
    two_schools, world, count_compilations
):
    a, _ = two_schools
    windows = [(NOW, NOW + timedelta(days=3)), (NOW + timedelta(days=2), NOW + timedelta(days=9))]
    with scope(company=world.company_a):
        SESSIONS(klass_id=a.pk, since=NOW, until=NOW)  # the first call compiles
        calls = count_compilations()
        for since, until in windows:
            rows = SESSIONS(klass_id=a.pk, since=since, until=until)
            expected = list(_sessions(a.pk, since, until))
            assert [s.pk for s in rows] == [s.pk for s in expected] != []
            assert [s.places for s in rows] == [6] * len(rows)
            assert rows[0].klass.programme == a.programme  # select_related, no query
    assert len(calls) == len(windows)  # only the plain querysets compiled again


def test_ten_1_each_call_reads_the_company_in_scope_not_the_first(two_schools, world):
    a, b = two_schools
    until = NOW + timedelta(days=30)
    with scope(company=world.company_a):
        assert len(SESSIONS(klass_id=a.pk, since=NOW, until=until)) == 7
    with scope(company=world.company_b):
        # Company A's class asked for in company B's scope: none of A's rows.
        assert SESSIONS(klass_id=a.pk, since=NOW, until=until) == []
        assert {s.klass_id for s in SESSIONS(klass_id=b.pk, since=NOW, until=until)} == {b.pk}
    with scopes_disabled():
        assert len(SESSIONS(klass_id=a.pk, since=NOW, until=until)) == 7
    with pytest.raises(ScopeError):  # no scope: as the queryset would
        SESSIONS(klass_id=a.pk, since=NOW, until=until)


def test_values_lists_and_aggregates_come_through(two_schools, world):
    a, _ = two_schools
    counts = Shape(
        lambda klass_id: (
            Enrolment.objects.filter(klass_id=klass_id)
            .values_list("klass_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
    )
    f.EnrolmentFactory(klass=a)
    f.EnrolmentFactory(klass=a)
    with scope(company=world.company_a):
        assert counts(klass_id=a.pk) == [(a.pk, 2)]


def test_a_value_compared_with_a_small_integer_column_is_a_value(two_schools, world):
    # PostgreSQL (psycopg 3) gets it as a two-byte integer, the column's size: still a value.
    a, b = two_schools
    a.min_age_months, b.min_age_months = 30, 30
    a.save(update_fields=["min_age_months"])
    b.save(update_fields=["min_age_months"])
    young = Shape(lambda months: Session.objects.filter(klass__min_age_months__lte=months))
    with scope(company=world.company_a):
        assert young(months=29) == []
        assert {s.klass_id for s in young(months=30)} == {a.pk}
        # Beyond the column's integers (or any database's): as the queryset answers.
        for months in (40_000, 2**70, -(2**70)):
            expected = {s.pk for s in Session.objects.filter(klass__min_age_months__lte=months)}
            assert {s.pk for s in young(months=months)} == expected
        by_id = Shape(lambda session_id: Session.objects.filter(pk=session_id))
        assert by_id(session_id=2**70) == list(Session.objects.filter(pk=2**70)) == []


def test_a_value_computed_inside_the_build_is_refused(world):
    later = Shape(lambda now: Session.objects.filter(starts_at__lte=now + timedelta(weeks=4)))
    with scope(company=world.company_a), pytest.raises(ShapeError, match="depends on a value"):
        later(now=NOW)


def test_the_current_time_zone_in_the_sql_is_refused(world):
    # A date of a moment depends on the time zone active: the request's company's.
    on_day = Shape(lambda day: Session.objects.filter(starts_at__date=day))
    with scope(company=world.company_a), pytest.raises(ShapeError):
        on_day(day=NOW.date())


def test_prefetching_inside_a_shape_is_refused(world):
    shape = Shape(lambda pk: Session.objects.filter(pk=pk).prefetch_related("attendances"))
    with scope(company=world.company_a), pytest.raises(ShapeError, match="prefetch"):
        shape(pk=1)


def test_a_flag_a_list_or_a_naive_time_is_built_as_before(two_schools, world):
    a, _ = two_schools
    by_state = Shape(lambda cancelled: Session.objects.filter(cancelled_at__isnull=cancelled))
    in_list = Shape(lambda ids: Session.objects.filter(pk__in=ids))
    with scope(company=world.company_a):
        assert len(by_state(cancelled=True)) == 7
        assert by_state(cancelled=False) == []
        first = Session.objects.filter(klass=a).order_by("pk").first()
        assert [s.pk for s in in_list(ids=[first.pk])] == [first.pk]
        naive = timezone.make_naive(NOW + timedelta(days=30), UTC)
        with pytest.warns(RuntimeWarning):  # Django's own warning: built as before
            assert len(SESSIONS(klass_id=a.pk, since=NOW, until=naive)) == 7


def test_outside_any_scope_an_unscoped_read_is_compiled_too(world, count_compilations):
    # The middleware finds the portal's company before any scope is entered.
    by_slug = Shape(lambda slug: Company.objects.filter(slug=slug).order_by()[:1])
    assert by_slug(slug="alpha") == [world.company_a]
    calls = count_compilations()
    assert by_slug(slug="beta") == [world.company_b]
    assert by_slug(slug="nobody") == []
    assert calls == []


def test_a_shape_locks_its_rows_when_asked(two_schools, world):
    a, _ = two_schools
    locking = Shape(lambda pk: Session.objects.select_for_update().filter(pk=pk).values_list("pk"))
    with scope(company=world.company_a), transaction.atomic():
        first = Session.objects.filter(klass=a).order_by("pk").values_list("pk", flat=True)[0]
        locking(pk=first)  # compiled
        with CaptureQueriesContext(connection) as run:
            assert locking(pk=first) == [(first,)]
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in run.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_a_locking_shape_outside_a_transaction_is_refused_as_django_would(world):
    locking = Shape(lambda pk: Session.objects.select_for_update().filter(pk=pk).values_list("pk"))
    with scope(company=world.company_a):
        with transaction.atomic():
            locking(pk=1)  # compiled inside one
        if connection.features.has_select_for_update:
            with pytest.raises(TransactionManagementError):
                locking(pk=1)


SET_PLACES = UpdateShape(
    lambda klass_id, since, places: (
        Session.objects.filter(klass_id=klass_id, starts_at__gt=since),
        {"places_taken": places},
    )
)


def test_an_update_shape_updates_what_the_queryset_would_compiling_once(
    two_schools, world, count_compilations
):
    a, b = two_schools
    with scope(company=world.company_a):
        assert SET_PLACES(klass_id=a.pk, since=NOW + timedelta(days=30), places=1) == 0
        calls = count_compilations()
        assert SET_PLACES(klass_id=a.pk, since=NOW + timedelta(days=5), places=4) == 2
        assert SET_PLACES(klass_id=a.pk, since=NOW + timedelta(days=6), places=5) == 1
        # TEN-1: company B's class in company A's scope: nothing updated.
        assert SET_PLACES(klass_id=b.pk, since=NOW, places=7) == 0
    assert calls == []
    with scopes_disabled():
        places = Session.objects.filter(klass=a).order_by("starts_at")
        assert [s.places_taken for s in places][-3:] == [0, 4, 5]
        assert {s.places_taken for s in Session.objects.filter(klass=b)} == {0}


def test_the_login_user_read_by_primary_key_is_compiled_once(world, count_compilations):
    """Django's ModelBackend reads the login's user with ``get(pk=…)`` on every request:
    the same user, DoesNotExist for none, compiled once; other reads (and a related
    manager's, which must keep its own filter) as before."""
    parent = world.parent_a
    assert User.objects.get(pk=parent.pk) == parent  # the first call compiles
    calls = count_compilations()
    assert User.objects.get(pk=world.staff_b.pk) == world.staff_b
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=10**9)
    assert [c for c in calls if c is User] == [User]  # only the miss, to raise as Django does
    calls.clear()
    assert User.objects.get(email=parent.email) == parent
    assert User.objects.get(pk=str(parent.pk)) == parent  # not an int: the plain queryset
    assert len(calls) == 2
    group = Group.objects.create(name="Coaches")
    group.user_set.add(parent)
    assert group.user_set.get(pk=parent.pk) == parent
    with pytest.raises(User.DoesNotExist):
        group.user_set.get(pk=world.staff_b.pk)  # not in the group


def test_a_logged_in_request_reads_its_user_without_compiling_it(world, login, count_compilations):
    client = login(world.parent_a)
    client.get("/portal/alpha/notifications/")  # the worker's first request compiles
    calls = count_compilations()
    assert client.get("/portal/alpha/notifications/").status_code == 200
    assert User not in calls
