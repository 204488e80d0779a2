"""Fault (issue 8): Redis is stopped while parents book and cancel and staff take attendance.

A private ``redis-server`` is this test's broker and cache; a real Celery worker consumes
from it. With Redis down every request succeeds (the cache is a miss, the e-mails wait in
the outbox); once Redis is back the relay hands the messages over and each e-mail reaches
the family once — also when the messages are handed over twice."""

from datetime import date, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Attendance, AttendanceState, Guardian, MakeupBooking
from credits.models import CreditState, MakeupCredit
from makeup import outbox
from makeup.models import Notification, OutboxMessage, ParentContact
from makeup.outbox import mail_sent
from tests import factories as f
from tests.fake_twilio import connect
from tests.processes import (
    RedisServer,
    sending_to,
    start_worker,
    stop,
    unique_queue,
    wait_for,
)

from .conftest import add_credit

MOBILE = "+61412345678"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.realclock,
    pytest.mark.django_db(transaction=True),
]


def _notifications():
    with scopes_disabled():
        return Notification.objects.all()


def _sent(mail_dir) -> list[tuple[str, str]]:
    """(outbox key, recipient) of every e-mail the worker wrote, repeats included."""
    return sorted(mail_sent(mail_dir).elements())


@pytest.fixture
def redis(settings):
    """A private Redis as this process's cache (sessions are cached_db) and broker."""
    server = RedisServer()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "makeup.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield server
    server.stop()


@pytest.fixture
def twilio(settings, world):
    """A fake Twilio the worker reaches too (NTF-3: the make-up booked also goes by text)."""
    fake = connect(settings, world.company_a, world.owner_a, timezone.now())
    yield fake
    fake.stop()


def test_redis_down_bookings_cancellations_and_attendance_succeed_and_mail_follows_once(
    world, redis, twilio, settings, tmp_path
):
    """Redis and the SMS provider are both down: nothing is lost; once both are back each
    e-mail and each text goes out once (NTF-4)."""
    company = world.company_a
    with scopes_disabled():
        family = Guardian.objects.get(user=world.parent_a).family
        ParentContact.objects.create(
            company=company,
            email="parent.a@example.com",
            mobile=MOBILE,
            mobile_confirmed_at=timezone.now(),
        )
    today = timezone.localdate(timezone=company.tzinfo)
    programme = f.ProgrammeFactory(company=company)
    home = f.ClassFactory(programme=programme, min_age_months=0, max_age_months=240)
    host = f.ClassFactory(programme=programme, min_age_months=0, max_age_months=240)
    ava = f.EnrolmentFactory(
        klass=home, student__family=family, student__date_of_birth=date(2019, 1, 1)
    )
    lesson = f.SessionFactory(klass=home, local_date=today + timedelta(days=6))
    taught = f.SessionFactory(klass=home, local_date=today - timedelta(days=1))
    makeup = f.SessionFactory(klass=host, local_date=today + timedelta(days=3), local_time=time(16))
    credit = add_credit(ava, now=timezone.now())
    OutboxMessage.objects.all().delete()  # the set-up's own e-mails are not this test's
    _notifications().delete()

    parent, staff = Client(), Client()
    parent.force_login(world.parent_a, backend="django.contrib.auth.backends.ModelBackend")
    staff.force_login(world.staff_a, backend="django.contrib.auth.backends.ModelBackend")
    queue = unique_queue()
    twilio.down = True
    worker = start_worker(
        queue=queue,
        mail_dir=tmp_path,
        REDIS_URL=redis.url,
        TWILIO_API_URL=twilio.url,
        SITE_URL=settings.SITE_URL,
    )
    try:
        with sending_to(queue, redis.url):
            redis.stop()
            # --- Redis is down ---------------------------------------------------------
            booked = parent.post(
                f"/portal/alpha/makeups/book/{credit.pk}/{makeup.pk}/", {"note": ""}
            )
            assert booked.status_code == 302, booked.content.decode()[:500]
            cancelled = parent.post(f"/portal/alpha/lessons/{ava.pk}/{lesson.pk}/cancel/")
            assert cancelled.status_code == 302
            marked = staff.post(
                f"/manage/sessions/{taught.pk}/attendance/{ava.pk}/", {"state": "present"}
            )
            assert marked.status_code in {200, 302}
            assert parent.get("/portal/alpha/").status_code == 200  # pages still render
            with scopes_disabled():
                booking = MakeupBooking.objects.get(session=makeup)
                assert MakeupCredit.objects.get(pk=credit.pk).state == CreditState.USED
                states = dict(
                    Attendance.objects.filter(enrolment=ava).values_list("session_id", "state")
                )
            assert states == {
                lesson.pk: AttendanceState.CANCELLED,
                taught.pk: AttendanceState.PRESENT,
            }
            waiting = set(OutboxMessage.objects.values_list("key", flat=True))
            with scopes_disabled():
                new_credit = MakeupCredit.objects.get(attendance__session=lesson)
            # The booking's confirmation and the cancellation's credit (CRD-5) wait.
            assert waiting == {f"makeup-booked:{booking.pk}", f"credit-issued:{new_credit.pk}"}
            assert not OutboxMessage.objects.filter(relayed_at__isnull=False).exists()
            assert _sent(tmp_path) == []

            # --- Redis is back: the relay (beat, every 30 s) hands the messages over ----
            redis.start()
            with time_machine.travel(timezone.now() + outbox.FAST_PATH_GRACE, tick=True):
                assert outbox.relay_due() == len(waiting)
            # Each message tells the family through the notification service: one e-mail
            # each, and the booking also a text, which waits while the provider is down.
            wait_for(
                lambda: _notifications().count() == 3 and len(_sent(tmp_path)) == 2,
                seconds=90,
                worker=worker,
                what=f"the e-mails (so far {_sent(tmp_path)})",
            )
            emails = _notifications().filter(channel="email")
            expected = sorted((f"notification:{n.pk}", n.recipient) for n in emails)
            assert _sent(tmp_path) == expected
            assert {n.kind for n in emails} == {"makeup_booked", "credit_issued"}
            text = _notifications().get(channel="sms")
            wait_for(
                lambda: "503" in _notifications().get(pk=text.pk).error,
                seconds=30,
                worker=worker,
                what="the text failing while the provider is down",
            )
            assert twilio.sent == []

            # --- The provider is back: the relay retries the text after its backoff -----
            twilio.down = False
            with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=True):
                assert outbox.relay_due() >= 1
            wait_for(
                lambda: _notifications().get(pk=text.pk).state == "sent",
                seconds=60,
                worker=worker,
                what="the text sent once the provider is back",
            )
            # Handed over again (a second relay, a redelivery): still one e-mail each.
            waiting |= set(OutboxMessage.objects.values_list("key", flat=True))
            outbox.publish(sorted(waiting))
            wait_for(
                lambda: OutboxMessage.objects.filter(done_at__isnull=True).count() == 0,
                seconds=30,
                worker=worker,
                what="every message done",
            )
            time_to_settle = timezone.now() + timedelta(seconds=3)
            wait_for(lambda: timezone.now() > time_to_settle, seconds=10, what="settling")
            assert _sent(tmp_path) == expected
            assert [m["To"] for m in twilio.sent] == [MOBILE]  # the text, once
    finally:
        stop(worker)
    call_command("check_invariants", "--mail-dir", str(tmp_path), stdout=StringIO())
    with scope(company=company):
        assert MakeupBooking.objects.filter(state=MakeupBooking.State.BOOKED).count() == 1
