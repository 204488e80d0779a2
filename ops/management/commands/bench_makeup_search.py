"""Benchmark: the portal's make-up search page against a one-query page (PostgreSQL,
gunicorn), in the same run.

    DATABASE_URL=postgres://…/scratch manage.py bench_makeup_search --seconds 20
    … bench_makeup_search --writes-per-second 2   # and a roll call going on meanwhile

Builds a large company (10 programmes × 100 classes = 1,000 classes, 20 sessions each =
20,000 sessions) and a family of three children with credits, starts gunicorn in production
mode on a local port, logs the parent in (a session row), and drives both pages with keep-
alive HTTP clients for the same time. Prints requests/s, p50/p95/p99 and the ratio.
With ``--writes-per-second N`` the cached search is measured again while a staff member of the
same company marks attendance N times a second through the real page (a roll call of
yesterday's lesson of another class: a busy hour). Everything it created is deleted at the
end.
"""

import cProfile
import http.client
import io
import os
import pstats
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import (
    Attendance,
    AttendanceChange,
    Charge,
    Enrolment,
    Family,
    Guardian,
    Student,
)
from credits.models import CreditDecision, CreditEvent, MakeupCredit
from credits.services import credit_add_manual
from makeup.models import Company, Membership, Role, User
from makeup.services import company_create
from ops.management.commands.bench_pages import QueryTimes
from programmes.models import Class, ClassSchedule, Programme, Session

SLUG = "bench-search"
SERVER_SECRET = "bench-only-" + "k" * 60  # noqa: S105 - the throw-away server's key
BENCH_EMAIL = "bench-parent@example.com"
BENCH_PASSWORD = "bench-only-password"  # noqa: S105
STAFF_EMAIL = "bench-staff@example.com"


