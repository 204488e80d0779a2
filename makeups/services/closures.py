"""Applying a closure (CLO-3, CLO-4, CLO-7): an admin confirms what the preview showed, a
background run cancels the closure's lessons, and each family hears about all its lessons in
one message.

1. :func:`closure_apply_request` (the closure's page): records a queued
   :class:`~programmes.models.ClosureRun` and hands it to the task through the outbox.
2. :func:`closure_run_execute` (the task): cancels every session the closure covers that has
   not started, in small groups each in its own transaction through ``sessions_cancel``
   (ATT-7, the same as ``session_cancel`` for each), keeping its progress on the run; then
   tells the families (:func:`closure_notify_families`).

A run can be repeated at will: sessions already cancelled are skipped, so a second run
changes nothing and a run after a failure finishes the rest. A failure leaves every session
either fully cancelled (its students, credits, guests and watches with it) or untouched.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from itertools import batched

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _

from bookings.services import session_restore, sessions_cancel
from makeup import outbox
from makeup.errors import DomainError
from makeup.formats import local_datetime
from makeup.models import Role
from makeup.tenancy import membership_of
from programmes.models import Closure, ClosureRun, Session
from programmes.selectors import closure_scope_classes
from programmes.services import class_generate_sessions, closure_mark_removed

from .. import hooks
from ..selectors.closures import (
    closure_families,
    notice_key,
    pending_sessions,
    restored_families,
    restored_notice_key,
)

logger = logging.getLogger(__name__)

RUN_TASK = "makeups.tasks.run_closure"
NOTICE_TASK = "makeups.tasks.send_closure_notice"
RESTORED_TASK = "makeups.tasks.send_closure_restored_notice"
#: Progress is written after this many sessions restored or classes generated again.
STEP = 20
#: The per-lesson messages a closure run holds back: the family's one message about the
#: closure says it all (CLO-4).
PER_LESSON_MESSAGES = ("credits.tasks.send_credit_issued", "makeups.tasks.send_makeup_cancelled")
#: Sessions cancelled together, in one transaction (a fixed number of queries each time).
CHUNK = 100
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
    after ``clock()`` and is not cancelled yet, through ``sessions_cancel`` with the closure:
    students still expected are marked ``staff_cancelled`` and the staff path decides their
    credits (or none, for a closure priced into the term), make-up guests get their credits
    back, watches end with the closure as the reason. The per-lesson messages are held back;
    once every session is done the closure is marked applied and each family is told once
    (CLO-4).

    The sessions go in small groups (:data:`CHUNK`), each in its own transaction, so every
    session is either fully cancelled or untouched. When a group fails, its sessions are
    tried again one at a time, each in its own transaction: those before the culprit are
    done, the culprit is untouched, and the run stops as failed with a plain message naming
    it; a new run finishes the rest. Progress (``total``, ``done``) is written after each
    group for the page. ``clock`` is the task's clock: each group is judged at the moment it
    is cancelled."""
    now = clock()
    claimed = ClosureRun.objects.filter(pk=run.pk, state__in=ACTIVE_STATES).update(
        state=ClosureRun.State.RUNNING, started_at=Coalesce("started_at", now)
    )
    run = ClosureRun.objects.select_related("closure__company", "requested_by").get(pk=run.pk)
    if not claimed:
        return run
    if run.kind != ClosureRun.Kind.APPLY:
        return closure_removal_execute(run=run, clock=clock)
    closure, company = run.closure, run.closure.company
    language = (run.requested_by.language if run.requested_by else "") or company.language
    with translation.override(company.language):
        reason = closure_reason(closure)
    todo = list(pending_sessions(closure, now=now).values_list("pk", "starts_at", "klass__name"))
    total, done = len(todo), 0
    ClosureRun.objects.filter(pk=run.pk).update(total=total, done=0)
    cancel = partial(_cancel_group, closure=closure, reason=reason, actor=run.requested_by)
    current = None
    try:
        with translation.override(company.language), outbox.held_back(*PER_LESSON_MESSAGES):
            for group in batched(todo, CHUNK):
                try:
                    cancel(group, now=clock())
                except Exception:
                    logger.warning("Closure run %s: a group failed; one by one.", run.pk)
                    for current in group:
                        cancel([current], now=clock())
                        done += 1
                    current = None
                else:
                    done += len(group)
                if done < total:
                    ClosureRun.objects.filter(pk=run.pk).update(done=done)
        with transaction.atomic():
            finished = clock()
            Closure.objects.filter(pk=closure.pk).update(applied_at=finished)
            closure_notify_families(closure=closure)
            ClosureRun.objects.filter(pk=run.pk).update(
                state=ClosureRun.State.DONE, done=total, finished_at=finished, error=""
            )
            hooks.makeups_announce(event="closure_applied", closure=closure, now=finished)
    except Exception as error:
        logger.exception("Closure run %s stopped after %d of %d sessions.", run.pk, done, total)
        with translation.override(language):
            message = _failure_message(error, current, done=done, total=total, tz=company.tzinfo)
        ClosureRun.objects.filter(pk=run.pk).update(
            state=ClosureRun.State.FAILED, done=done, finished_at=clock(), error=message
        )
    run.refresh_from_db()
    return run


