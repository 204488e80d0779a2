"""Benchmark: the busy pages and writes of the load test, in-process, one at a time.

    manage.py generate_load_data --scale 1 --reset     # the load test's data (PostgreSQL)
    DEBUG=0 manage.py bench_pages                      # ms per request of each
    DEBUG=0 manage.py bench_pages --queries            # and where each one's queries went

Times, through Django's test client with production settings (no network, no other
request competing), what the load test's users do most: a parent's portal home (``--families``
families, ``--rounds`` times each), a staff member's attendance mark (``--marks`` one-click
marks in the attendance view of sessions on the staff calendar, as the load test's staff
do), and a parent's make-up booking then its cancellation (``--bookings``, each booked from
the search's own Book links). Each is warmed first (a worker's first requests compile and
prepare its queries). With ``--queries`` it prints, per kind of request, each place in the
code that ran a query: how many per request, the milliseconds in all, and the part spent
turning the queryset into SQL (Django's compiler).

It writes what the load test writes (marks flip between present and did not attend; every
booking is cancelled again): run it on the load test's database only.
"""

import random
import re
import statistics
import time
import traceback
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client
from django_scopes import scopes_disabled

from makeup.models import User

BOOK = re.compile(r"/portal/[\w-]+/makeups/book/(\d+)/(\d+)/")
SESSION = re.compile(r'href="/manage/sessions/(\d+)/"')
MARK = re.compile(r'action="(/manage/sessions/\d+/attendance/\d+/)"')
ROOT = str(Path(settings.BASE_DIR)) + "/"
FAMILIES = 15_000  # generate_load_data --scale 1: families dealt to 20 companies in turn
COMPANIES = 20


class QueryTimes:
    """Per place in the project's code that ran a query: runs, seconds, seconds compiling."""

    def __init__(self) -> None:
        self.kind = ""
        self.places: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])

    @staticmethod
    def _place() -> str:
        for frame in reversed(traceback.extract_stack()[:-3]):
            name = frame.filename
            if name.startswith(ROOT) and "/.venv/" not in name and not name.endswith("_pages.py"):
                return f"{name[len(ROOT) :]}:{frame.lineno} {frame.name}"
        return "?"

    @contextmanager
    def installed(self):
        execute, compile_ = SQLCompiler.execute_sql, SQLCompiler.as_sql
        depth = {"execute": 0, "compile": 0}
        times = self

        def timed(name, original, slot):
            def wrapper(compiler, *args, **kwargs):
                depth[name] += 1
                started = time.perf_counter()
                try:
                    return original(compiler, *args, **kwargs)
                finally:
                    depth[name] -= 1
                    if depth[name] == 0 and times.kind:
                        row = times.places[(times.kind, times._place())]
                        if slot == 1:
                            row[0] += 1
                        row[slot] += time.perf_counter() - started

            return wrapper

        SQLCompiler.execute_sql = timed("execute", execute, 1)
        SQLCompiler.as_sql = timed("compile", compile_, 2)
        try:
            yield
        finally:
            SQLCompiler.execute_sql, SQLCompiler.as_sql = execute, compile_


