"""API-4: webhooks — owners register HTTPS endpoints per event; each event is written in the
transaction of its change and delivered through the outbox, signed (HMAC-SHA256 over the
timestamp and the body), retried with back-off, listed with its last status, sent again from
the page. A local receiver (a threaded HTTP server on 127.0.0.1) checks every signature."""

import hashlib
import hmac
import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from api.models import WebhookDelivery, WebhookEndpoint
from api.services import (
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_verify,
    webhooks_send_due,
)
from api.services.webhooks import BACKOFF, MAX_ATTEMPTS, webhook_deliveries_prune
from bookings.models import AttendanceState
from bookings.services import attendance_set_state, enrolment_withdraw, session_cancel
from credits.services import credit_add_manual, credits_claim_reminders, credits_expire_due
from makeup.errors import DomainError
from makeups.services import closure_apply_request, makeup_book, makeup_cancel, makeup_move
from programmes.services import closure_create
from tests import factories as f

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver on 127.0.0.1: answers each POST with the next of ``statuses``
    (then 200), checks its ``Webhook-Signature`` with ``secret`` — on its own, as a school's
    system would, not with the code under test — and records what came."""

    def __init__(self) -> None:
        self.secret = ""
        self.statuses: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.record(self.headers, body)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, headers, body: bytes) -> None:
        fields = dict(part.split("=", 1) for part in headers["Webhook-Signature"].split(","))
        expected = hmac.new(
            self.secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        self.received.append(
            {
                "event": json.loads(body),
                "timestamp": int(fields["t"]),
                "valid": hmac.compare_digest(expected, fields["v1"]),
                "event_id": headers["Webhook-Id"],
                "header": headers["Webhook-Signature"],
                "body": body,
            }
        )

    def types(self) -> list[str]:
        return [item["event"]["type"] for item in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = True  # plain http to this machine, as on a laptop
    server = Receiver()
    yield server
    server.close()


def _endpoint(company, owner, receiver, events) -> WebhookEndpoint:
    with scopes_disabled():
        endpoint, secret = webhook_endpoint_create(
            company=company, url=receiver.url, events=events, actor=owner, now=timezone.now()
        )
    receiver.secret = secret
    return endpoint


@pytest.fixture
def mk(world):
    """Ava's class and a host class of the same programme (2 places) with a session on Tue
    24 Nov 17:00 Sydney and another a week later; the clock stands at Sat 21 Nov."""
    w = SimpleNamespace(company=world.company_a)
    w.programme = f.ProgrammeFactory(company=w.company)
    w.home = f.ClassFactory(programme=w.programme, name="Home")
    w.host = f.ClassFactory(
        programme=w.programme, name="Host", capacity=2, min_age_months=None, max_age_months=None
    )
    w.ava = f.EnrolmentFactory(
        klass=w.home, student__first_name="Ava", student__date_of_birth=date(2020, 6, 1)
    )
    w.session = f.SessionFactory(klass=w.host)
    w.later = f.SessionFactory(klass=w.host, local_date=date(2026, 12, 1))
    return w


def _add_credit(enrolment, *, valid_days=30):
    with scope(company=enrolment.company):
        return credit_add_manual(
            enrolment=enrolment,
            reason="test",
            actor=None,
            valid_days=valid_days,
            now=timezone.now(),
        )


def _delivery(**lookup) -> WebhookDelivery:
    with scopes_disabled():
        return WebhookDelivery.objects.get(**lookup)


def test_api_4_an_event_is_delivered_once_with_a_valid_signature(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    other = Receiver()  # an endpoint of the same company that asked for other events
    try:
        _endpoint(world.company_a, world.owner_a, other, ["makeup.booked"])
        with django_capture_on_commit_callbacks(execute=True):
            credit = _add_credit(mk.ava)
    finally:
        other.close()
    assert other.received == []
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["valid"]
    assert got["event"]["type"] == "credit.issued"
    assert got["event"]["data"]["id"] == credit.pk
    assert got["event"]["data"]["state"] == "available"
    assert got["event"]["id"] == got["event_id"]
    delivery = _delivery(endpoint=endpoint)
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert (delivery.attempts, delivery.last_status) == (1, 200)
    assert got["timestamp"] == int(delivery.last_attempt_at.timestamp())
    # What the receiver got verifies with this secret only, fresh, and for this body only.
    header, body = got["header"], got["body"]
    moment = delivery.last_attempt_at
    assert webhook_verify(receiver.secret, header, body, now=moment)
    assert not webhook_verify("whsec_wrong", header, body, now=moment)
    assert not webhook_verify(receiver.secret, header, body + b" ", now=moment)
    assert not webhook_verify(receiver.secret, header, body, now=moment + timedelta(minutes=6))
    # Sent again by the sweep, nothing more goes out: it was delivered.
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(receiver.received) == 1


def test_api_4_nothing_is_sent_when_the_change_rolls_back(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _add_credit(mk.ava)
        raise RuntimeError("the change failed after the credit was issued")
    with scopes_disabled():
        assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_api_4_a_failing_receiver_is_retried_with_back_off_and_delivered_once(
    world, mk, receiver, django_capture_on_commit_callbacks, _frozen_clock
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)
    delivery = _delivery(endpoint=endpoint)
    first_try = delivery.last_attempt_at
    assert delivery.state == WebhookDelivery.State.PENDING
    assert (delivery.attempts, delivery.last_status) == (1, 500)
    assert delivery.next_attempt_at == first_try + BACKOFF[0]
    # Before the wait is over the sweep leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due(now=first_try + BACKOFF[0] - timedelta(seconds=1)) == 0
    assert len(receiver.received) == 1
    # A minute later the beat sweep hands it over again (through the outbox) and it lands.
    _frozen_clock.shift(BACKOFF[0] + timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due(now=timezone.now()) == 1
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert (delivery.attempts, delivery.last_status) == (2, 200)
    assert [item["valid"] for item in receiver.received] == [True, True]
    assert len({item["event"]["id"] for item in receiver.received}) == 1  # the same event
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(receiver.received) == 2  # delivered once: never again


def test_api_4_gives_up_after_the_last_try_and_one_attempt_is_posted_once(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    receiver.statuses = [503] * MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)
    delivery = _delivery(endpoint=endpoint)
    moment = delivery.last_attempt_at
    for wait in BACKOFF:
        assert webhook_deliver(delivery_id=delivery.pk, now=moment + wait / 2) == "skipped"
        moment += wait
        outcome = webhook_deliver(delivery_id=delivery.pk, now=moment)
        assert webhook_deliver(delivery_id=delivery.pk, now=moment) == "skipped"  # claimed
    assert outcome == "failed"
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED
    assert (delivery.attempts, delivery.last_status, delivery.next_attempt_at) == (
        MAX_ATTEMPTS,
        503,
        None,
    )
    assert len(receiver.received) == MAX_ATTEMPTS
    assert all(item["valid"] for item in receiver.received)


def test_api_4_an_owner_sees_the_last_status_and_sends_a_delivery_again(
    world, mk, receiver, login, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)
    delivery = _delivery(endpoint=endpoint)
    client = login(world.owner_a)
    page = client.get(f"/manage/settings/webhooks/{endpoint.pk}/")
    assert page.status_code == 200
    assert page.context["deliveries"] == [delivery]
    assert "answer 500" in page.content.decode() and "Waiting" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/manage/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/"
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.last_status == 200
    assert len(receiver.received) == 2 and all(item["valid"] for item in receiver.received)
    assert receiver.received[0]["event"]["id"] == receiver.received[1]["event"]["id"]
    assert "Delivered" in client.get(f"/manage/settings/webhooks/{endpoint.pk}/").content.decode()


def test_api_4_owner_adds_an_endpoint_on_the_page_and_sees_its_secret_once(world, receiver, login):
    client = login(world.owner_a)
    response = client.post(
        "/manage/settings/webhooks/",
        {"url": receiver.url, "description": "Sync", "events": ["makeup.booked", "credit.expired"]},
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.get(company=world.company_a)
    assert endpoint.events == ["credit.expired", "makeup.booked"] and endpoint.active
    listed = client.get("/manage/settings/webhooks/").content.decode()
    assert secret not in listed and receiver.url in listed
    edited = client.post(
        f"/manage/settings/webhooks/{endpoint.pk}/",
        {"url": receiver.url, "events": ["place.released"], "active": ""},
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["place.released"] and not endpoint.active
    renewed = client.post(f"/manage/settings/webhooks/{endpoint.pk}/secret/")
    assert renewed.context["secret"] != secret
    endpoint.refresh_from_db()
    assert endpoint.secret == renewed.context["secret"]
    assert client.post(f"/manage/settings/webhooks/{endpoint.pk}/delete/").status_code == 302
    with scopes_disabled():
        assert not WebhookEndpoint.objects.exists()


def test_api_4_https_is_enforced(world, settings, login):
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    with scopes_disabled():
        for url in ["http://example.com/hook", "ftp://x.example"]:
            with pytest.raises(DomainError, match="https://"):
                webhook_endpoint_create(
                    company=world.company_a,
                    url=url,
                    events=["credit.issued"],
                    actor=world.owner_a,
                    now=timezone.now(),
                )
        endpoint, _secret = webhook_endpoint_create(
            company=world.company_a,
            url="https://erp.example.com/hook",
            events=["credit.issued"],
            actor=world.owner_a,
            now=timezone.now(),
        )
        for url in [
            "http://127.0.0.1:8000/hook",
            "https://127.0.0.1/hook",
            "https://localhost:8443/hook",
            "https://10.0.0.5/hook",
            "https://169.254.169.254/latest",
            "https://[::1]/hook",
        ]:
            with pytest.raises(DomainError, match="not on a private network"):
                webhook_endpoint_create(
                    company=world.company_a,
                    url=url,
                    events=["credit.issued"],
                    actor=world.owner_a,
                    now=timezone.now(),
                )
        # Plain http to another machine is refused even where local http is allowed.
        settings.WEBHOOK_ALLOW_LOCAL_HTTP = True
        with pytest.raises(DomainError, match="https://"):
            webhook_endpoint_update(
                endpoint=endpoint,
                url="http://erp.example.com/hook",
                events=["credit.issued"],
                active=True,
                actor=world.owner_a,
                now=timezone.now(),
            )
    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    page = login(world.owner_a).post(
        "/manage/settings/webhooks/", {"url": "http://example.com/", "events": ["credit.issued"]}
    )
    assert page.status_code == 200 and "must start with https://" in page.content.decode()


def test_api_4_a_public_name_pointing_into_the_private_network_is_not_posted_to(
    world, mk, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """An address that passes as written (https, a public name) but resolves into the
    server's own network — or is re-pointed there later — is refused when the delivery
    connects: nothing is posted, the delivery says why and waits for its next try."""
    import socket

    from api.services import webhooks

    settings.WEBHOOK_ALLOW_LOCAL_HTTP = False
    with scopes_disabled():
        endpoint, _secret = webhook_endpoint_create(
            company=world.company_a,
            url="https://hooks.example.com/in",
            events=["credit.issued"],
            actor=world.owner_a,
            now=timezone.now(),
        )
    resolved = {"hooks.example.com": "10.0.0.5"}
    connected: list = []

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (resolved[host], port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(webhooks.socket, "create_connection", lambda *a, **k: connected.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)
    delivery = _delivery(endpoint=endpoint)
    assert connected == []
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.last_status is None
    assert "private network (10.0.0.5)" in delivery.last_error


def test_api_4_only_owners_manage_webhooks(world, login, receiver):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    for user in (world.admin_a, world.staff_a):
        client = login(user)
        assert client.get("/manage/settings/webhooks/").status_code == 403
        assert client.get(f"/manage/settings/webhooks/{endpoint.pk}/").status_code == 403
    with scopes_disabled(), pytest.raises(DomainError, match="Only an owner"):
        webhook_endpoint_create(
            company=world.company_a,
            url="https://erp.example.com/",
            events=["credit.issued"],
            actor=world.admin_a,
            now=timezone.now(),
        )


def test_api_4_another_companys_endpoint_and_delivery_are_404(
    world, mk, receiver, login, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)
    delivery = _delivery(endpoint=endpoint)
    outsider = login(world.owner_b)
    base = f"/manage/settings/webhooks/{endpoint.pk}"
    assert outsider.get(f"{base}/").status_code == 404
    for action in ("secret/", "delete/", f"deliveries/{delivery.pk}/resend/"):
        assert outsider.post(f"{base}/{action}").status_code == 404
    assert receiver.url not in outsider.get("/manage/settings/webhooks/").content.decode()
    # A delivery of another endpoint of the same company is not this endpoint's either.
    with scopes_disabled():
        mine, _secret = webhook_endpoint_create(
            company=world.company_b,
            url="https://b.example.com/",
            events=["credit.issued"],
            actor=world.owner_b,
            now=timezone.now(),
        )
    assert (
        outsider.post(
            f"/manage/settings/webhooks/{mine.pk}/deliveries/{delivery.pk}/resend/"
        ).status_code
        == 404
    )
    assert len(receiver.received) == 1


def _staff_books(world, mk):
    """The owner books Ava's make-up into ``mk.session`` with a new credit (in scope)."""
    return makeup_book(
        credit=_add_credit(mk.ava),
        session=mk.session,
        actor=world.owner_a,
        source="staff",
        now=timezone.now(),
    )


