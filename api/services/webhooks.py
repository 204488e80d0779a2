"""Webhooks (API-4): owners register addresses of their own systems per event; each event is
written as one :class:`~api.models.WebhookDelivery` per endpoint *in the transaction of the
change it tells of* and handed to a Celery task through the outbox (``makeup.outbox``) once
that transaction commits. The task posts it, signed; a receiver that fails is tried again
later and later (:data:`BACKOFF`) by the beat sweep :func:`webhooks_send_due`, until it
answers 2xx or the attempts run out. An owner sees the last deliveries with their status and
can send one again.

Signature, in the style Stripe documents: the header ``Webhook-Signature: t=<unix
seconds>,v1=<hex>`` where ``<hex>`` is HMAC-SHA256 with the endpoint's secret over
``"<t>." + body`` (:func:`webhook_signature`, :func:`webhook_verify`)."""

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from makeup import outbox
from makeup.audit import audit_record
from makeup.errors import DomainError
from makeup.models import AuditEntry, Company, Membership, Role
from makeup.shapes import Shape

from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_HEADER = "Webhook-Signature"
#: Waits after the 1st, 2nd … failed attempt; after the last one the delivery has failed.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
#: A claimed attempt not finished within this long (a worker died mid-post) is due again.
LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 10
DELIVER_TASK = "api.tasks.deliver_webhook"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


# --- signing ---------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Webhook-Signature`` header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def webhook_verify(
    secret: str, header: str, body: bytes, *, now: datetime, tolerance: int = 300
) -> bool:
    """What a receiver does: the header's timestamp is within ``tolerance`` seconds of
    ``now`` (an old message replayed is refused) and one of its ``v1`` signatures matches."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for name, value in parts if name == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now.timestamp() - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, value) for name, value in parts if name == "v1")


# --- endpoints ---------------------------------------------------------------------------


def _check_owner(*, company: Company, actor) -> None:
    if not Membership.objects.filter(company=company, user=actor, role=Role.OWNER).exists():
        raise DomainError(_("Only an owner of the company can manage webhooks."), code="not_owner")


def webhook_url_refusal(url: str) -> str:
    """Why ``url`` can't receive webhooks ("" when it can): HTTPS only, to an address on the
    internet — this machine (127.0.0.1, localhost, also by plain HTTP) only where
    ``WEBHOOK_ALLOW_LOCAL_HTTP`` is on (a laptop, the tests); private network addresses
    never."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return _("Enter a full web address, starting with https://.")
    if not host:
        return _("Enter a full web address, starting with https://.")
    if parts.scheme not in ("http", "https"):
        return _("The address must start with https:// (the messages are private).")
    if _is_internal(host):
        if settings.WEBHOOK_ALLOW_LOCAL_HTTP and _is_local(host):
            return ""
        return _("The address must be on the internet, not on a private network.")
    if parts.scheme == "https":
        return ""
    return _("The address must start with https:// (the messages are private).")


def _ip(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_local(host: str) -> bool:
    ip = _ip(host)
    return host in LOCAL_HOSTS or (ip is not None and ip.is_loopback)


def _is_internal(host: str) -> bool:
    """This machine or a private, link-local or reserved address written as such: the server
    must not be made to post into its own network. (A public name that resolves to such an
    address is refused when the delivery connects: :func:`_guarded_connection`.)"""
    ip = _ip(host)
    return _is_local(host) or host.endswith(".localhost") or (ip is not None and not ip.is_global)


def _clean(*, url: str, events: list[str]) -> tuple[str, list[str]]:
    url = url.strip()
    refusal = webhook_url_refusal(url)
    if refusal:
        raise DomainError(refusal, code="url")
    chosen = [event for event in WebhookEvent.values if event in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise DomainError(_("Choose at least one event to send."), code="events")
    return url, chosen


def _new_secret() -> str:
    return f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"


@transaction.atomic
def webhook_endpoint_create(
    *, company: Company, url: str, events: list[str], description: str = "", actor, now: datetime
) -> tuple[WebhookEndpoint, str]:
    """API-4: an owner registers an HTTPS address for the chosen events. Returns the endpoint
    and its signing secret, which the page shows this once."""
    _check_owner(company=company, actor=actor)
    url, events = _clean(url=url, events=events)
    endpoint = WebhookEndpoint.objects.create(
        company=company,
        url=url,
        events=events,
        description=description.strip()[:100],
        secret=_new_secret(),
        created_by=actor,
        created_at=now,
    )
    _audit(endpoint, actor, now, _("Webhook to %(url)s added."))
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    events: list[str],
    description: str = "",
    active: bool,
    actor,
    now: datetime,
) -> WebhookEndpoint:
    """API-4: an owner changes the address, the events or the description, or turns the
    endpoint off: no event is written for it meanwhile; a message already waiting for a retry
    waits, and goes as soon as it is on again."""
    _check_owner(company=endpoint.company, actor=actor)
    url, events = _clean(url=url, events=events)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    turned_on = active and not endpoint.active
    endpoint.url, endpoint.events, endpoint.active = url, events, active
    endpoint.description = description.strip()[:100]
    endpoint.save(update_fields=["url", "events", "description", "active"])
    _audit(endpoint, actor, now, _("Webhook to %(url)s changed."))
    if turned_on:
        # What waited goes now (a new due time is also a new outbox key: an attempt handed
        # over while the endpoint was off was skipped and its key is spent).
        waiting = WebhookDelivery.objects.filter(
            endpoint=endpoint, state=WebhookDelivery.State.PENDING
        )
        waiting.update(next_attempt_at=now)
        _enqueue(list(waiting))
    return endpoint


@transaction.atomic
def webhook_endpoint_new_secret(*, endpoint: WebhookEndpoint, actor, now: datetime) -> str:
    """API-4: a new signing secret (the old one stops at once); shown this once."""
    _check_owner(company=endpoint.company, actor=actor)
    secret = _new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    _audit(endpoint, actor, now, _("Webhook to %(url)s given a new secret."))
    return secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor, now: datetime) -> None:
    """API-4: the endpoint and its deliveries are removed; nothing more is sent to it."""
    _check_owner(company=endpoint.company, actor=actor)
    _audit(endpoint, actor, now, _("Webhook to %(url)s removed."))
    endpoint.delete()


