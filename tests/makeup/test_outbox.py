"""The transactional outbox (makeup.outbox): a message is written with the change that wants
it, survives a broker that is down, and is delivered once however often it is handed over."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from makeup import outbox
from makeup.models import OutboxMessage, User
from makeup.tasks import send_email_confirmation

RESET = "makeup.tasks.send_password_reset"

SIGNUP = {
    "full_name": "Bo Broker",
    "email": "bo@example.com",
    "password1": "a-long-pass-phrase",
    "password2": "a-long-pass-phrase",
}


@pytest.fixture
def broker_down(monkeypatch):
    """``deliver.apply_async`` raises like kombu does when Redis refuses the connection;
    ``broker_down.up()`` brings it back."""
    real = outbox.deliver.apply_async

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(outbox.deliver, "apply_async", refuse)

    class Switch:
        @staticmethod
        def up():
            monkeypatch.setattr(outbox.deliver, "apply_async", real)

    return Switch


def _mail(n: int = 1) -> list[str]:
    return [",".join(message.to) for message in mail.outbox[:n]]


@pytest.mark.django_db
def test_a_broker_that_is_down_delays_the_e_mail_and_loses_nothing(
    client, world, broker_down, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/alpha/signup/", SIGNUP)
    assert response.status_code == 200 and b"Check your e-mail" in response.content
    assert User.objects.filter(email="bo@example.com").exists()
    assert "broker unavailable" in caplog.text
    row = OutboxMessage.objects.get()
    assert row.task == send_email_confirmation.name and row.relayed_at is None
    assert row.company_id == world.company_a.pk
    assert mail.outbox == []

    assert outbox.relay_due() == 0  # still down, still due: nothing lost
    broker_down.up()
    assert outbox.relay_due() == 0  # the fast path's grace is not over yet
    with time_machine.travel(timezone.now() + outbox.FAST_PATH_GRACE, tick=False):
        assert outbox.relay_due() == 1
        assert outbox.relay_due() == 0  # handed over: not again within the redelivery window
    assert _mail() == ["bo@example.com"] and len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers[outbox.HEADER] == row.key
    row.refresh_from_db()
    assert row.done_at is not None and row.relayed_at is not None


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_message(world, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.enqueue(RESET, "owner.a@example.com", "en")
        raise RuntimeError("the booking failed after asking for its e-mail")
    assert callbacks == [] and not OutboxMessage.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_the_idempotency_key_writes_one_message_and_delivers_it_once(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            outbox.enqueue(RESET, "owner.a@example.com", "en", key="greeting:1")
    assert OutboxMessage.objects.count() == 1
    assert len(mail.outbox) == 1  # both enqueues handed the key over; one delivery ran
    # A redelivered message (the relay and the fast path both, a Redis restart) is a no-op.
    assert outbox.deliver.delay("greeting:1").get() == "duplicate"
    assert outbox.deliver.delay("no-such-key").get() == "missing"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_message_handed_over_but_never_done_is_handed_over_again(
    world, monkeypatch, django_capture_on_commit_callbacks, settings
):
    """Redis restarted and lost its queue: the relay hands the message over again after
    OUTBOX_REDELIVER_AFTER, and it is delivered once."""
    settings.OUTBOX_REDELIVER_AFTER = 600
    lost = []
    real = outbox.deliver.apply_async

    def lose_first(*args, **kwargs):
        if not lost:
            lost.append(kwargs["args"][0])  # accepted by the broker, then lost
            return None
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox.deliver, "apply_async", lose_first)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(RESET, "owner.a@example.com", "en")
    assert mail.outbox == [] and OutboxMessage.objects.get().relayed_at is not None
    later = timezone.now() + timedelta(seconds=599)
    with time_machine.travel(later, tick=False):
        assert outbox.relay_due() == 0
    with time_machine.travel(later + timedelta(seconds=2), tick=False):
        assert outbox.relay_due() == 1
        assert outbox.relay_due() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failing_delivery_backs_off_and_is_retried_until_done(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.mail.backends.locmem import EmailBackend

    calls = []
    real_send = EmailBackend.send_messages

    def smtp_down_once(self, messages):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("mail server down")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", smtp_down_once)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(RESET, "owner.a@example.com", "en")
    row = OutboxMessage.objects.get()
    assert row.done_at is None and row.attempts == 1
    assert "mail server down" in row.last_error
    assert row.due_at >= timezone.now() + timedelta(seconds=59)  # 1 minute backoff
    assert outbox.relay_due() == 0
    with time_machine.travel(row.due_at, tick=False):
        assert outbox.relay_due() == 1
    row.refresh_from_db()
    assert row.done_at is not None and len(mail.outbox) == 1


@pytest.mark.django_db
def test_check_invariants_names_a_message_never_sent_and_one_e_mailed_twice(
    world, broker_down, django_capture_on_commit_callbacks, tmp_path
):
    with django_capture_on_commit_callbacks(execute=True):
        key = outbox.enqueue(RESET, "owner.a@example.com", "en")
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=121), tick=False),
        pytest.raises(CommandError, match=f"outbox {key}: not sent after 120 s"),
    ):
        call_command("check_invariants", stdout=StringIO())
    OutboxMessage.objects.update(done_at=timezone.now())
    twice = (
        f"{outbox.HEADER}: {key}\nTo: owner.a@example.com\nSubject: Hi\n\nbody\n" + "-" * 79 + "\n"
    ) * 2
    (tmp_path / "1.log").write_text(twice)
    with pytest.raises(
        CommandError, match=f"outbox {key}: e-mailed 2 times to owner.a@example.com"
    ):
        call_command("check_invariants", "--mail-dir", str(tmp_path), stdout=StringIO())
    (tmp_path / "1.log").write_text(twice.split("-" * 79)[0])
    out = StringIO()
    call_command("check_invariants", "--mail-dir", str(tmp_path), stdout=out)
    assert "outbox e-mails read: 1" in out.getvalue()


@pytest.mark.django_db
def test_relay_outbox_command_hands_over_and_reports(
    world, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(RESET, "owner.a@example.com", "en")
    out = StringIO()
    call_command("relay_outbox", "--status", stdout=out)
    assert "pending: 1" in out.getvalue() and "done: 0" in out.getvalue()
    broker_down.up()
    with time_machine.travel(timezone.now() + outbox.FAST_PATH_GRACE, tick=False):
        call_command("relay_outbox", stdout=out)
    assert "handed over: 1" in out.getvalue() and len(mail.outbox) == 1
    out = StringIO()
    call_command("relay_outbox", "--status", stdout=out)
    assert "pending: 0" in out.getvalue() and "done: 1" in out.getvalue()


def test_enqueue_names_its_task_and_a_wrong_name_fails_at_once(db):
    """Services name tasks instead of importing them (no service depends on a tasks
    module); a misspelt name is refused when the message is written, not at delivery."""
    with pytest.raises(LookupError, match="credits.tasks.send_nothing"):
        outbox.enqueue("credits.tasks.send_nothing", 1)
    assert not OutboxMessage.objects.exists()