def test_api_4_makeups_booked_moved_cancelled_and_the_places_they_release_are_sent(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    _endpoint(
        world.company_a,
        world.owner_a,
        receiver,
        ["makeup.booked", "makeup.moved", "makeup.cancelled", "place.released"],
    )
    with django_capture_on_commit_callbacks(execute=True), scope(company=world.company_a):
        booking = _staff_books(world, mk)
        makeup_move(
            booking=booking,
            session=mk.later,
            actor=world.owner_a,
            now=timezone.now(),
            by_staff=True,
        )
        booking.refresh_from_db()
        makeup_cancel(booking=booking, actor=world.owner_a, now=timezone.now())
    assert receiver.types() == [
        "makeup.booked",
        "makeup.moved",
        "place.released",
        "makeup.cancelled",
        "place.released",
    ]
    assert all(item["valid"] for item in receiver.received)
    booked, moved, freed, cancelled, freed_again = (i["event"]["data"] for i in receiver.received)
    assert booked["id"] == moved["id"] == cancelled["id"] == booking.pk
    assert booked["session_id"] == mk.session.pk and booked["state"] == "booked"
    assert moved["session_id"] == mk.later.pk and moved["from_session_id"] == mk.session.pk
    assert freed["session"]["id"] == mk.session.pk and freed["cause"] == "makeup_moved"
    assert freed["session"]["places_left"] == 2
    assert cancelled["state"] == "cancelled"
    assert freed_again["session"]["id"] == mk.later.pk
    assert freed_again["cause"] == "makeup_cancelled"


def test_api_4_a_cancelled_makeup_reads_the_endpoints_once_for_it_and_its_freed_place(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    """The make-up's event and the place it frees share one read of the endpoints."""
    _endpoint(world.company_a, world.owner_a, receiver, ["makeup.cancelled", "place.released"])
    with scope(company=world.company_a):
        booking = _staff_books(world, mk)
    with (
        django_capture_on_commit_callbacks(execute=True),
        scope(company=world.company_a),
        CaptureQueriesContext(connection) as queries,
    ):
        makeup_cancel(booking=booking, actor=world.owner_a, now=timezone.now())
    reads = [q for q in queries.captured_queries if 'FROM "api_webhookendpoint"' in q["sql"]]
    assert len(reads) == 1
    assert receiver.types() == ["makeup.cancelled", "place.released"]


def test_api_4_sessions_cancelled_and_credits_expiring_and_expired_are_sent(
    world, mk, receiver, django_capture_on_commit_callbacks, _frozen_clock
):
    endpoint = _endpoint(
        world.company_a,
        world.owner_a,
        receiver,
        ["session.cancelled", "credit.expiring", "credit.expired"],
    )
    credit = _add_credit(mk.ava, valid_days=3)
    with django_capture_on_commit_callbacks(execute=True):
        with scope(company=world.company_a):
            session_cancel(
                session=mk.session, reason="Pool closed", actor=world.owner_a, now=timezone.now()
            )
        credits_claim_reminders(now=timezone.now())
        credits_claim_reminders(now=timezone.now())  # claimed once: told once
    _frozen_clock.shift(timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        credits_expire_due(now=timezone.now())
        credits_expire_due(now=timezone.now())  # expired once: told once
    assert receiver.types() == ["session.cancelled", "credit.expiring", "credit.expired"]
    assert all(item["valid"] for item in receiver.received)
    session, expiring, expired = (item["event"]["data"] for item in receiver.received)
    assert expiring["id"] == expired["id"] == credit.pk and expired["state"] == "expired"
    assert session["id"] == mk.session.pk and session["cancel_reason"] == "Pool closed"
    with scopes_disabled():
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3


def test_api_4_the_pages_cost_a_fixed_number_of_queries(
    world, mk, receiver, login, page_queries, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    client = login(world.owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)
    few_list, _ = page_queries(client, "/manage/settings/webhooks/")
    few_detail, _ = page_queries(client, f"/manage/settings/webhooks/{endpoint.pk}/")
    for _n in range(4):
        _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    with django_capture_on_commit_callbacks(execute=True):
        for _n in range(5):
            _add_credit(mk.ava)
    many_list, _ = page_queries(client, "/manage/settings/webhooks/")
    many_detail, response = page_queries(client, f"/manage/settings/webhooks/{endpoint.pk}/")
    assert len(response.context["deliveries"]) == 6
    assert (many_list, many_detail) == (few_list, few_detail)


def test_api_4_a_closure_applied_is_sent_after_its_sessions_cancelled(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    _endpoint(world.company_a, world.owner_a, receiver, ["closure.applied", "session.cancelled"])
    with django_capture_on_commit_callbacks(execute=True), scope(company=world.company_a):
        closure = closure_create(
            company=world.company_a,
            name="Pool repairs",
            first_day=date(2026, 11, 23),
            last_day=date(2026, 11, 25),
            actor=world.owner_a,
            now=timezone.now(),
        )
        closure_apply_request(closure=closure, actor=world.owner_a, now=timezone.now())
    assert receiver.types() == ["session.cancelled", "closure.applied"]
    session, applied = (item["event"]["data"] for item in receiver.received)
    assert session["id"] == mk.session.pk and session["cancelled_at"]
    assert applied["id"] == closure.pk and applied["name"] == "Pool repairs"
    assert (applied["first_day"], applied["last_day"]) == ("2026-11-23", "2026-11-25")


def test_api_4_a_regular_who_cant_come_and_a_withdrawal_release_places(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    _endpoint(world.company_a, world.owner_a, receiver, ["place.released"])
    regular = f.EnrolmentFactory(klass=mk.host, start_date=date(2026, 11, 1))
    with django_capture_on_commit_callbacks(execute=True), scope(company=world.company_a):
        attendance_set_state(
            enrolment=regular,
            session=mk.session,
            state=AttendanceState.CANCELLED,
            cancelled_at=timezone.now(),
            actor=world.owner_a,
            now=timezone.now(),
        )
        # Marked present afterwards (a correction) releases nothing more.
        attendance_set_state(
            enrolment=regular,
            session=mk.session,
            state=AttendanceState.PRESENT,
            actor=world.owner_a,
            now=timezone.now(),
        )
    assert receiver.types() == ["place.released"]
    released = receiver.received[0]["event"]["data"]
    assert released["cause"] == "regular_cancelled"
    assert released["session"]["id"] == mk.session.pk
    with django_capture_on_commit_callbacks(execute=True), scope(company=world.company_a):
        enrolment_withdraw(
            enrolment=regular, withdrawn_from=date(2026, 11, 24), actor=None, now=timezone.now()
        )
    withdrawal = [item["event"]["data"] for item in receiver.received[1:]]
    assert {data["cause"] for data in withdrawal} == {"withdrawal"}
    assert sorted(data["session"]["id"] for data in withdrawal) == [mk.session.pk, mk.later.pk]
    assert all(item["valid"] for item in receiver.received)


def test_api_4_an_endpoint_turned_off_gets_nothing_and_what_waited_goes_when_it_is_on(
    world, mk, receiver, django_capture_on_commit_callbacks, _frozen_clock
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)

    def switch(active: bool) -> None:
        with django_capture_on_commit_callbacks(execute=True), scopes_disabled():
            webhook_endpoint_update(
                endpoint=endpoint,
                url=endpoint.url,
                events=endpoint.events,
                active=active,
                actor=world.owner_a,
                now=timezone.now(),
            )

    switch(False)
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)  # while off: not written, never sent
    _frozen_clock.shift(BACKOFF[0] * 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks_send_due(now=timezone.now()) == 0
    assert len(receiver.received) == 1
    switch(True)
    delivery = _delivery(endpoint=endpoint)  # the only one: the credit issued while on
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 2
    assert len(receiver.received) == 2


def test_api_4_old_sent_and_failed_messages_are_pruned_and_waiting_ones_kept(
    world, mk, receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world.company_a, world.owner_a, receiver, ["credit.issued"])
    receiver.statuses = [200, 500]
    with django_capture_on_commit_callbacks(execute=True):
        _add_credit(mk.ava)  # delivered
        _add_credit(mk.ava)  # waiting for a retry
    now = timezone.now()
    assert webhook_deliveries_prune(now=now + timedelta(days=29), keep_days=30) == 0
    assert webhook_deliveries_prune(now=now + timedelta(days=31), keep_days=30) == 1
    left = _delivery(endpoint=endpoint)
    assert left.state == WebhookDelivery.State.PENDING
