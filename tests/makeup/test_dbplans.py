"""Prepared statements on PostgreSQL (config/settings.py, makeup.dbplans): a query run a
few times on a connection is kept prepared — planned once — except the queries whose best
plan depends on their values, which are planned for each run."""

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from bookings.selectors.search import search_people
from credits.services import credit_add_manual
from makeup.dbplans import planned_for_its_values
from makeup.models import Company
from makeups.selectors.eligibility import makeup_candidates
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_query_run_often_is_kept_prepared():
    for _ in range(7):
        list(Company.objects.filter(name="kept prepared"))
    assert any('"makeup_company"."name" = $1' in sql for sql in _prepared())


def test_a_worker_keeps_more_shapes_prepared_than_psycopgs_hundred(settings):
    """150 shapes, each run six times in turn: with psycopg's own limit of 100 each shape's
    count was pushed out before its fifth run and none was ever prepared."""
    assert connection.connection.prepared_max == settings.DATABASE_PREPARED_MAX >= 150
    names = [f"shape {n}" for n in range(150)]
    for _ in range(6):
        for n in range(1, 151):
            list(Company.objects.filter(name__in=names[:n]))
    kept = [sql for sql in _prepared() if '"makeup_company"."name" IN (' in sql]
    assert len(kept) == 150


def test_inside_planned_for_its_values_a_query_is_never_prepared():
    with planned_for_its_values():
        for _ in range(7):
            list(Company.objects.filter(name="planned each time"))
    assert not any('"makeup_company"."name" = $1' in sql for sql in _prepared())
    for _ in range(7):  # and outside, the connection prepares again
        list(Company.objects.filter(name="planned each time"))
    assert any('"makeup_company"."name" = $1' in sql for sql in _prepared())


def test_the_make_up_search_and_the_people_search_are_planned_for_their_values(world):
    enrolment = f.EnrolmentFactory(klass__programme__company=world.company_a)
    now = timezone.now()
    with scope(company=world.company_a):
        credit = credit_add_manual(
            enrolment=enrolment, reason="test", actor=None, valid_days=30, now=now
        )
        for _ in range(7):
            makeup_candidates(credit=credit, now=now, offered_only=True, limit=31)
            search_people(company=world.company_a, q="Smith", today=now.date())
    prepared = _prepared()
    assert prepared, "other queries of these runs are prepared"
    assert not any('FROM "programmes_session"' in sql and "LIMIT" in sql for sql in prepared)
    assert not any('"search_text"' in sql for sql in prepared)
