"""The notification service (NTF-1…NTF-4): channels by kind, company and parent; exactly
once per (kind, object, recipient, channel); one-click unsubscribe; texts through Twilio's
client against a local fake of its API; STOP; delivery status."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django_scopes import scope, scopes_disabled
from twilio.request_validator import RequestValidator

from bookings.models import Guardian
from credits.services import credit_add_manual
from makeup import outbox
from makeup.errors import DomainError
from makeup.models import Notification, OutboxMessage, SmsOptOut
from makeup.notifications.kinds import Channel, Group, Kind
from makeup.notifications.services import (
    channels_for,
    mobile_code_send,
    mobile_confirm,
    notify_family,
    preferences_set,
)
from tests import factories as f
from tests.fake_twilio import TOKEN, connect

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MOBILE = "+61412345678"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def family(world):
    with scopes_disabled():
        return Guardian.objects.get(user=world.parent_a).family


@pytest.fixture
def twilio(settings, world):
    fake = connect(settings, world.company_a, world.owner_a, NOW)
    yield fake
    fake.stop()


def _tell(world, family, kind=Kind.WATCH_OFFER, about="thing:1", capture=None):
    with scope(company=world.company_a):
        return notify_family(
            kind=kind,
            company=world.company_a,
            family_id=family.pk,
            about=about,
            context={"student": None, "session": None, "expires_at": NOW, "url": "/x/"},
            now=NOW,
        )


def _confirm_mobile(world, twilio, capture):
    with scope(company=world.company_a), capture(execute=True):
        mobile_code_send(
            company=world.company_a,
            email="parent.a@example.com",
            user=world.parent_a,
            mobile="+61 412 345 678",
            now=NOW,
        )
    code = twilio.sent[-1]["Body"].rsplit(" ", 1)[-1]
    with scope(company=world.company_a):
        mobile_confirm(company=world.company_a, email="parent.a@example.com", code=code, now=NOW)
    return code


def _signed_post(client, url, params):
    signature = RequestValidator(TOKEN).compute_signature("https://school.example" + url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


# --- NTF-1 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ntf_1_a_credit_issued_is_e_mailed_to_each_parent_through_the_service(
    world, family, frozen, django_capture_on_commit_callbacks
):
    f.GuardianFactory(family=family, email="second@example.com", user=None, full_name="Sam")
    with scopes_disabled():
        enrolment = f.EnrolmentFactory(
            klass__programme__company=world.company_a, student__family=family
        )
    with scope(company=world.company_a), django_capture_on_commit_callbacks(execute=True):
        credit_add_manual(enrolment=enrolment, reason="Pool closed", actor=None, now=NOW)
    assert sorted(m.to[0] for m in mail.outbox) == ["parent.a@example.com", "second@example.com"]
    with scopes_disabled():
        rows = Notification.objects.filter(kind=Kind.CREDIT_ISSUED)
        assert {(r.channel, r.state) for r in rows} == {(Channel.EMAIL, Notification.State.SENT)}
        assert rows.count() == 2
    assert all(m.extra_headers["X-Notification"].startswith("credit_issued:") for m in mail.outbox)


@pytest.mark.django_db
def test_ntf_1_no_text_without_a_provider_or_a_confirmed_mobile(world, family):
    with scope(company=world.company_a):
        contact = preferences_set(
            company=world.company_a,
            email="parent.a@example.com",
            user=world.parent_a,
            choices={group: {"email": True, "sms": True} for group in Group.values},
            now=NOW,
        )
    assert channels_for(kind=Kind.WATCH_OFFER, contact=contact, sms_ready=False) == ["email"]
    rows = _tell(world, family)
    assert [row.channel for row in rows] == [Channel.EMAIL]


@pytest.mark.django_db
def test_ntf_1_a_mobile_number_is_confirmed_by_a_code_sent_by_text(
    world, twilio, django_capture_on_commit_callbacks
):
    with scope(company=world.company_a), django_capture_on_commit_callbacks(execute=True):
        number = mobile_code_send(
            company=world.company_a,
            email="parent.a@example.com",
            user=world.parent_a,
            mobile="0061 412 345 678",
            now=NOW,
        )
    assert number == MOBILE and len(twilio.sent) == 1 and twilio.sent[0]["To"] == MOBILE
    code = twilio.sent[0]["Body"].rsplit(" ", 1)[-1]
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match="not right"):
            wrong = "000000" if code != "000000" else "111111"
            mobile_confirm(
                company=world.company_a, email="parent.a@example.com", code=wrong, now=NOW
            )
        with pytest.raises(DomainError, match="expired"):
            mobile_confirm(
                company=world.company_a,
                email="parent.a@example.com",
                code=code,
                now=NOW + timedelta(minutes=16),
            )
        contact = mobile_confirm(
            company=world.company_a, email="parent.a@example.com", code=code, now=NOW
        )
        assert contact.mobile == MOBILE and contact.mobile_confirmed_at == NOW
        # The code is not kept once it was sent.
        assert Notification.objects.get(kind=Kind.MOBILE_CODE).body == ""


# --- NTF-2 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ntf_2_essential_email_cannot_be_switched_off(world, family):
    with scope(company=world.company_a):
        contact = preferences_set(
            company=world.company_a,
            email="parent.a@example.com",
            user=world.parent_a,
            choices={group: {"email": False, "sms": False} for group in Group.values},
            now=NOW,
        )
    for kind in (Kind.MAKEUP_BOOKED, Kind.WATCH_BOOKED, Kind.CLOSURE_NOTICE):
        assert channels_for(kind=kind, contact=contact, sms_ready=True) == ["email"]
    for kind in (Kind.WATCH_OFFER, Kind.LESSON_REMINDER, Kind.CREDIT_ISSUED):
        assert channels_for(kind=kind, contact=contact, sms_ready=True) == []
    assert _tell(world, family, kind=Kind.LESSON_REMINDER) == []


@pytest.mark.django_db
def test_ntf_2_non_essential_email_carries_a_one_click_unsubscribe(
    client, world, family, frozen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _tell(world, family, kind=Kind.WATCH_OFFER, about="offer:1")
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in message.alternatives[0][0]  # and a link at the foot of the e-mail
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200  # a link scanner changes nothing
    assert _tell(world, family, kind=Kind.WATCH_OFFER, about="offer:2")  # still e-mailed
    response = client.post(f"/{path}", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _tell(world, family, kind=Kind.WATCH_OFFER, about="offer:3") == []
    # Essential messages carry no unsubscribe link and still come.
    with django_capture_on_commit_callbacks(execute=True):
        rows = _tell(world, family, kind=Kind.CLOSURE_NOTICE, about="closure:1")
    assert [r.unsubscribe_url for r in rows] == [""]
    assert "List-Unsubscribe" not in mail.outbox[-1].extra_headers
    assert client.post(f"/{path[:-3]}xx/").status_code == 404  # a tampered link


@pytest.mark.django_db
def test_ntf_2_stop_by_text_opts_the_number_out(
    client, world, family, twilio, frozen, django_capture_on_commit_callbacks
):
    _confirm_mobile(world, twilio, django_capture_on_commit_callbacks)
    url = "/notifications/twilio/alpha/inbound/"
    params = {"From": MOBILE, "Body": "Stop", "MessageSid": "SMx"}
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE="forged").status_code == 403
    with scopes_disabled():
        assert not SmsOptOut.objects.exists()
    assert _signed_post(client, url, params).status_code == 200
    with scopes_disabled():
        assert SmsOptOut.objects.get().mobile == MOBILE
    assert [r.channel for r in _tell(world, family)] == [Channel.EMAIL]
    assert _signed_post(client, url, {**params, "Body": "START"}).status_code == 200
    assert [r.channel for r in _tell(world, family, about="thing:2")] == ["email", "sms"]


# --- NTF-3 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ntf_3_time_critical_kinds_go_by_text_and_e_mail_where_allowed(
    world, family, twilio, frozen, django_capture_on_commit_callbacks
):
    _confirm_mobile(world, twilio, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        rows = _tell(world, family, kind=Kind.WATCH_OFFER, about="offer:9")
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    texts = [m for m in twilio.sent if m["To"] == MOBILE and "Alpha Swim" in m["Body"]]
    assert len(texts) == 2  # the code, then the offer
    assert (
        texts[-1]["StatusCallback"] == "https://school.example/notifications/twilio/alpha/status/"
    )
    assert len(mail.outbox) == 1
    # A kind that is not time-critical stays off texts unless the parent chose them.
    with django_capture_on_commit_callbacks(execute=True):
        rows = _tell(world, family, kind=Kind.CREDIT_ISSUED, about="credit:9")
    assert [r.channel for r in rows] == ["email"]


# --- NTF-4 ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ntf_4_exactly_once_per_kind_object_recipient_and_channel(
    world, family, frozen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _tell(world, family, about="offer:1")
        second = _tell(world, family, about="offer:1")
        third = _tell(world, family, kind=Kind.CLOSURE_NOTICE, about="offer:1")
    assert len(first) == 1 and second == [] and len(third) == 1
    assert len(mail.outbox) == 2
    with scopes_disabled():
        assert OutboxMessage.objects.filter(task="makeup.tasks.send_notification").count() == 2
    key = f"notification:{first[0].pk}"
    assert outbox.deliver.delay(key).get() == "duplicate"
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_ntf_4_a_provider_failure_is_kept_retried_and_the_status_callback_recorded(
    client, world, family, twilio, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        _confirm_mobile(world, twilio, django_capture_on_commit_callbacks)
        twilio.fail_next(503)
        with django_capture_on_commit_callbacks(execute=True):
            rows = _tell(world, family, about="offer:5")
    sms_row = next(r for r in rows if r.channel == Channel.SMS)
    with scopes_disabled():
        sms_row.refresh_from_db()
        assert sms_row.state == Notification.State.QUEUED and "503" in sms_row.error
        waiting = OutboxMessage.objects.get(key=f"notification:{sms_row.pk}")
        assert waiting.attempts == 1 and waiting.done_at is None
    # Past the backoff and the redelivery window: handed over again, it goes out once.
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        assert outbox.relay_due() >= 1
    with scopes_disabled():
        sms_row.refresh_from_db()
    assert sms_row.state == Notification.State.SENT and sms_row.provider_id.startswith("SM")
    assert sum(1 for m in twilio.sent if m["sid"] == sms_row.provider_id) == 1
    status = "/notifications/twilio/alpha/status/"
    params = {"MessageSid": sms_row.provider_id, "MessageStatus": "delivered"}
    assert client.post(status, params).status_code == 403  # unsigned
    assert _signed_post(client, status, params).status_code == 204
    with scopes_disabled():
        sms_row.refresh_from_db()
    assert sms_row.state == Notification.State.DELIVERED
    failed = {**params, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert _signed_post(client, status, failed).status_code == 204
    with scopes_disabled():
        sms_row.refresh_from_db()
    assert sms_row.state == Notification.State.FAILED and "30003" in sms_row.error


@pytest.mark.django_db
def test_ntf_4_a_refused_number_fails_at_once_with_the_reason(
    world, family, twilio, frozen, django_capture_on_commit_callbacks
):
    _confirm_mobile(world, twilio, django_capture_on_commit_callbacks)
    twilio.fail_next(400, 21211)
    with django_capture_on_commit_callbacks(execute=True):
        rows = _tell(world, family, about="offer:6")
    sms_row = next(r for r in rows if r.channel == Channel.SMS)
    with scopes_disabled():
        sms_row.refresh_from_db()
        assert sms_row.state == Notification.State.FAILED and "21211" in sms_row.error
        assert OutboxMessage.objects.get(key=f"notification:{sms_row.pk}").done_at is not None


@pytest.mark.django_db
def test_ntf_3_a_lesson_the_school_cancelled_goes_by_text_too(
    world, family, twilio, frozen, django_capture_on_commit_callbacks
):
    from bookings.services import session_cancel

    _confirm_mobile(world, twilio, django_capture_on_commit_callbacks)
    with scopes_disabled():
        enrolment = f.EnrolmentFactory(
            klass__programme__company=world.company_a,
            student__family=family,
            start_date=NOW.date() - timedelta(days=30),
        )
        session = f.SessionFactory(klass=enrolment.klass, local_date=NOW.date() + timedelta(days=2))
    with scope(company=world.company_a), django_capture_on_commit_callbacks(execute=True):
        session_cancel(session=session, reason="Pool closed", now=NOW)
    with scopes_disabled():
        rows = Notification.objects.filter(kind=Kind.LESSON_CANCELLED_CREDIT)
        assert sorted(rows.values_list("channel", flat=True)) == ["email", "sms"]
    assert "cancelled" in twilio.sent[-1]["Body"] and twilio.sent[-1]["To"] == MOBILE
    assert "The school cancelled this lesson: Pool closed." in mail.outbox[-1].body


@pytest.mark.django_db
def test_ntf_3_a_lesson_the_school_cancelled_without_a_credit_is_told_too(
    world, family, twilio, frozen, django_capture_on_commit_callbacks
):
    """The programme's policy gives no credit when the school cancels: the family still
    hears of the cancelled lesson, by text and by e-mail, once."""
    from bookings.services import session_cancel
    from credits.models import CancellationPolicy, CreditDecision

    _confirm_mobile(world, twilio, django_capture_on_commit_callbacks)
    with scopes_disabled():
        enrolment = f.EnrolmentFactory(
            klass__programme__company=world.company_a,
            student__family=family,
            start_date=NOW.date() - timedelta(days=30),
        )
        CancellationPolicy.objects.update_or_create(
            company=world.company_a,
            programme=enrolment.klass.programme,
            defaults={"issue_staff": False},
        )
        session = f.SessionFactory(klass=enrolment.klass, local_date=NOW.date() + timedelta(days=2))
    texts = len(twilio.sent)
    with scope(company=world.company_a), django_capture_on_commit_callbacks(execute=True):
        session_cancel(session=session, reason="Pool closed", now=NOW)
    with scopes_disabled():
        assert CreditDecision.objects.get(attendance__session=session).credit is None
        assert not Notification.objects.filter(kind=Kind.LESSON_CANCELLED_CREDIT).exists()
        rows = Notification.objects.filter(kind=Kind.LESSON_CANCELLED)
        assert sorted(rows.values_list("channel", flat=True)) == ["email", "sms"]
    assert len(twilio.sent) == texts + 1
    assert "No make-up credit comes with it" in twilio.sent[-1]["Body"]
    assert "The reason: Pool closed." in mail.outbox[-1].body
    assert "gives no make-up credit" in mail.outbox[-1].body


@pytest.mark.django_db
def test_ntf_4_an_e_mail_the_server_refuses_fails_and_one_it_cannot_take_now_waits(
    world, family, frozen, monkeypatch, django_capture_on_commit_callbacks
):
    from smtplib import SMTPRecipientsRefused

    from django.core.mail.backends.locmem import EmailBackend

    failure = {"error": SMTPRecipientsRefused({"parent.a@example.com": (550, b"No such user")})}

    def refuse(self, messages):
        raise failure["error"]

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        refused = _tell(world, family, about="offer:7")[0]
    failure["error"] = ConnectionRefusedError("mail server down")
    with django_capture_on_commit_callbacks(execute=True):
        waiting = _tell(world, family, about="offer:8")[0]
    with scopes_disabled():
        refused.refresh_from_db()
        waiting.refresh_from_db()
        assert refused.state == Notification.State.FAILED and "No such user" in refused.error
        assert waiting.state == Notification.State.QUEUED and "mail server down" in waiting.error
        assert OutboxMessage.objects.get(key=f"notification:{waiting.pk}").done_at is None


@pytest.mark.django_db
def test_ntf_4_housekeeping_forgets_old_messages_but_not_one_still_waiting(world, family, settings):
    from makeup.tasks import housekeeping

    settings.OUTBOX_KEEP_DAYS = 90
    old = NOW - timedelta(days=91)
    rows = _tell(world, family, about="old:1") + _tell(world, family, about="old:2")
    with scopes_disabled():
        Notification.objects.filter(pk=rows[0].pk).update(
            created_at=old, state=Notification.State.SENT
        )
        Notification.objects.filter(pk=rows[1].pk).update(created_at=old)  # still waiting
        with time_machine.travel(NOW, tick=False):
            housekeeping.delay().get()
        assert list(Notification.objects.values_list("about", flat=True)) == ["old:2"]


@pytest.mark.django_db
def test_ntf_2_twilio_webhooks_of_a_company_without_a_provider_are_404(client, world):
    assert client.post("/notifications/twilio/alpha/inbound/", {"Body": "STOP"}).status_code == 404
    assert client.post("/notifications/twilio/nobody/status/", {}).status_code == 404
    assert client.get("/notifications/twilio/alpha/status/").status_code == 405
