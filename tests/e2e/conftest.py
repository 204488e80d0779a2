"""Browser tests: Playwright driving Debian's Chromium (no browser download: no internet)."""

import os
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

# The live server thread and Playwright's sync API share the test's thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def artifacts_dir() -> Path:
    """Screenshots go outside the repository (CI keeps them as artifacts)."""
    path = Path(os.environ.get("ARTIFACTS_DIR", "/tmp/makeup-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


#: On PostgreSQL the demo is seeded once per run and its rows kept in this schema; each
#: test copies them back (a second instead of the 15 s ``seed_demo`` takes).
SNAPSHOT_SCHEMA = "e2e_demo_snapshot"
_snapshot: dict[str, bool] = {}


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _snapshot_take() -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
        for table in _tables():
            cursor.execute(f"CREATE TABLE {SNAPSHOT_SCHEMA}.{quote(table)} AS TABLE {quote(table)}")


def _snapshot_restore() -> None:
    """Empty every table (the flush after the test before left content types and
    permissions), copy the seeded rows back in one transaction (Django's foreign keys on
    PostgreSQL are checked at the commit), set every sequence past the copied ids, and
    forget the content types Django kept in memory. (The page cache has a prefix of its
    own in every test: tests/conftest.py.) Table names come from Django's introspection,
    never from input."""
    quote = connection.ops.quote_name
    tables = _tables()
    resets = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in tables)} CASCADE")
        for table in tables:
            source = f"{SNAPSHOT_SCHEMA}.{quote(table)}"
            cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {source}")  # noqa: S608
        for sql in resets:
            cursor.execute(sql)
    ContentType.objects.clear_cache()


@pytest.fixture
def demo(transactional_db):
    """The demo data (``seed_demo``), fresh for each test."""
    if connection.vendor != "postgresql":
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        return
    if _snapshot.get(connection.settings_dict["NAME"]):
        _snapshot_restore()
        return
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    _snapshot_take()
    _snapshot[connection.settings_dict["NAME"]] = True