def _cancel_group(
    group: Sequence[tuple[int, datetime, str]], *, closure: Closure, reason: str, actor, now
) -> None:
    """Sessions ``(id, start, class name)`` in one transaction (``sessions_cancel``'s):
    those that have started are skipped, as are those already cancelled (by this closure in
    an earlier run, or for another reason: that cancellation stands)."""
    sessions = [
        Session(pk=session_id, company_id=closure.company_id)
        for session_id, starts_at, _name in group
        if starts_at > now
    ]
    if sessions:
        sessions_cancel(sessions=sessions, reason=reason, actor=actor, now=now, closure=closure)


def _stopped(error: Exception, current, tz) -> dict[str, str]:
    """Where a closure's run stopped (``current``: the session ``(id, start, class name)``
    it was at, if any) and why, for its failure message."""
    where = ""
    if current is not None:
        where = _("at {klass}, {when}").format(
            klass=current[2], when=local_datetime(current[1], tz, "WEEKDAY_TIME_FORMAT")
        )
    if isinstance(error, DomainError):
        problem = error.message
    else:
        problem = _("an unexpected error (it is logged for the developers)")
    return {"where": where, "problem": problem.rstrip(".")}


def _failure_message(error: Exception, current, *, done: int, total: int, tz) -> str:
    return _(
        "Stopped {where}: {problem}. {done} of {total} lessons were cancelled, each in full; "
        "run it again to cancel the rest."
    ).format(**_stopped(error, current, tz), done=done, total=total)


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


@transaction.atomic
def closure_remove_request(*, closure: Closure, restore: bool, actor, now: datetime) -> ClosureRun:
    """CLO-6: an admin removes ``closure``. Its days are open again at once (it leaves the
    calendar in this transaction); a background run then restores its cancelled lessons
    that haven't started — if ``restore`` — and generates its classes' lessons again on the
    days it had kept free (CLO-2). Without ``restore`` the lessons it cancelled stay
    cancelled, with whatever credits they earned.

    Refused to anyone but the company's admins and owner, for a closure that is over, and
    while a run of it waits or runs. A removed closure whose restore failed midway can be
    asked again: the new run finishes the rest."""
    closure = Closure.objects.select_for_update().select_related("company").get(pk=closure.pk)
    membership = membership_of(actor, closure.company_id)
    if membership is None or not membership.has_role(Role.ADMIN):
        raise DomainError(_("Only an admin can remove a closure."))
    if ClosureRun.objects.filter(closure=closure, state__in=ACTIVE_STATES).exists():
        raise DomainError(_("This closure is being worked on: wait until its run is over."))
    waiting = closure.cancelled_sessions.filter(starts_at__gt=now).exists()
    last = ClosureRun.objects.filter(closure=closure).order_by("-requested_at", "-pk").first()
    unfinished = (
        last is not None
        and last.kind != ClosureRun.Kind.APPLY
        and last.state == ClosureRun.State.FAILED
    )
    if closure.removed_at is not None and not (restore and waiting) and not unfinished:
        raise DomainError(_("This closure was removed already."))
    closure_mark_removed(closure=closure, actor=actor, now=now, keep_cancelled=True)
    run = ClosureRun.objects.create(
        company_id=closure.company_id,
        closure=closure,
        kind=ClosureRun.Kind.RESTORE if restore else ClosureRun.Kind.REMOVE,
        requested_at=now,
        requested_by=actor,
    )
    outbox.enqueue(RUN_TASK, run.company_id, run.pk, key=f"closure-run:{run.pk}")
    return run


