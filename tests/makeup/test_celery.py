"""Celery: tasks take ids and re-enter the company scope; a real worker on Redis runs the
sign-up confirmation end to end (CI)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone
from django_scopes import get_scope

from bookings.models import Family
from config.celery import app as celery_app
from makeup.taskbase import CompanyTask
from makeup.tasks import housekeeping, send_email_confirmation
from tests.factories import FamilyFactory, UserFactory
from tests.processes import sending_to, start_worker, stop, unique_queue, wait_for


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
def test_housekeeping_forgets_old_log_in_records_and_sent_outbox_messages(settings):
    from axes.models import AccessLog

    from makeup.models import OutboxMessage

    settings.LOGIN_RECORDS_KEEP_DAYS, settings.OUTBOX_KEEP_DAYS = 30, 90
    now = timezone.now()
    for days, name in ((31, "old"), (29, "recent")):
        entry = AccessLog.objects.create(
            username=f"{name}@example.com", ip_address="203.0.113.5", user_agent="x"
        )
        AccessLog.objects.filter(pk=entry.pk).update(attempt_time=now - timedelta(days=days))
    for key, done in (
        ("old", now - timedelta(days=91)),
        ("recent", now - timedelta(days=89)),
        ("pending", None),
    ):
        OutboxMessage.objects.create(key=key, task="t", args=["x@example.com"], done_at=done)
    housekeeping.delay().get()
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["recent@example.com"]
    assert set(OutboxMessage.objects.values_list("key", flat=True)) == {"recent", "pending"}


@pytest.mark.django_db
def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks, entry["task"]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.realclock
@pytest.mark.django_db(transaction=True)
def test_signup_confirmation_runs_on_a_real_worker_over_redis(client, world, tmp_path):
    """A separate ``celery worker`` process, configured from the environment like production,
    takes the task from Redis and writes the e-mail into a file outbox."""
    queue = unique_queue()
    worker = start_worker(queue=queue, mail_dir=tmp_path)
    try:
        with sending_to(queue):
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
            files = wait_for(
                lambda: list(tmp_path.glob("*.log")), seconds=60, worker=worker, what="e-mail"
            )
        content = files[0].read_text()
        assert "To: rita@example.com" in content
        assert "/accounts/confirm/" in content
    finally:
        stop(worker)
