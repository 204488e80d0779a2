"""Benchmark: applying a two-week closure to a large company (CLO-7), then the invariants.

    manage.py generate_load_data --companies 1 --prefix one      # 2,000 classes in one company
    manage.py bench_closure_apply --prefix one                   # fails over --budget seconds

Takes the company with the most classes among the load data's (``--prefix``), finds the
stretch of ``--days`` days with the most lessons still to come, adds a closure over it for
the whole company (credits by each programme's policy), shows its preview, and runs the apply
synchronously with the very function the background task runs
(``makeups.services.closure_run_execute``): the sessions in groups, each group in its own
transaction, committed. (The run is recorded directly rather than requested: the load data
has no admin login.) It prints the lessons cancelled, the students marked, the credits
issued, the make-up guests whose credits came back, the families to be told, and the
seconds; then runs ``check_invariants``.

The families' messages are written to the outbox but not handed to the broker here (a worker
would send them; the relay hands them over later): the time is the run's, up to the commit
that marks it done. The closure stays (the data is a throw-away load set); a second run takes
the next busiest stretch.
"""

import time
import uuid
from collections import Counter
from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from makeup import outbox
from makeup.models import Company, OutboxMessage
from makeups.selectors.closures import closure_outcome, closure_preview, notice_key
from makeups.services import closure_run_execute
from programmes.models import Class, Closure, ClosureRun, Session
from programmes.services import closure_create


class Command(BaseCommand):
    help = "Time applying a two-week closure to the load data's largest company (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="load", help="The load data's company prefix.")
        parser.add_argument("--days", type=int, default=14, help="How long the closure is.")
        parser.add_argument(
            "--budget", type=float, default=60.0, help="Fail when the run takes longer (s)."
        )

    def handle(self, *args, prefix, days, budget, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL (set DATABASE_URL).")
        with scopes_disabled():
            company = (
                Company.objects.filter(slug__startswith=f"{prefix}-")
                .annotate(n=Count("classes"))
                .order_by("-n", "pk")
                .first()
            )
            if company is None:
                raise CommandError(f"No load data with the prefix {prefix!r}: generate it first.")
            classes = Class.objects.filter(company=company).count()
        now = timezone.now()
        with scope(company=company):
            first, last, lessons = self._busiest(company, days=days, now=now)
            closure = closure_create(
                company=company,
                name=f"Benchmark closure {uuid.uuid4().hex[:6]}",
                first_day=first,
                last_day=last,
                now=now,
            )
            self.stdout.write(
                f"{company.slug}: {classes:,} classes; closure {first} – {last} "
                f"({lessons:,} lessons to come)"
            )
            closure = Closure.objects.select_related("company").get(pk=closure.pk)
            started = time.perf_counter()
            preview = closure_preview(closure=closure, now=now)
            self.stdout.write(
                f"preview: {preview.sessions:,} lessons, {preview.students:,} students, "
                f"{preview.guests:,} make-up guests, {preview.credits:,} credits worth "
                f"{preview.value:,.2f} {company.currency}, {preview.families:,} families "
                f"({time.perf_counter() - started:.2f} s)"
            )
            run = ClosureRun.objects.create(
                company=company,
                closure=closure,
                kind=ClosureRun.Kind.APPLY,
                requested_at=now,
            )
            started = time.perf_counter()
            with mock.patch.object(outbox, "publish", return_value=0):
                run = closure_run_execute(run=run, clock=timezone.now)
            elapsed = time.perf_counter() - started
            if run.state != ClosureRun.State.DONE:
                raise CommandError(f"The run stopped: {run.error}")
            outcome = closure_outcome(closure)
            queued = OutboxMessage.objects.filter(key__startswith=notice_key(closure.pk)).count()
        self.stdout.write(
            f"applied: {outcome.sessions:,} lessons cancelled, {outcome.students:,} students "
            f"marked, {outcome.credits:,} credits issued, {outcome.guests:,} make-up guests' "
            f"credits back, {queued:,} family messages queued"
        )
        rate = outcome.sessions / elapsed if elapsed else 0
        self.stdout.write(f"run: {elapsed:.1f} s ({rate:,.0f} lessons/s; budget {budget:.0f} s)")
        call_command("check_invariants", stdout=self.stdout)
        if elapsed > budget:
            raise CommandError(f"Applying the closure took {elapsed:.1f} s (> {budget:.0f} s).")

    def _busiest(self, company: Company, *, days: int, now):
        """The ``days``-day stretch from tomorrow on with the most lessons still to come."""
        tomorrow = now.astimezone(company.tzinfo).date() + timedelta(days=1)
        per_day = Counter(
            dict(
                Session.objects.filter(
                    company=company,
                    cancelled_at__isnull=True,
                    local_date__gte=tomorrow,
                )
                .values_list("local_date")
                .annotate(n=Count("pk"))
                .values_list("local_date", "n")
            )
        )
        if not per_day:
            raise CommandError("The company has no lesson to come: generate the data again.")
        best, best_count = tomorrow, -1
        day = tomorrow
        while day <= max(per_day):
            count = sum(per_day[day + timedelta(days=d)] for d in range(days))
            if count > best_count:
                best, best_count = day, count
            day += timedelta(days=1)
        return best, best + timedelta(days=days - 1), best_count
