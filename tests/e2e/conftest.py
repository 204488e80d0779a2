"""Browser tests: Playwright driving Debian's Chromium (no browser download: no internet)."""

import os
from pathlib import Path

import pytest

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


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
