"""Prepared statements on PostgreSQL (config/settings.py, makeup.dbplans): a query run a
few times on a connection is kept prepared — planned once — except the queries whose best
plan depends on their values, which are planned for each run."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scope

from bookings.selectors.search import search_people
from credits.services import credit_add_manual
from makeup.dbplans import planned_for_its_values
from makeup.models import Company
from makeups.selectors.eligibility import makeup_candidates
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _none_prepared_yet():
    """Each test starts with nothing prepared: statements outlive the rollback that ends
    the test before (makeup.dbplans)."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


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


class Refused(Exception):
    pass


def _prepare_company_read() -> None:
    for _ in range(7):
        list(Company.objects.filter(name="kept across rollbacks"))


KEPT = '"makeup_company"."name" = $1'


def test_a_savepoint_rolled_back_keeps_the_prepared_statements():
    """A refused write inside a transaction (a savepoint rolled back) used to make psycopg
    forget every prepared statement: the next runs were planned again."""
    _prepare_company_read()
    with pytest.raises(Refused), transaction.atomic():
        list(Company.objects.filter(name="kept across rollbacks"))
        raise Refused
    assert any(KEPT in sql for sql in _prepared())
    list(Company.objects.filter(name="kept across rollbacks"))  # and it still runs


@pytest.mark.django_db(transaction=True)
def test_a_transaction_rolled_back_keeps_the_prepared_statements():
    """``Connection.rollback()``, as Django calls it when a request's transaction fails."""
    _prepare_company_read()
    with pytest.raises(Refused), transaction.atomic():
        Company.objects.filter(name="kept across rollbacks").update(language="en")
        raise Refused
    assert connection.connection.info.transaction_status.name == "IDLE"
    assert any(KEPT in sql for sql in _prepared())
    assert not Company.objects.filter(name="kept across rollbacks").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_statement_rolled_back_keeps_the_others():
    """A statement that fails (a constraint) aborts the transaction; the rollback keeps
    what was prepared before, and the connection goes on."""
    _prepare_company_read()
    company = f.CompanyFactory()
    with pytest.raises(DatabaseError), transaction.atomic():
        Company.objects.create(name="twin", slug=company.slug)
    assert any(KEPT in sql for sql in _prepared())
    assert Company.objects.filter(name="kept across rollbacks").count() == 0


def test_a_schema_change_still_forgets_them():
    """DROP and ALTER (a migration's) still make psycopg forget them, as before."""
    _prepare_company_read()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scratch (n integer)")
        cursor.execute("DROP TABLE scratch")
    assert not any(KEPT in sql for sql in _prepared())


def test_psycopgs_own_behaviour_when_switched_off(settings):
    """``DATABASE_KEEP_PREPARED_ON_ROLLBACK=0``: a new connection forgets them on a
    rollback, as psycopg does."""
    settings.DATABASE_KEEP_PREPARED_ON_ROLLBACK = False
    other = connection.copy()
    try:
        other.ensure_connection()
        with other.cursor() as cursor:
            for _ in range(7):
                cursor.execute("SELECT %s::text", ["kept?"])
            cursor.execute("BEGIN")
            cursor.execute("SAVEPOINT s1")
            cursor.execute("ROLLBACK TO SAVEPOINT s1")
            cursor.execute("COMMIT")
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            assert not cursor.fetchall()
    finally:
        other.close()
    assert type(connection.connection._prepared).__name__ == "_KeptAcrossRollbacks"
