"""Applying a closure (CLO-3, CLO-4, CLO-7): an admin confirms what the preview showed, a
background run cancels the closure's lessons one session at a time, and each family hears
about all its lessons in one message.

1. :func:`closure_apply_request` (the closure's page): records a queued
   :class:`~programmes.models.ClosureRun` and hands it to the task through the outbox.
2. :func:`closure_run_execute` (the task): cancels every session the closure covers that has
   not started, each in its own transaction through ``session_cancel`` (ATT-7), keeping its
   progress on the run; then tells the families (:func:`closure_notify_families`).

A run can be repeated at will: sessions already cancelled are skipped, so a second run
changes nothing and a run after a failure finishes the rest. A failure leaves every session
either fully cancelled (its students, credits, guests and watches with it) or untouched.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.services import session_cancel
from makeup import outbox
from makeup.errors import DomainError
from makeup.formats import local_datetime
from makeup.models import Role
from makeup.tenancy import membership_of
from programmes.models import Closure, ClosureRun, Session

from ..selectors.closures import closure_families, notice_key, pending_sessions

logger = logging.getLogger(__name__)

RUN_TASK = "makeups.tasks.run_closure"
NOTICE_TASK = "makeups.tasks.send_closure_notice"
#: The per-lesson messages a closure run holds back: the family's one message about the
#: closure says it all (CLO-4).
PER_LESSON_MESSAGES = ("credits.tasks.send_credit_issued", "makeups.tasks.send_makeup_cancelled")
#: How often a run writes its progress: about this many times in all.
PROGRESS_UPDATES = 100
ACTIVE_STATES = (ClosureRun.State.QUEUED, ClosureRun.State.RUNNING)


def closure_reason(closure: Closure) -> str:
    """The reason a closure gives its cancelled lessons, as families read it."""
    return _("School closed: {name}").format(name=closure.name)


@transaction.atomic
def closure_apply_request(*, closure: Closure, actor, now: datetime) -> ClosureRun:
    """CLO-3, CLO-7: an admin confirms applying ``closure``. Records a queued run and hands
    it to a background task (through the outbox, once this transaction commits). Refused to
    anyone but the company's admins and owner, for a removed closure, and while a run of the
    closure is waiting or running."""
    closure = Closure.objects.select_for_update().get(pk=closure.pk)
    membership = membership_of(actor, closure.company_id)
    if membership is None or not membership.has_role(Role.ADMIN):
        raise DomainError(_("Only an admin can apply a closure."))
    if closure.removed_at is not None:
        raise DomainError(_("This closure was removed: there is nothing to apply."))
    if ClosureRun.objects.filter(closure=closure, state__in=ACTIVE_STATES).exists():
        raise DomainError(
            _("This closure is already being applied: its progress is shown on its page.")
        )
    run = ClosureRun.objects.create(
        company_id=closure.company_id,
        closure=closure,
        kind=ClosureRun.Kind.APPLY,
        requested_at=now,
        requested_by=actor,
    )
    outbox.enqueue(RUN_TASK, run.company_id, run.pk, key=f"closure-run:{run.pk}")
    return run


def closure_run_execute(*, run: ClosureRun, clock: Callable[[], datetime]) -> ClosureRun:
    """CLO-3, CLO-7: the run's work, outside any transaction. Claims the run (waiting, or
    running after a worker died), then cancels each session the closure covers that starts
    after ``clock()`` and is not cancelled yet, each in its own transaction through
    ``session_cancel`` with the closure: students still expected are marked
    ``staff_cancelled`` and the staff path decides their credits (or none, for a closure
    priced into the term), make-up guests get their credits back, watches end with the
    closure as the reason. The per-lesson messages are held back; once every session is done
    the closure is marked applied and each family is told once (CLO-4).

    Progress (``total``, ``done``) is written every few sessions for the page. Any error
    stops the run as failed with a plain message; the sessions done stay done, the one that
    failed is untouched, and a new run finishes the rest. ``clock`` is the task's clock:
    each session is judged at the moment it is cancelled."""
    now = clock()
    claimed = ClosureRun.objects.filter(pk=run.pk, state__in=ACTIVE_STATES).update(
        state=ClosureRun.State.RUNNING, started_at=Coalesce("started_at", now)
    )
    run = ClosureRun.objects.select_related("closure__company", "requested_by").get(pk=run.pk)
    if not claimed:
        return run
    closure, company = run.closure, run.closure.company
    language = (run.requested_by.language if run.requested_by else "") or company.language
    with translation.override(company.language):
        reason = closure_reason(closure)
    todo = list(pending_sessions(closure, now=now).values_list("pk", "starts_at", "klass__name"))
    total, done = len(todo), 0
    ClosureRun.objects.filter(pk=run.pk).update(total=total, done=0)
    step = max(1, total // PROGRESS_UPDATES)
    current = None
    try:
        with (
            translation.override(company.language),
            outbox.held_back(*PER_LESSON_MESSAGES),
            _quick_commits(),
        ):
            for current in todo:
                session_id, starts_at, _name = current
                _cancel_one(
                    session_id,
                    starts_at,
                    closure=closure,
                    reason=reason,
                    actor=run.requested_by,
                    now=clock(),
                )
                done += 1
                if done % step == 0 and done < total:
                    ClosureRun.objects.filter(pk=run.pk).update(done=done)
        current = None
        with transaction.atomic():
            finished = clock()
            Closure.objects.filter(pk=closure.pk).update(applied_at=finished)
            closure_notify_families(closure=closure)
            ClosureRun.objects.filter(pk=run.pk).update(
                state=ClosureRun.State.DONE, done=total, finished_at=finished, error=""
            )
    except Exception as error:
        logger.exception("Closure run %s stopped after %d of %d sessions.", run.pk, done, total)
        with translation.override(language):
            message = _failure_message(error, current, done=done, total=total, tz=company.tzinfo)
        ClosureRun.objects.filter(pk=run.pk).update(
            state=ClosureRun.State.FAILED, done=done, finished_at=clock(), error=message
        )
    run.refresh_from_db()
    return run


def _cancel_one(
    session_id: int, starts_at: datetime, *, closure: Closure, reason: str, actor, now: datetime
) -> None:
    """One session, in its own transaction (``session_cancel``'s): skipped when it has
    started or is already cancelled (by this closure in an earlier run, or for another
    reason: that cancellation stands)."""
    if starts_at <= now:
        return
    try:
        session_cancel(
            session=Session(pk=session_id, company_id=closure.company_id),
            reason=reason,
            actor=actor,
            now=now,
            closure=closure,
        )
    except DomainError as error:
        if error.code != "already_cancelled":
            raise


@contextmanager
def _quick_commits() -> Iterator[None]:
    """A run commits once per session. On PostgreSQL those commits don't wait for the disk
    (``synchronous_commit`` off for this connection, for the run only): a crash of the
    database server could lose the last few sessions' cancellations — each entirely, never
    half — and the run, left unfinished, is handed over again and redoes them."""
    quick = connection.vendor == "postgresql" and not connection.in_atomic_block
    if quick:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if quick:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _failure_message(error: Exception, current, *, done: int, total: int, tz) -> str:
    where = ""
    if current is not None:
        where = _("at {klass}, {when}").format(
            klass=current[2], when=local_datetime(current[1], tz, "WEEKDAY_TIME_FORMAT")
        )
    if isinstance(error, DomainError):
        problem = error.message
    else:
        problem = _("an unexpected error (it is logged for the developers)")
    return _(
        "Stopped {where}: {problem}. {done} of {total} lessons were cancelled, each in full; "
        "run it again to cancel the rest."
    ).format(where=where, problem=problem.rstrip("."), done=done, total=total)


def closure_notify_families(*, closure: Closure) -> int:
    """CLO-4: one message to each family whose lessons ``closure`` cancelled, listing them all
    (the task reads them when it sends). Exactly once per family and closure, however often
    this runs: the outbox keeps one message per key. Returns how many families there are."""
    families = sorted(closure_families(closure))
    outbox.enqueue_many(
        NOTICE_TASK,
        [
            (notice_key(closure.pk, family_id), (company_id, closure.pk, family_id))
            for company_id, family_id in families
        ],
    )
    return len(families)
