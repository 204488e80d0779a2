"""Shared fixtures: two companies with an owner, an admin and a staff member each, a parent
of company A, and Celery in eager mode (a real worker runs only in ``redis`` tests).

Markers: ``postgres`` and ``redis`` tests need those services; without them they are skipped
on a laptop, and with ``CI=true`` any skipped test fails the run.
"""

import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from makeup.models import Company, Role, User

from .factories import CompanyFactory, GuardianFactory, MembershipFactory

CHROMIUM = "/usr/bin/chromium"


def _database_label() -> str:
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    where = db.get("HOST") or db["NAME"]
    return f"{engine} ({where})"


def pytest_report_header(config):
    broker = settings.CELERY_BROKER_URL.split("@")[-1]
    return [
        f"database: {_database_label()}",
        f"celery broker: {broker}",
        f"chromium: {'yes' if os.path.exists(CHROMIUM) else 'missing'}",
    ]


def pytest_collection_modifyitems(config, items):
    is_postgres = connection.vendor == "postgresql"
    has_redis = bool(settings.REDIS_URL)
    has_chromium = os.path.exists(CHROMIUM)
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))
        if "e2e" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}"))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI", "").lower() not in {"1", "true", "yes"}:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; in CI a skip is a failure.", red=True)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"database used: {_database_label()}")


# The instant every test starts at (Sat 21 Nov 2026, 11:00 in Sydney). The suite never
# depends on the day it runs: CI also runs it with the machine's clock a year ahead.
FROZEN_NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock(request):
    """Every test runs with the clock at :data:`FROZEN_NOW` (ticking from there, so timeouts
    still pass), so data built from ``timezone.now()`` and fixed dates agree on any day.

    Not for browser tests (Chromium keeps its own clock for cookies) nor tests marked
    ``realclock`` (they start real processes — a Celery worker, pg_dump — that share no clock
    with this one): those build their data relative to the real ``now``."""
    if "e2e" in request.keywords or "realclock" in request.keywords:
        yield None
        return
    with time_machine.travel(FROZEN_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_real_stripe(settings):
    """No test reaches Stripe: its API is a closed local port unless a test starts the fake
    of Stripe's HTTP API (tests/fake_stripe.py) and points the library there."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run inline (pytest-django's ``settings`` fixture does not reach Celery's
    loaded config, so set it on the app)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_data_cache(settings, request):
    """The page cache (makeup.datacache) retires entries when a transaction commits, and most
    tests never commit: it is on only for tests marked ``datacache`` (which run with real
    commits) and browser tests. Each test gets its own namespace: ids are reused between
    tests on SQLite, and Redis outlives the run."""
    settings.DATA_CACHE_PREFIX = f"t{uuid.uuid4().hex[:10]}"
    keywords = request.keywords
    settings.DATA_CACHE_ENABLED = "datacache" in keywords or "e2e" in keywords


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate limits (makeup.ratelimit) count in the cache, which outlives a test (locmem in
    this process, Redis across runs): each test counts in its own namespace."""
    settings.RATE_LIMIT_PREFIX = f"rl{uuid.uuid4().hex[:10]}"


@pytest.fixture(autouse=True)
def _no_axes_by_default(settings, request):
    """Login rate limiting is tested on its own; other tests log in freely."""
    if "axes" not in request.keywords:
        settings.AXES_ENABLED = False


@dataclass
class World:
    company_a: Company
    company_b: Company
    owner_a: User
    admin_a: User
    staff_a: User
    parent_a: User
    owner_b: User
    staff_b: User


@pytest.fixture
def world(db) -> World:
    a = CompanyFactory(name="Alpha Swim", slug="alpha")
    b = CompanyFactory(name="Beta Swim", slug="beta")
    people = {}
    for key, company, role in [
        ("owner_a", a, Role.OWNER),
        ("admin_a", a, Role.ADMIN),
        ("staff_a", a, Role.STAFF),
        ("owner_b", b, Role.OWNER),
        ("staff_b", b, Role.STAFF),
    ]:
        people[key] = MembershipFactory(
            company=company, role=role, user__email=f"{key.replace('_', '.')}@example.com"
        ).user
    # A fixed name: a random one could match what a search test looks for ("oliv").
    people["parent_a"] = GuardianFactory(
        family__company=a,
        family__name="Parker",
        full_name="Pat Parker",
        user__email="parent.a@example.com",
        user__full_name="Pat Parker",
    ).user
    return World(company_a=a, company_b=b, **people)


@pytest.fixture
def login(client):
    """``login(user)`` logs the test client in as ``user``."""

    def _login(user: User):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


@pytest.fixture
def no_scope():
    with scopes_disabled():
        yield


@pytest.fixture
def count_compilations(monkeypatch):
    """``count_compilations() -> list``: from now on, the model of every query Django turns
    into SQL is added to the list (a shape, makeup.shapes, compiles once per worker)."""

    def start() -> list:
        calls = []
        original = SQLCompiler.as_sql

        def counted(self, *args, **kwargs):
            calls.append(self.query.model)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(SQLCompiler, "as_sql", counted)
        return calls

    return start


@pytest.fixture
def page_queries():
    """``page_queries(client, url) -> (queries, response)``: GET ``url``, expect a 200 and
    count its database queries (``response.elapsed_seconds`` says how long it took). The one
    helper of the fixed-query-count tests: a page costs the same with 1 row as with 50."""

    def measure(client, url: str):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        response.elapsed_seconds = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return len(captured.captured_queries), response

    return measure