class Command(BaseCommand):
    help = "Throughput of the make-up search page vs a one-query page (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=15)
        parser.add_argument("--clients", type=int, default=4)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--port", type=int, default=8799)
        parser.add_argument(
            "--weeks",
            type=int,
            default=20,
            help="Weekly sessions per class (1,000 classes): 1, 10, 50 give 1,000, 10,000, "
            "50,000 sessions, to see that the search does not grow with the school.",
        )
        parser.add_argument(
            "--writes-per-second",
            type=float,
            default=0,
            help="Also measure the cached search while staff mark attendance this often.",
        )
        parser.add_argument(
            "--profile",
            action="store_true",
            help="Profile 20 in-process requests of the search page (uncached) instead.",
        )
        parser.add_argument(
            "--path",
            default="/portal/{slug}/makeups/?credit={credit}",
            help="The search page's path ({slug}, {credit} are filled in).",
        )

    def handle(self, *args, seconds, clients, workers, port, path, profile, **options):
        writes_per_second = options["writes_per_second"]
        self.weeks = options["weeks"]
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL (set DATABASE_URL).")
        with scopes_disabled():
            self._cleanup()
            credit_id = self._build()
        if profile:
            try:
                return self._profile(path.format(slug=SLUG, credit=credit_id))
            finally:
                with scopes_disabled():
                    self._cleanup()
        server = self._start(port, workers)
        try:
            cookie = self._login(port)
            search = path.format(slug=SLUG, credit=credit_id)
            self._check(port, search, cookie)
            results = {}
            pages = (
                ("one query, no template (/healthz/)", "/healthz/", ""),
                ("one query, full layout (portal welcome)", f"/portal/{SLUG}/", ""),
                # The least a parent's page costs: the login's session and user, the company
                # and the parent, and a small form — the floor under any portal page.
                (
                    "logged in, small page (notification settings)",
                    f"/portal/{SLUG}/notifications/",
                    cookie,
                ),
                ("make-up search (3 children)", search, cookie),
                # Every request a new query string: the results cache never hits, so this
                # is the search itself (see makeup.datacache).
                ("make-up search, uncached", search + "&nocache={n}", cookie),
            )
            for name, url, cookies in pages:
                self._load(port, url, cookies, clients, 2)  # warm up
                results[name] = self._load(port, url, cookies, clients, seconds)
            busy = None
            if writes_per_second:
                busy = self._busy_hour(port, search, cookie, clients, seconds, writes_per_second)
            for name, (rps, p50, p95, p99, errors) in results.items():
                self.stdout.write(
                    f"{name:<42} {rps:8.1f} req/s   p50 {p50:6.1f} ms   "
                    f"p95 {p95:6.1f} ms   p99 {p99:6.1f} ms   errors {errors}"
                )
            bare, page, floor, search_rps, cold_rps = (r[0] for r in results.values())
            self.stdout.write(
                f"ratio search / one-query page: {search_rps / page:.2f} "
                f"(goal ≥ 0.5); search / bare one-query view: "
                f"{search_rps / bare:.2f}; uncached search / one-query page: {cold_rps / page:.2f}"
            )
            self.stdout.write(
                f"logged-in small page / one-query page: {floor / page:.2f}; "
                f"uncached search / logged-in small page: {cold_rps / floor:.2f}"
            )
            if busy is not None:
                (rps, p50, p95, p99, errors), writes, write_errors = busy
                self.stdout.write(
                    f"{'make-up search during the roll call':<42} {rps:8.1f} req/s   "
                    f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   p99 {p99:6.1f} ms   errors {errors}"
                )
                self.stdout.write(
                    f"roll call: {writes} attendance marks ({writes / seconds:.1f}/s), "
                    f"{write_errors} errors; cached search during it / one-query page: "
                    f"{rps / page:.2f} (goal ≥ 0.5)"
                )
        finally:
            server.terminate()
            server.wait(timeout=20)
            with scopes_disabled():
                self._cleanup()

    # --- data ----------------------------------------------------------------------
    def _build(self) -> tuple[str, int]:
        started = time.perf_counter()
        today = timezone.localdate()
        with transaction.atomic():
            company = company_create(name="Bench Search", slug=SLUG, timezone="Australia/Sydney")
            programmes = Programme.objects.bulk_create(
                [
                    Programme(company=company, name=f"Level {n}", code=f"BENCH-{n}")
                    for n in range(10)
                ]
            )
            classes = Class.objects.bulk_create(
                [
                    Class(
                        company=company,
                        programme=programmes[n % 10],
                        name=f"Class {n}",
                        capacity=8,
                        min_age_months=48,
                        max_age_months=144,
                        start_date=today - timedelta(days=30),
                        end_date=today + timedelta(weeks=max(self.weeks, 21)),
                        price_per_session=Decimal("25"),
                    )
                    for n in range(1000)
                ]
            )
            ClassSchedule.objects.bulk_create(
                [
                    ClassSchedule(
                        company=company,
                        klass=k,
                        weekday=n % 6,
                        start_time=datetime(2000, 1, 1, 15 + n % 4).time(),
                    )
                    for n, k in enumerate(classes)
                ]
            )
            tz = company.tzinfo
            sessions = []
            for n, klass in enumerate(classes):
                first = today + timedelta(days=(n % 6 - today.weekday()) % 7)
                for week in range(self.weeks):
                    day = first + timedelta(weeks=week)
                    start = datetime.combine(
                        day, datetime(2000, 1, 1, 15 + n % 4).time(), tzinfo=tz
                    )
                    sessions.append(
                        Session(
                            company=company,
                            klass=klass,
                            starts_at=start,
                            ends_at=start + timedelta(minutes=30),
                            local_date=day,
                        )
                    )
            Session.objects.bulk_create(sessions, batch_size=5000)
            user = User.objects.create_user(
                email=BENCH_EMAIL,
                password=BENCH_PASSWORD,
                email_confirmed_at=timezone.now(),
            )
            family = Family.objects.create(company=company, name="Bench")
            Guardian.objects.create(
                company=company,
                family=family,
                user=user,
                full_name="Bench Parent",
                email=user.email,
            )
            credit_ids = []
            for n in range(3):
                student = Student.objects.create(
                    company=company,
                    family=family,
                    first_name=f"Kid{n}",
                    last_name="Bench",
                    date_of_birth=date(2017 + n, 3, 1),
                )
                enrolment = Enrolment.objects.create(
                    company=company, student=student, klass=classes[n], start_date=today
                )
                credit_ids.append(
                    credit_add_manual(
                        now=timezone.now(),
                        enrolment=enrolment,
                        reason="bench",
                        actor=None,
                        valid_days=30,
                    ).pk
                )
            self._roll_call_class(company, today)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"built 1,000 classes and {len(sessions):,} sessions in "
            f"{time.perf_counter() - started:.1f} s"
        )
        return credit_ids[0]

    def _cleanup(self) -> None:
        company = Company.objects.filter(slug=SLUG).first()
        if company is None:
            return
        with transaction.atomic():
            CreditEvent.objects.filter(company=company).delete()
            CreditDecision.objects.filter(company=company).delete()
            MakeupCredit.objects.filter(company=company).delete()
            AttendanceChange.objects.filter(company=company).delete()
            Charge.objects.filter(company=company).delete()
            Attendance.objects.filter(company=company).delete()
            Enrolment.objects.filter(company=company).delete()
            Session.objects.filter(company=company).delete()
            Class.objects.filter(company=company).delete()
            Programme.objects.filter(company=company).delete()
            User.objects.filter(email__in=[BENCH_EMAIL, STAFF_EMAIL]).delete()
            company.delete()

    def _roll_call_class(self, company: Company, today: date) -> None:
        """Another family's class with yesterday's lesson and 8 students, and a staff member
        who marks their attendance (``--writes-per-second``)."""
        klass = Class.objects.create(
            company=company,
            programme=Programme.objects.filter(company=company).order_by("pk").first(),
            name="Roll call",
            capacity=8,
            start_date=today - timedelta(days=30),
            end_date=today + timedelta(days=150),
            price_per_session=Decimal("25"),
        )
        start = datetime.combine(
            today - timedelta(days=1), datetime(2000, 1, 1, 16).time(), tzinfo=company.tzinfo
        )
        Session.objects.create(
            company=company,
            klass=klass,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            local_date=start.date(),
        )
        family = Family.objects.create(company=company, name="Roll call")
        for n in range(8):
            student = Student.objects.create(
                company=company,
                family=family,
                first_name=f"Pupil{n}",
                last_name="Roll",
                date_of_birth=date(2018, 1, 1),
            )
            Enrolment.objects.create(
                company=company, student=student, klass=klass, start_date=klass.start_date
            )
        staff = User.objects.create_user(
            email=STAFF_EMAIL, password=BENCH_PASSWORD, email_confirmed_at=timezone.now()
        )
        Membership.objects.create(user=staff, company=company, role=Role.STAFF)

    def _busy_hour(self, port, search, cookie, clients, seconds, per_second):
        """The cached search while a staff client marks attendance ``per_second`` times a
        second (present / did not attend, in turn) through the session page's buttons."""
        with scopes_disabled():
            session = Session.objects.get(company__slug=SLUG, klass__name="Roll call")
            enrolments = list(
                Enrolment.objects.filter(klass=session.klass)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        staff_cookie = self._login(port, STAFF_EMAIL)
        csrf = self._csrf(port, staff_cookie, f"/manage/sessions/{session.pk}/")
        done, failed = [0], [0]
        stop = threading.Event()

        def roll_call():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            n = 0
            while not stop.is_set():
                started = time.perf_counter()
                enrolment = enrolments[n % len(enrolments)]
                state = ("present", "no_show")[(n // len(enrolments)) % 2]
                conn.request(
                    "POST",
                    f"/manage/sessions/{session.pk}/attendance/{enrolment}/",
                    body=urlencode({"state": state}),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": f"{staff_cookie}; csrftoken={csrf}",
                        "X-CSRFToken": csrf,
                        "HX-Request": "true",
                    },
                )
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    done[0] += 1
                else:
                    failed[0] += 1
                n += 1
                stop.wait(max(0.0, 1 / per_second - (time.perf_counter() - started)))

        writer = threading.Thread(target=roll_call)
        writer.start()
        try:
            self._load(port, search, cookie, clients, 2)  # warm up, the roll call running
            result = self._load(port, search, cookie, clients, seconds)
        finally:
            stop.set()
            writer.join()
        return result, done[0], failed[0]

    def _csrf(self, port: int, cookie: str, path: str) -> str:
        """A CSRF token for ``cookie``'s session: the page sets the cookie it goes with."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            if name == settings.CSRF_COOKIE_NAME:
                return value
        raise CommandError(f"{path} set no CSRF cookie ({response.status})")

    # --- server and load -------------------------------------------------------------
    def _start(self, port: int, workers: int) -> subprocess.Popen:
        env = {
            **os.environ,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": "bench-" + "x" * 60,
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_MANIFEST": "0",
            "LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
        )
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz/")
                if conn.getresponse().status == 200:
                    return server
            except OSError:
                time.sleep(0.2)
        server.terminate()
        raise CommandError("gunicorn did not start")

    def _profile(self, path: str) -> None:
        client = Client()
        client.force_login(
            User.objects.get(email=BENCH_EMAIL), backend="django.contrib.auth.backends.ModelBackend"
        )
        with CaptureQueriesContext(connection) as ctx:  # a query string of its own: uncached
            first = client.get(f"{path}&nocache=first-{time.time_ns()}")
        if first.status_code != 200:
            raise CommandError(f"{path} answered {first.status_code}")
        # Counted now: the next request empties the connection's query log.
        uncached = list(ctx.captured_queries)
        for q in sorted(uncached, key=lambda q: -float(q["time"]))[:4]:
            self.stdout.write(f"{q['time']} s: {q['sql'][:3000]}\n")
        for _ in range(5):
            client.get(path)
        with CaptureQueriesContext(connection) as warm:
            client.get(path)
        cached = len(warm.captured_queries)
        # From here on each request has a query string of its own: the search itself, never
        # the results cache (as "make-up search, uncached" in the load run).
        path = path + "&nocache={n}"
        counter = iter(range(10**9))
        self.stdout.write(f"{len(uncached)} queries uncached, {cached} from the results cache")
        started = time.perf_counter()
        for _ in range(50):
            client.get(path.replace("{n}", str(next(counter))))
        self.stdout.write(
            f"{(time.perf_counter() - started) / 50 * 1000:.1f} ms per request, unprofiled"
        )
        times = QueryTimes()  # where the queries' milliseconds went, compiling included
        times.kind = "search"
        with times.installed():
            for _ in range(50):
                client.get(path.replace("{n}", str(next(counter))))
        self.stdout.write("queries per request: runs, ms in all, ms of it compiling SQL")
        for (_kind, place), (runs, spent, compiling) in sorted(
            times.places.items(), key=lambda item: -item[1][1]
        ):
            self.stdout.write(
                f"  {runs / 50:4.1f}x {spent * 1000 / 50:6.2f} ms {compiling * 1000 / 50:5.2f} ms"
                f"  {place}"
            )
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(20):
            client.get(path.replace("{n}", str(next(counter))))
        profiler.disable()
        self.stdout.write(
            f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms per request, profiled"
        )
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(
            os.environ.get("BENCH_SORT", "cumulative")
        ).print_stats(40)
        self.stdout.write(out.getvalue())

    def _login(self, port: int, email: str = BENCH_EMAIL) -> str:
        """Log ``email`` in through the real login page; returns the Cookie header."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/accounts/login/")
        response = conn.getresponse()
        page = response.read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        cookies = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        body = urlencode(
            {"csrfmiddlewaretoken": csrf, "username": email, "password": BENCH_PASSWORD}
        )
        conn.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = conn.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        if response.status != 302 or settings.SESSION_COOKIE_NAME not in cookies:
            raise CommandError(f"login failed: {response.status}")
        return f"{settings.SESSION_COOKIE_NAME}={cookies[settings.SESSION_COOKIE_NAME]}"

    def _check(self, port: int, path: str, cookie: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise CommandError(f"{path} answered {response.status}: {body[:300]!r}")
        self.stdout.write(f"search page: {len(body):,} bytes")

    def _load(self, port, path, cookie, clients, seconds):
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        stop = time.perf_counter() + seconds

        counter = iter(range(10**9))

        def run():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine = []
            while time.perf_counter() < stop:
                t = time.perf_counter()
                url = path.replace("{n}", str(next(counter)))
                conn.request("GET", url, headers={"Cookie": cookie} if cookie else {})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    mine.append((time.perf_counter() - t) * 1000)
                else:
                    with lock:
                        errors[0] += 1
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=run) for _ in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        latencies.sort()
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
        return len(latencies) / elapsed, q[49], q[94], q[98], errors[0]