class Command(BaseCommand):
    help = "Time the portal home, an attendance mark and a booking with its cancellation."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="load", help="The load data's prefix.")
        parser.add_argument("--families", type=int, default=20)
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--marks", type=int, default=60)
        parser.add_argument("--bookings", type=int, default=40)
        parser.add_argument("--queries", action="store_true", help="Where the queries went.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, prefix, families, rounds, marks, bookings, queries, seed, **opts):
        if settings.DEBUG:
            self.stderr.write("DEBUG is on: set DEBUG=0 to time what production runs.")
        self.prefix = prefix
        self.random = random.Random(seed)
        self.times = QueryTimes()
        self.counts: dict[str, int] = defaultdict(int)
        parents = self._parents(families)
        staff = self._staff()
        timings = {
            "portal home": self._homes(parents, rounds),
            "staff mark attendance (POST)": self._marks(staff, marks),
        }
        booked, cancelled = self._bookings(parents, bookings)
        timings["make-up book (POST)"], timings["make-up cancel (POST)"] = booked, cancelled
        for name, values in timings.items():
            if not values:
                raise CommandError(f"{name}: nothing was timed (is the load data there?)")
            self.stdout.write(
                f"{name:30} n={len(values):4}  mean {statistics.mean(values):6.1f} ms"
                f"  p50 {statistics.median(values):6.1f} ms"
            )
        if queries:
            self._print_queries()

    # --- the logins -----------------------------------------------------------------------

    def _client(self, email: str) -> Client:
        with scopes_disabled():
            user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"no {email}: run generate_load_data --scale 1 first")
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    def _parents(self, families: int) -> list[tuple[Client, str]]:
        step = max(5, FAMILIES // families // 5 * 5)  # generate_load_data logs every fifth in
        return [
            (
                self._client(f"{self.prefix}-parent-{family}@example.com"),
                f"/portal/{self.prefix}-{family % COMPANIES + 1:02d}",
            )
            for family in range(0, FAMILIES, step)[:families]
        ]

    def _staff(self) -> list[tuple[Client, list[str]]]:
        staff = []
        for n in range(1, 5):
            client = self._client(f"{self.prefix}-staff-{n}@example.com")
            calendar = client.get("/manage/sessions/", secure=True).content.decode()
            staff.append((client, SESSION.findall(calendar)))
        return staff

    # --- the timings ----------------------------------------------------------------------

    def _timed(self, kind: str, request) -> tuple[float, object]:
        self.times.kind = kind
        started = time.perf_counter()
        try:
            response = request()
        finally:
            self.times.kind = ""
        self.counts[kind] += 1
        return (time.perf_counter() - started) * 1000, response

    def _homes(self, parents, rounds: int) -> list[float]:
        def home(client, base):
            response = client.get(f"{base}/", secure=True)
            if response.status_code != 200:
                raise CommandError(f"{base}/ answered {response.status_code}")
            return response

        for client, base in parents * 2:  # warm
            home(client, base)
        with self.times.installed():
            return [
                self._timed("portal home", lambda c=c, b=b: home(c, b))[0]
                for _ in range(rounds)
                for c, b in parents
            ]

    def _mark(self, staff, timed: bool) -> float | None:
        client, sessions = self.random.choice(staff)
        if not sessions:
            return None
        page = client.get(f"/manage/sessions/{self.random.choice(sessions)}/", secure=True)
        marks = MARK.findall(page.content.decode())
        if not marks:
            return None
        url, state = self.random.choice(marks), self.random.choice(["present", "no_show"])

        def post():
            response = client.post(url, {"state": state}, HTTP_HX_REQUEST="true", secure=True)
            if response.status_code not in (200, 204, 286):
                raise CommandError(f"{url} answered {response.status_code}")
            return response

        if not timed:
            post()
            return None
        return self._timed("staff mark attendance (POST)", post)[0]

    def _marks(self, staff, marks: int) -> list[float]:
        for _ in range(15):  # warm
            self._mark(staff, timed=False)
        with self.times.installed():
            values = [self._mark(staff, timed=True) for _ in range(marks)]
        return [v for v in values if v is not None]

    def _book_and_cancel(self, parents, timed: bool) -> tuple[float, float] | None:
        client, base = self.random.choice(parents)
        offers = BOOK.findall(client.get(f"{base}/makeups/", secure=True).content.decode())
        if not offers:
            return None  # no usable credit, or nothing bookable: as in the load test
        credit, session = self.random.choice(offers)
        url = f"{base}/makeups/book/{credit}/{session}/"
        client.get(url, secure=True)
        booked_ms, booked = self._timed(
            "make-up book (POST)", lambda: client.post(url, {"note": "bench"}, secure=True)
        )
        found = re.search(rf"{base}/makeups/(\d+)/$", booked.get("Location", ""))
        if not found:
            return None  # refused by a rule (taken meanwhile, a balance due): not timed
        cancel = f"{base}/makeups/{found.group(1)}/cancel/"
        cancelled_ms, cancelled = self._timed(
            "make-up cancel (POST)", lambda: client.post(cancel, secure=True)
        )
        if cancelled.status_code != 302:
            raise CommandError(f"{cancel} answered {cancelled.status_code}")
        return (booked_ms, cancelled_ms) if timed else None

    def _bookings(self, parents, bookings: int):
        for _ in range(10):  # warm
            self._book_and_cancel(parents, timed=False)
        for kind in ("make-up book (POST)", "make-up cancel (POST)"):
            self.counts.pop(kind, None)  # the warm-up's
        booked, cancelled = [], []
        with self.times.installed():
            for _ in range(bookings):
                pair = self._book_and_cancel(parents, timed=True)
                if pair is not None:
                    booked.append(pair[0])
                    cancelled.append(pair[1])
        return booked, cancelled

    def _print_queries(self) -> None:
        self.stdout.write("\nqueries per request: runs, ms in all, ms of it compiling SQL")
        for (kind, place), (runs, seconds, compiling) in sorted(
            self.times.places.items(), key=lambda item: (item[0][0], -item[1][1])
        ):
            n = max(1, self.counts[kind])
            self.stdout.write(
                f"  {kind[:22]:22} {runs / n:4.1f}x {seconds * 1000 / n:6.2f} ms"
                f" {compiling * 1000 / n:5.2f} ms  {place}"
            )
