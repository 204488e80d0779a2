"""Benchmark: the credit expiry sweep against a bare UPDATE on the same table (PostgreSQL).

    manage.py bench_expiry_sweep --total 1100000 --expired 1000000

Creates the credits under a throw-away company with one INSERT … SELECT generate_series,
then alternates a bare ``UPDATE … SET state='expired' WHERE …`` and the real sweep
(``credits_expire_due``: the UPDATE plus one history row per credit), resetting between
runs, and reports the best time of each. Exits non-zero when the sweep takes more than
``--max-ratio`` times the bare UPDATE. Everything it created is deleted at the end.
"""

import time
import uuid
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import Enrolment, Family, Student
from credits.models import CreditEvent, MakeupCredit
from credits.services.sweeps import credits_expire_due
from makeup.services import company_create
from programmes.models import Class, Programme

CREDITS = MakeupCredit._meta.db_table
EVENTS = CreditEvent._meta.db_table


class Command(BaseCommand):
    help = "Time the credit expiry sweep against a bare UPDATE (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--total", type=int, default=1_100_000)
        parser.add_argument("--expired", type=int, default=1_000_000)
        parser.add_argument("--rounds", type=int, default=2)
        parser.add_argument("--max-ratio", type=float, default=3.0)

    def handle(self, *args, total, expired, rounds, max_ratio, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL (set DATABASE_URL).")
        if expired > total:
            raise CommandError("--expired can't exceed --total.")
        with scopes_disabled():
            company, enrolment = self._setup()
            try:
                return self._run(company, enrolment, total, expired, rounds, max_ratio)
            finally:
                self._cleanup(company)

    def _setup(self):
        with transaction.atomic():
            company = company_create(name="Benchmark", slug=f"bench-{uuid.uuid4().hex[:10]}")
            programme = Programme.objects.create(company=company, name="Bench", code="BENCH")
            klass = Class.objects.create(
                company=company,
                programme=programme,
                name="Bench",
                capacity=10,
                start_date=date(2026, 1, 1),
                end_date=date(2026, 12, 31),
            )
            family = Family.objects.create(company=company, name="Bench")
            student = Student.objects.create(
                company=company,
                family=family,
                first_name="B",
                last_name="Bench",
                date_of_birth=date(2018, 1, 1),
            )
            enrolment = Enrolment.objects.create(
                company=company, klass=klass, student=student, start_date=date(2026, 1, 1)
            )
        return company, enrolment

    def _run(self, company, enrolment, total, expired, rounds, max_ratio):
        now = timezone.now()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {CREDITS} (company_id, enrolment_id, holder_id, path, reason,
                    issued_at, expires_at, state, state_changed_at, cancelled_at,
                    attendance_id, reminder_sent_at, created_by_id)
                SELECT %s, %s, %s, 'manual', 'benchmark', %s,
                    CASE WHEN g <= %s THEN %s ELSE %s END, 'available', %s, NULL, NULL, NULL,
                    NULL
                FROM generate_series(1, %s) AS g
                """,  # noqa: S608
                [
                    company.pk,
                    enrolment.pk,
                    enrolment.pk,
                    now - timedelta(days=60),
                    expired,
                    now - timedelta(days=1),
                    now + timedelta(days=30),
                    now - timedelta(days=60),
                    total,
                ],
            )
            cursor.execute(f"ANALYZE {CREDITS}")
        self.stdout.write(
            f"created {total:,} credits ({expired:,} past expiry) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        bare_times, sweep_times = [], []
        for _ in range(rounds):
            bare_times.append(self._timed_bare_update(now, expired))
            self._reset(company)
            sweep_times.append(self._timed_sweep(now, expired))
            self._reset(company)
        bare, sweep = min(bare_times), min(sweep_times)
        ratio = sweep / bare
        self.stdout.write(
            f"bare UPDATE: {bare:.2f} s; sweep with history: {sweep:.2f} s; ratio {ratio:.2f} "
            f"(budget {max_ratio:.1f}x); {expired / sweep:,.0f} credits/s"
        )
        if ratio > max_ratio:
            raise CommandError(f"The sweep took {ratio:.2f}x the bare UPDATE (> {max_ratio}).")

    def _timed_bare_update(self, now, expected):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {CREDITS} SET state = 'expired' "  # noqa: S608
                "WHERE state = 'available' AND expires_at <= %s",
                [now],
            )
            count = cursor.rowcount
        elapsed = time.perf_counter() - started
        if count != expected:
            raise CommandError(f"bare UPDATE touched {count} rows, expected {expected}")
        return elapsed

    def _timed_sweep(self, now, expected):
        started = time.perf_counter()
        count = credits_expire_due(now=now)
        elapsed = time.perf_counter() - started
        if count != expected:
            raise CommandError(f"sweep expired {count} credits, expected {expected}")
        events = CreditEvent.objects.filter(kind="expired", note="Expired unused.").count()
        if events < expected:
            raise CommandError(f"sweep wrote {events} history rows, expected {expected}")
        return elapsed

    def _reset(self, company):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {EVENTS} WHERE company_id = %s", [company.pk])  # noqa: S608
            cursor.execute(
                f"UPDATE {CREDITS} SET state = 'available' WHERE company_id = %s",  # noqa: S608
                [company.pk],
            )
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {CREDITS}")
            cursor.execute(f"VACUUM ANALYZE {EVENTS}")

    def _cleanup(self, company):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {EVENTS} WHERE company_id = %s", [company.pk])  # noqa: S608
            cursor.execute(f"DELETE FROM {CREDITS} WHERE company_id = %s", [company.pk])  # noqa: S608
        with transaction.atomic():
            Enrolment.objects.filter(company=company).delete()
            Class.objects.filter(company=company).delete()
            Programme.objects.filter(company=company).delete()
            company.delete()
