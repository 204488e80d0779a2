"""Benchmark: the back office's one search box (DAY-3) on the load data (PostgreSQL), against
a one-query page in the same run.

    DATABASE_URL=postgres://…/bench manage.py generate_load_data --reset --companies 1
    DATABASE_URL=postgres://…/bench manage.py bench_search --rounds 50

Takes the load-data company (``--prefix``) with the most families, logs its staff member in
with Django's test client (in-process: no web server, so the figures are the view, its
queries and its template) and requests, round after round, the search page for a typo, an
accent-free spelling, a phone number in another format, an e-mail address and a first name
with a surname — each taken from the data — and ``/healthz/`` (one query, no template) as the
reference. Prints the median and p95 of each, the search alone (the selector) too, and exits
with an error when a search's p95 exceeds ``--budget-ms`` (100 ms).
"""

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Family, Guardian
from bookings.selectors.search import search_people
from makeup.models import Company, Membership
from makeup.searchtext import digits, fold


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time the back office's search on the load data (PostgreSQL) against /healthz/."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="load", help="The load data's company prefix.")
        parser.add_argument("--rounds", type=int, default=50)
        parser.add_argument("--budget-ms", type=float, default=100.0)

    def handle(self, *args, prefix, rounds, budget_ms, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL (DATABASE_URL), with generate_load_data.")
        with scopes_disabled():
            company = (
                Company.objects.filter(slug__startswith=f"{prefix}-")
                .annotate(n=Count("families"))
                .order_by("-n", "pk")
                .first()
            )
            if company is None:
                raise CommandError(f"No {prefix!r} load data: run generate_load_data first.")
            membership = Membership.objects.filter(company=company).select_related("user").first()
            total = Family.objects.count()
        with scope(company=company):
            queries = self._queries(company)
        self.stdout.write(
            f"{company.name}: {company.n:,} families ({total:,} in the database); {rounds} rounds"
        )
        client = Client()
        client.force_login(membership.user, backend="django.contrib.auth.backends.ModelBackend")
        today = timezone.localdate(timezone=company.tzinfo)
        pages = {"reference: /healthz/ (one query)": "/healthz/"}
        pages.update({label: q for label, q in queries.items()})
        timings: dict[str, list[float]] = {label: [] for label in pages}
        alone: dict[str, list[float]] = {label: [] for label in queries}
        found: dict[str, int] = {}
        for round_ in range(rounds + 3):  # three rounds to warm up
            for label, target in pages.items():
                if target.startswith("/"):
                    url, params = target, None
                else:
                    url, params = "/manage/search/", {"q": target}
                started = time.perf_counter()
                response = client.get(url, params)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise CommandError(f"{url} {params}: {response.status_code}")
                if round_ >= 3:
                    timings[label].append(elapsed)
            for label, q in queries.items():
                with scope(company=company):
                    started = time.perf_counter()
                    results = search_people(company=company, q=q, today=today)
                    elapsed = (time.perf_counter() - started) * 1000
                found[label] = results.count
                if round_ >= 3:
                    alone[label].append(elapsed)
        self.stdout.write(
            f"{'request':<48} {'page p50':>9} {'page p95':>9} {'search p50':>11} "
            f"{'search p95':>11} {'found':>6}"
        )
        over = []
        for label, values in timings.items():
            line = f"{label:<48} {statistics.median(values):>7.1f}ms {_p95(values):>7.1f}ms"
            if label in alone:
                line += (
                    f" {statistics.median(alone[label]):>9.1f}ms {_p95(alone[label]):>9.1f}ms"
                    f" {found[label]:>6}"
                )
                if _p95(values) > budget_ms:
                    over.append(label)
            self.stdout.write(line)
        if over:
            raise CommandError(f"Over {budget_ms:.0f} ms at p95: {', '.join(over)}")
        self.stdout.write(self.style.SUCCESS(f"Every search within {budget_ms:.0f} ms at p95."))

    def _queries(self, company: Company) -> dict[str, str]:
        """Searches taken from the company's own parents: a typo in a surname, a name with its
        accents left out, a phone number written another way, an e-mail address, a first
        name with a surname."""
        guardians = Guardian.objects.filter(company=company).exclude(phone="").order_by("pk")
        accented = next(
            (
                g
                for g in guardians[:500]
                if fold(g.full_name) != g.full_name.lower() and len(g.full_name.split()[-1]) >= 6
            ),
            None,
        )
        plain = guardians.exclude(email="").first()
        if accented is None or plain is None:
            raise CommandError("The load data has no parent with an accented name and e-mail.")
        surname = fold(accented.full_name.split()[-1])
        i = len(surname) // 2
        typo = surname[: i - 1] + surname[i] + surname[i - 1] + surname[i + 1 :]  # swapped
        number = digits(accented.phone).lstrip("0")
        phone = f"+61 {number[:3]} {number[3:6]} {number[6:]}"
        return {
            f"typo: {typo!r}": typo,
            f"accent left out: {fold(accented.full_name)!r}": fold(accented.full_name),
            f"phone: {phone!r}": phone,
            f"e-mail: {plain.email!r}": plain.email,
            f"first name + surname: {plain.full_name!r}": plain.full_name,
        }