def _audit(endpoint: WebhookEndpoint, actor, now: datetime, summary: str) -> None:
    audit_record(
        company_id=endpoint.company_id,
        actor=actor,
        now=now,
        area=AuditEntry.Area.SETTINGS,
        summary=summary % {"url": endpoint.url},
    )


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookItem:
    """One happening to tell of: the companies concerned, its idempotency ``key`` (one
    delivery per endpoint and key), the object's id and what the receiver gets as ``data``."""

    company_ids: tuple[int, ...]
    key: str
    object_id: int | None
    data: dict


def webhook_endpoints(*, company_ids) -> list[WebhookEndpoint]:
    """The active endpoints of these companies (``None``: every company's), in one query —
    for a listener with several events to tell (a cancelled make-up and the place it frees)."""
    with scopes_disabled():
        if company_ids is not None and len(set(company_ids)) == 1:
            (company_id,) = set(company_ids)
            return _ONE_COMPANYS_ENDPOINTS(company_id=company_id)  # a make-up at home
        endpoints = WebhookEndpoint.objects.filter(active=True)
        if company_ids is not None:
            endpoints = endpoints.filter(company_id__in=set(company_ids))
        return list(endpoints)


_ONE_COMPANYS_ENDPOINTS = Shape(
    lambda company_id: WebhookEndpoint.objects.filter(active=True, company_id=company_id)
)


def webhook_targets(
    *, company_ids, event: str, endpoints: list[WebhookEndpoint] | None = None
) -> dict[int, list[WebhookEndpoint]]:
    """The active endpoints of these companies that asked for ``event``, by company: one
    query, so a listener learns cheaply that nobody listens. The companies are named by the
    caller (a make-up concerns its host and its guest's home school): scoping is lifted for
    exactly them. ``company_ids=None``: every company's — for a listener that must know who
    listens before it reads what changed (a sweep may expire a hundred thousand credits of
    companies without any endpoint). ``endpoints``: already read by
    :func:`webhook_endpoints` for at least these companies (no query then)."""
    if endpoints is None:
        endpoints = webhook_endpoints(company_ids=company_ids)
    wanted = None if company_ids is None else set(company_ids)
    targets: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        if event in endpoint.events and (wanted is None or endpoint.company_id in wanted):
            targets.setdefault(endpoint.company_id, []).append(endpoint)
    return targets


