"""The transactional outbox: e-mails and other tasks that survive a broker outage.

A service never talks to Celery directly. It calls :func:`enqueue`, which writes an
:class:`~makeup.models.OutboxMessage` row *in the service's own transaction*:

* the change rolls back → the row is gone too, so nobody is told of a booking that never was;
* the change commits → the row exists, whatever happens to Redis afterwards.

After the commit :func:`enqueue` tries to hand the row to Celery at once (the fast path: the
e-mail goes out within a second). If the broker is down the request still succeeds; the row
stays due and :func:`relay_due` — run every 30 seconds by beat, and by
``manage.py relay_outbox`` — hands it over once Redis is back. A row handed over but not done
within ``OUTBOX_REDELIVER_AFTER`` (a Redis restart loses its queue) is handed over again.

Delivery happens once: :func:`deliver` (the Celery task every row travels in) locks its row,
skips it if it is already done, runs the task and marks the row done in one transaction. So
the fast path and the relay, or a redelivered message, can both reach a worker and the family
still gets one e-mail. (If the mail server accepted an e-mail and the database then failed
before the commit, the row would be sent again: once per *committed* delivery.)

Two refinements for long jobs (a closure cancelling hundreds of lessons, CLO-7):

* A task marked ``outbox_own_transactions = True`` runs *outside* the delivery's transaction,
  so it can commit its work piece by piece (and show its progress) as it goes; its row is
  marked done after it returns. Such a task must be idempotent and safe to run twice at once
  on its own (it claims its work with a conditional update): a row not done in time is handed
  over again like any other.
* :func:`held_back` keeps chosen tasks out of the outbox for a block of code: a closure run
  tells each family once about all its lessons (CLO-4), so the per-lesson messages the
  services it calls would send are held back.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from email import message_from_string
from pathlib import Path

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import OutboxMessage
from .taskbase import CompanyTask

logger = logging.getLogger(__name__)

#: How long a new row waits for the fast path before the relay takes it.
FAST_PATH_GRACE = timedelta(seconds=10)
#: Failed deliveries wait 1, 2, 4 … minutes, at most this long.
MAX_BACKOFF = timedelta(hours=6)


#: The key of the message being delivered; e-mails sent meanwhile carry it in a header.
current_key: ContextVar[str | None] = ContextVar("outbox_key", default=None)
HEADER = "X-Outbox-Key"


def mail_headers() -> dict[str, str]:
    """Headers for an e-mail sent now: the outbox key when a delivery is running, so what
    reached the mail server can be matched to its message (``check_invariants --mail-dir``)."""
    key = current_key.get()
    return {HEADER: key} if key else {}


def mail_sent(folder: Path) -> Counter:
    """``(outbox key, recipient) → count`` of the e-mails in a ``filemail://`` folder (Django's
    file backend: messages separated by a line of 79 dashes)."""
    sent: Counter = Counter()
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text().split("-" * 79 + "\n"):
            message = message_from_string(chunk.strip("\n"))
            if message[HEADER]:
                sent[(message[HEADER], message["To"])] += 1
    return sent


def _redeliver_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "OUTBOX_REDELIVER_AFTER", 600))


#: Tasks :func:`enqueue` leaves out while a :func:`held_back` block runs.
_held_back: ContextVar[frozenset[str]] = ContextVar("outbox_held_back", default=frozenset())


@contextmanager
def held_back(*tasks: str) -> Iterator[None]:
    """Inside the block, enqueueing any of ``tasks`` writes nothing (the caller tells the
    people concerned itself, in one message of its own)."""
    token = _held_back.set(_held_back.get() | frozenset(tasks))
    try:
        yield
    finally:
        _held_back.reset(token)


def enqueue(task: str, *args, key: str | None = None) -> str:
    """Write the task named ``task`` (e.g. ``"credits.tasks.send_credit_issued"``) with
    ``args`` to the outbox in the current transaction; returns its key. Services name tasks
    rather than import them, so no service depends on a tasks module.

    ``key`` is the idempotency key: a second :func:`enqueue` with the same key is a no-op
    (one "make-up booked" e-mail per booking, however often the service runs). Without a key
    every call is its own message. Task arguments must be JSON (ids, strings)."""
    return enqueue_many(task, [(key or f"{task}:{uuid.uuid4().hex}", args)])[0]


def _registered(name: str):
    """The Celery task registered under ``name`` (a typo fails at once, not at delivery).
    Outside a worker the apps' ``tasks`` modules are imported on first need, as the worker
    does when it starts (Celery's autodiscovery)."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    try:
        return current_app.tasks[name]
    except KeyError:
        raise LookupError(f"No Celery task is registered as {name!r}.") from None


def enqueue_many(task: str, items: list[tuple[str, tuple]]) -> list[str]:
    """:func:`enqueue` for many ``(key, args)`` at once: one INSERT, one hand-over. Nothing
    is written for a task held back (:func:`held_back`)."""
    registered = _registered(task)
    if task in _held_back.get():
        return [key for key, _args in items]
    now = timezone.now()  # clock: delivery is scheduled on the machine's clock
    rows = [
        OutboxMessage(
            key=key,
            task=task,
            args=list(args),
            company_id=_company_arg(registered, args),
            created_at=now,
            due_at=now + FAST_PATH_GRACE,
        )
        for key, args in items
    ]
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    keys = [row.key for row in rows]
    if keys:
        transaction.on_commit(lambda: publish(keys))
    return keys


def _company_arg(task, args) -> int | None:
    """Company tasks take the company's id first (:class:`makeup.taskbase.CompanyTask`)."""
    return args[0] if args and isinstance(task, CompanyTask) else None


def publish(keys: list[str]) -> int:
    """Hand these rows to Celery; returns how many were handed over. A broker that is down is
    logged, not raised: the rows stay due for the relay."""
    sent: list[str] = []
    try:
        for key in keys:
            deliver.apply_async(args=[key], retry=False)
            sent.append(key)
    except (OperationalError, OSError) as exc:
        logger.warning("Outbox: broker unavailable (%s); %d message(s) wait.", exc, len(keys))
    if sent:
        now = timezone.now()  # clock: delivery is scheduled on the machine's clock
        OutboxMessage.objects.filter(key__in=sent).update(
            relayed_at=now, due_at=now + _redeliver_after()
        )
    return len(sent)


def relay_due(*, limit: int = 500) -> int:
    """Hand every due row to Celery (new ones the fast path missed, failed ones whose backoff
    is over, handed-over ones never done). Safe to run concurrently: each run takes the rows
    it locks and skips those another run holds. Returns how many were handed over."""
    now = timezone.now()  # clock: delivery is scheduled on the machine's clock
    with transaction.atomic():
        keys = list(
            OutboxMessage.objects.filter(done_at__isnull=True, due_at__lte=now)
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("key", flat=True)[:limit]
        )
        return publish(keys) if keys else 0


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Beat: :func:`relay_due`."""
    return relay_due()


@shared_task(acks_late=True, ignore_result=True)
def deliver(key: str) -> str:
    """Run the outbox row's task once. Returns what happened (for logs and tests)."""
    try:
        with transaction.atomic():
            row = OutboxMessage.objects.select_for_update().filter(key=key).first()
            if row is None:
                return "missing"
            if row.done_at is not None:
                return "duplicate"
            task = current_app.tasks[row.task]
            if not getattr(task, "outbox_own_transactions", False):
                _run(task, key, row.args, row.kwargs)
                row.done_at = timezone.now()
                row.save(update_fields=["done_at"])
                return "done"
        # A long job commits as it goes: run it outside this transaction, then mark it done.
        _run(task, key, row.args, row.kwargs)
        OutboxMessage.objects.filter(key=key, done_at__isnull=True).update(done_at=timezone.now())
        return "done"
    except Exception as exc:
        failed = OutboxMessage.objects.filter(key=key, done_at__isnull=True)
        attempts = (failed.values_list("attempts", flat=True).first() or 0) + 1
        backoff = min(timedelta(minutes=2 ** min(attempts - 1, 16)), MAX_BACKOFF)
        failed.update(
            attempts=F("attempts") + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            due_at=timezone.now() + backoff,
        )
        logger.exception("Outbox: %s failed (attempt %d); retried in %s.", key, attempts, backoff)
        return "failed"


def _run(task, key: str, args: list, kwargs: dict) -> None:
    token = current_key.set(key)
    try:
        task(*args, **kwargs)
    finally:
        current_key.reset(token)


def outbox_status() -> dict[str, int]:
    """Counts for operators: pending (not done), overdue (pending and past its due time by
    more than the redelivery window), failing (pending after at least one failure), done."""
    now = timezone.now()  # clock: delivery is scheduled on the machine's clock
    pending = OutboxMessage.objects.filter(done_at__isnull=True)
    return {
        "pending": pending.count(),
        "overdue": pending.filter(created_at__lt=now - _redeliver_after() * 2).count(),
        "failing": pending.filter(attempts__gt=0).count(),
        "done": OutboxMessage.objects.filter(done_at__isnull=False).count(),
    }