def closure_removal_execute(*, run: ClosureRun, clock: Callable[[], datetime]) -> ClosureRun:
    """CLO-6, CLO-7: the work of a removal run (already claimed by
    :func:`closure_run_execute`). For a restore, each lesson the closure cancelled that
    hasn't started is restored through ``session_restore`` (ATT-5: the students it marked
    are expected again, unused credits revoked, spent ones flagged for an admin), each in
    its own transaction; then the closure's classes get their lessons generated again on
    the days it had kept free, each class in its own transaction; then each family whose
    lessons came back is told once. Idempotent: restored lessons are no longer the
    closure's, generation adds only what is missing, and the outbox keeps one message per
    family and closure. A failure stops the run with a plain message; a new removal run
    finishes the rest."""
    run = ClosureRun.objects.select_related("closure__company", "requested_by").get(pk=run.pk)
    closure, company = run.closure, run.closure.company
    now = clock()
    sessions = []
    if run.kind == ClosureRun.Kind.RESTORE:
        sessions = list(
            closure.cancelled_sessions.filter(starts_at__gt=now)
            .select_related("klass")  # its name, should the run stop at it
            .order_by("starts_at", "pk")
        )
    classes = list(closure_scope_classes(closure))
    total, done = len(sessions) + len(classes), 0
    ClosureRun.objects.filter(pk=run.pk).update(total=total, done=0)
    current = None
    language = (run.requested_by.language if run.requested_by else "") or company.language
    try:
        with translation.override(company.language):
            for current in sessions:
                if current.starts_at > clock():
                    session_restore(session=current, actor=run.requested_by, now=clock())
                done += 1
                if done % STEP == 0:
                    ClosureRun.objects.filter(pk=run.pk).update(done=done)
            current = None
            for klass in classes:
                class_generate_sessions(klass=klass, now=clock())
                done += 1
                if done % STEP == 0:
                    ClosureRun.objects.filter(pk=run.pk).update(done=done)
            with transaction.atomic():
                finished = clock()
                closure_notify_restored(closure=closure)
                ClosureRun.objects.filter(pk=run.pk).update(
                    state=ClosureRun.State.DONE, done=total, finished_at=finished, error=""
                )
    except Exception as error:
        logger.exception("Closure removal %s stopped after %d of %d steps.", run.pk, done, total)
        with translation.override(language):
            where = (
                (current.pk, current.starts_at, current.klass.name) if current is not None else None
            )
            message = _restore_failure_message(
                error, where, done=done, total=total, tz=company.tzinfo
            )
        ClosureRun.objects.filter(pk=run.pk).update(
            state=ClosureRun.State.FAILED, done=done, finished_at=clock(), error=message
        )
    run.refresh_from_db()
    return run


def _restore_failure_message(error: Exception, current, *, done: int, total: int, tz) -> str:
    return _(
        "Stopped {where}: {problem}. {done} of {total} steps were done, each in full; "
        "remove it again, restoring its lessons, to finish the rest."
    ).format(**_stopped(error, current, tz), done=done, total=total)


def closure_notify_restored(*, closure: Closure) -> int:
    """CLO-6: one message to each family whose lessons came back when ``closure`` was removed
    (the task lists them when it sends). Once per family and closure. Returns how many."""
    families = restored_families(closure)
    outbox.enqueue_many(
        RESTORED_TASK,
        [
            (restored_notice_key(closure.pk, family_id), (company_id, closure.pk, family_id))
            for company_id, family_id in families
        ],
    )
    return len(families)
