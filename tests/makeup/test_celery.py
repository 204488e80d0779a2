"""Celery: tasks take ids and re-enter the company scope; a real worker on Redis runs the
sign-up confirmation end to end (CI)."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import get_scope

from bookings.models import Family
from makeup.celery import CompanyTask
from makeup.celery import app as celery_app
from makeup.tasks import housekeeping, send_email_confirmation
from tests.factories import FamilyFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


@celery_app.task(base=CompanyTask, name="tests.count_families")
def count_families(company) -> tuple[int, int]:
    return get_scope()["company"].pk, Family.objects.count()


@pytest.mark.django_db
def test_company_task_re_enters_the_scope_from_an_id(world):
    FamilyFactory.create_batch(2, company=world.company_b)
    company_id, count = count_families.delay(world.company_b.pk).get()
    assert company_id == world.company_b.pk
    assert count == 2  # only company B's families (plus none of A's)
    assert get_scope() == {}  # nothing leaks out of the task


@pytest.mark.django_db
def test_company_task_for_a_deleted_company_is_a_no_op(world):
    assert count_families.delay(987654).get() is None


@pytest.mark.django_db
def test_confirmation_task_skips_an_already_confirmed_user(world):
    user = UserFactory()  # confirmed by the factory
    assert send_email_confirmation.delay(world.company_a.pk, user.pk).get() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_housekeeping_drops_expired_sessions():
    Session.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="new", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    housekeeping.delay().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks, entry["task"]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_signup_confirmation_runs_on_a_real_worker_over_redis(client, world, tmp_path):
    """A separate ``celery worker`` process, configured from the environment like production,
    takes the task from Redis and writes the e-mail into a file outbox."""
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EMAIL_URL": f"filemail://{outbox}",
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "makeup",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.task_always_eager = False
    old_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        response = client.post(
            "/portal/alpha/signup/",
            {
                "full_name": "Rita Redis",
                "email": "rita@example.com",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 60
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            assert worker.poll() is None, worker.stdout.read()
            files = list(outbox.glob("*.log"))
            time.sleep(0.3)
        if not files:
            worker.terminate()
            pytest.fail("no e-mail within 60 s; worker said:\n" + worker.communicate()[0])
        content = files[0].read_text()
        assert "To: rita@example.com" in content
        assert "/accounts/confirm/" in content
    finally:
        celery_app.conf.task_default_queue = old_queue
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.django_db
def test_a_broker_that_is_down_does_not_break_a_committed_write(
    client, world, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(send_email_confirmation, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portal/alpha/signup/",
            {
                "full_name": "Bo Broker",
                "email": "bo@example.com",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
    assert response.status_code == 200 and b"Check your e-mail" in response.content
    from makeup.models import User

    assert User.objects.filter(email="bo@example.com").exists()
    assert "Could not queue makeup.tasks.send_email_confirmation" in caplog.text