def webhooks_emit(
    *,
    event: str,
    items: list[WebhookItem],
    targets: dict[int, list[WebhookEndpoint]],
    now: datetime,
) -> int:
    """API-4: one delivery per item and endpoint of its companies, written in the caller's
    transaction (rolled back with it), each handed to :data:`DELIVER_TASK` through the
    outbox after the commit. An item already written for an endpoint (same ``key``) is not
    written twice. Returns how many deliveries were written."""
    rows = []
    for item in items:
        envelope = {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "type": event,
            "created": now.isoformat(),
            "data": item.data,
        }
        payload = json.loads(json.dumps(envelope, cls=DjangoJSONEncoder))
        for company_id in dict.fromkeys(item.company_ids):
            for endpoint in targets.get(company_id, []):
                rows.append(
                    WebhookDelivery(
                        company_id=company_id,
                        endpoint=endpoint,
                        event_id=envelope["id"],
                        event=event,
                        key=item.key[:200],
                        object_id=item.object_id,
                        payload=payload,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    if not rows:
        return 0
    with scopes_disabled():
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        written = list(
            WebhookDelivery.objects.filter(
                endpoint_id__in={row.endpoint_id for row in rows},
                key__in={row.key for row in rows},
                event_id__in={row.event_id for row in rows},
            )
        )
    _enqueue(written)
    return len(written)


def _enqueue(deliveries: list[WebhookDelivery]) -> None:
    """Hand these deliveries to the task through the outbox. The key names the attempt's due
    time, so each attempt is handed over once however often this runs."""
    outbox.enqueue_many(
        DELIVER_TASK,
        [
            (
                f"webhook:{d.pk}:{d.next_attempt_at.timestamp() if d.next_attempt_at else 0}",
                (d.company_id, d.pk),
            )
            for d in deliveries
        ],
    )


# --- delivery ----------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: the delivery fails with its status."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _guarded_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """Connect to ``address`` only if every address its name resolves to is on the internet
    (this machine too where ``WEBHOOK_ALLOW_LOCAL_HTTP`` is on), and to the very address
    checked: a public name pointing into the server's own network — or re-pointed between
    the check and the connection — is refused, not posted to."""
    host, port = address
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for _family, _type, _proto, _name, sockaddr in found:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not ip.is_global and not (settings.WEBHOOK_ALLOW_LOCAL_HTTP and ip.is_loopback):
            raise OSError(f"{host} is on a private network ({ip}): not posted to")
    if not found:
        raise OSError(f"{host} has no address")
    return socket.create_connection((found[0][4][0], port), timeout, source_address)


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connection  # TLS still checks the name's certificate


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


# No proxy from the environment (it would be the address checked), no redirects, and every
# connection to a checked address.
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirect, _GuardedHTTPHandler, _GuardedHTTPSHandler
)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST ``body``; returns the status (``None`` when there was no answer) and an error."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - https, or http to this machine (webhook_url_refusal)
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"[:300]


def webhook_deliver(*, delivery_id: int, now: datetime) -> str:
    """API-4: one attempt at a due delivery. Claims it by a conditional update (two workers
    never post the same attempt), posts the JSON ``{id, type, created, data}`` signed with
    the endpoint's secret at ``now``, and records the answer: 2xx delivered; otherwise due
    again after the next wait of :data:`BACKOFF`, or failed after :data:`MAX_ATTEMPTS`.
    Returns "delivered", "retry", "failed" or "skipped" (not due, done, or endpoint off)."""
    with scopes_disabled():
        claimed = WebhookDelivery.objects.filter(
            pk=delivery_id,
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=now,
            endpoint__active=True,
        ).update(next_attempt_at=now + LEASE, last_attempt_at=now)
        if not claimed:
            return "skipped"
        delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    refusal = webhook_url_refusal(endpoint.url)
    if refusal:
        status, error = None, refusal
    else:
        status, error = _post(
            endpoint.url,
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": "makeup-webhooks/1",
                "Webhook-Id": delivery.event_id,
                SIGNATURE_HEADER: webhook_signature(endpoint.secret, int(now.timestamp()), body),
            },
        )
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_status": status, "last_error": error[:300]}
    if status is not None and 200 <= status < 300:
        fields |= {"state": WebhookDelivery.State.DELIVERED, "delivered_at": now}
        outcome = "delivered"
    elif attempts >= MAX_ATTEMPTS:
        fields |= {"state": WebhookDelivery.State.FAILED, "next_attempt_at": None}
        outcome = "failed"
    else:
        fields |= {"next_attempt_at": now + BACKOFF[attempts - 1]}
        outcome = "retry"
    with scopes_disabled():
        WebhookDelivery.objects.filter(pk=delivery_id, attempts=delivery.attempts).update(**fields)
    return outcome


def webhooks_send_due(*, now: datetime, limit: int = 500) -> int:
    """API-4, beat: hand every delivery whose wait is over to the task (through the outbox),
    for all companies — the retries, an attempt whose worker died, what waited while its
    endpoint was off. Running it twice hands each attempt over once. Returns how many."""
    with transaction.atomic(), scopes_disabled():
        due = list(
            WebhookDelivery.objects.filter(
                state=WebhookDelivery.State.PENDING,
                next_attempt_at__lte=now,
                endpoint__active=True,
            ).order_by("next_attempt_at", "pk")[:limit]
        )
        _enqueue(due)
    return len(due)


@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery, actor, now: datetime) -> WebhookDelivery:
    """API-4: an owner sends a delivery again — delivered, failed or waiting — now, with a
    fresh set of attempts; the receiver gets the same event ``id`` (it may have seen it)."""
    _check_owner(company=delivery.company, actor=actor)
    if not delivery.endpoint.active:
        raise DomainError(
            _("This webhook is turned off: turn it on to send to it."), code="inactive"
        )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=WebhookDelivery.State.PENDING,
        attempts=0,
        next_attempt_at=now,
        delivered_at=None,
    )
    delivery.refresh_from_db()
    _enqueue([delivery])
    return delivery


def webhook_deliveries_prune(*, now: datetime, keep_days: int) -> int:
    """API-4, nightly: delivered and failed messages older than ``keep_days`` are deleted for
    all companies (the page lists the last ones; the data lives in the API). Waiting ones
    stay. Returns how many were deleted."""
    with scopes_disabled():
        deleted, _rows = WebhookDelivery.objects.filter(
            state__in=[WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED],
            created_at__lt=now - timedelta(days=keep_days),
        ).delete()
    return deleted
