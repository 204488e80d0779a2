"""Fault (issue 8): a Celery worker is killed (SIGKILL) in the middle of the expiry sweep.

The sweep is one statement in one transaction, so a worker that dies half-way leaves no
credit expired without its history row and no history row without its credit; the rerun
expires every due credit with exactly one history row each. To stop the sweep at a known
point, another connection holds a lock on the last due credit (``FOR NO KEY UPDATE``: it
stops an UPDATE of the row, not a history row pointing at it): the sweep's UPDATE has changed
every row before it, and waits there when the worker is killed."""

import os
import signal
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_scopes import scopes_disabled

from credits.models import CreditEvent, CreditState, MakeupCredit
from credits.tasks import expire_credits
from tests import factories as f
from tests.processes import database_url, sending_to, start_worker, stop, unique_queue, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.realclock,
    pytest.mark.django_db(transaction=True),
]

DUE = 300


def _sweeps_in_flight() -> list[tuple[int, str]]:
    """Other backends running the sweep's statement: (pid, wait event type)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, coalesce(wait_event_type, '') FROM pg_stat_activity "
            "WHERE query LIKE %s AND pid <> pg_backend_pid() AND datname = current_database()",
            [f"%UPDATE {MakeupCredit._meta.db_table} SET state%"],  # noqa: S608
        )
        return cursor.fetchall()


def _expired_counts() -> tuple[int, int]:
    with scopes_disabled():
        return (
            MakeupCredit.objects.filter(state=CreditState.EXPIRED).count(),
            CreditEvent.objects.filter(kind=CreditEvent.Kind.EXPIRED).count(),
        )


def test_a_worker_killed_mid_sweep_leaves_nothing_half_done_and_the_rerun_completes(
    world, tmp_path
):
    enrolment = f.EnrolmentFactory(klass__programme__company=world.company_a)
    yesterday = timezone.now() - timedelta(days=1)
    with scopes_disabled():
        MakeupCredit.objects.bulk_create(
            MakeupCredit(
                company=world.company_a,
                enrolment=enrolment,
                path="manual",
                reason="fault test",
                issued_at=yesterday - timedelta(days=30),
                expires_at=yesterday,
                state=CreditState.AVAILABLE,
                state_changed_at=yesterday - timedelta(days=30),
            )
            for _ in range(DUE)
        )
        ids = list(MakeupCredit.objects.order_by("pk").values_list("pk", flat=True))
        CreditEvent.objects.bulk_create(
            CreditEvent(
                company=world.company_a,
                credit_id=pk,
                kind=CreditEvent.Kind.ISSUED,
                from_state="",
                to_state=CreditState.AVAILABLE,
                at=yesterday - timedelta(days=30),
            )
            for pk in ids
        )
        last = ids[-1]

    blocker = psycopg.connect(database_url())
    queue = unique_queue()
    worker = start_worker(queue=queue, mail_dir=tmp_path)
    try:
        blocker.execute(
            f"SELECT id FROM {MakeupCredit._meta.db_table} WHERE id = %s FOR NO KEY UPDATE",  # noqa: S608
            [last],
        )
        with sending_to(queue):
            expire_credits.delay()
        # The sweep is under way: it updated the rows before the locked one and waits on it.
        wait_for(
            lambda: any(kind == "Lock" for _, kind in _sweeps_in_flight()),
            seconds=60,
            worker=worker,
            what="the sweep reaching the locked credit",
        )
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)
    finally:
        blocker.rollback()
        blocker.close()
        stop(worker)

    # The dead worker's database session finds its client gone and rolls back.
    wait_for(lambda: not _sweeps_in_flight(), seconds=30, what="the killed sweep rolling back")
    assert _expired_counts() == (0, 0)  # nothing half-done

    # The rerun (the next beat tick; here a new worker) completes the sweep.
    rerun = start_worker(queue=queue, mail_dir=tmp_path)
    try:
        with sending_to(queue):
            expire_credits.delay()
        wait_for(
            lambda: _expired_counts() == (DUE, DUE),
            seconds=60,
            worker=rerun,
            what="the rerun expiring every due credit",
        )
    finally:
        stop(rerun)
    with scopes_disabled():
        per_credit = (
            CreditEvent.objects.filter(kind=CreditEvent.Kind.EXPIRED)
            .values("credit_id")
            .annotate(n=Count("pk"))
        )
        assert {row["n"] for row in per_credit} == {1}  # no double history rows
    call_command("check_invariants", stdout=StringIO())  # histories replay to the states
