"""Periodic credit jobs that cross companies on purpose: the expiry sweep (CRD-4) and the
expiry reminders (CRD-5). Both are idempotent and safe to run twice or concurrently."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from makeup import outbox
from makeup.models import Company

from .. import hooks
from ..models import CreditEvent, CreditState, MakeupCredit
from ..selectors.carry_over import carry_over_plan, carrying_companies

_credits = MakeupCredit._meta.db_table
_events = CreditEvent._meta.db_table


def credits_held_for_carry_over(*, now: datetime) -> list[int]:
    """WAL-4: the credits past their expiry that the carry-over is about to move — their term
    has ended and the next enrolment takes them (``carry_over_plan``, limited to those due).
    The sweep leaves them to it: carry first, then expire; the new expiry governs. One query
    across companies, then at most four per company whose policies carry."""
    held: list[int] = []
    with scopes_disabled():
        for company in carrying_companies():
            plan = carry_over_plan(company=company, now=now, due_by=now)
            held += [step.credit.pk for step in plan.steps]
    return held


def _not_held(held: list[int]) -> tuple[str, list]:
    """The SQL condition (and its parameters) leaving the ``held`` credits out."""
    if not held:
        return "", []
    if connection.vendor == "postgresql":
        return " AND NOT (id = ANY(%s))", [held]
    return f" AND id NOT IN ({', '.join(['%s'] * len(held))})", list(held)


def credits_expire_due(*, now: datetime) -> int:
    """CRD-4: every available credit whose expiry has passed becomes ``expired``, with one
    history row each — set-based: one statement on PostgreSQL (an ``UPDATE … RETURNING``
    feeding an ``INSERT … SELECT``), two on SQLite inside one transaction. A concurrent or
    repeated run finds nothing left to do (the ``WHERE state = 'available'`` is re-checked
    under the row locks). Returns how many credits expired; the listeners of credits' hooks
    (API-4) are told which, inside the same transaction.

    WAL-4: credits the carry-over is about to move (:func:`credits_held_for_carry_over`) are
    left for it, even past their expiry (they can't be spent meanwhile: CRD-4 reads the
    expiry, not the state); once moved, their new expiry governs. Those it won't move — no
    next enrolment, or one at the limit — expire here as issued."""
    moment = connection.ops.adapt_datetimefield_value(now)
    note = _("Expired unused.")
    hold, hold_params = _not_held(credits_held_for_carry_over(now=now))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH expired AS (
                    UPDATE {_credits} SET state = %s, state_changed_at = %s
                    WHERE state = %s AND expires_at <= %s{hold}
                    RETURNING id, company_id
                )
                INSERT INTO {_events} (company_id, credit_id, kind, from_state, to_state, at,
                                       actor_id, note)
                SELECT company_id, id, %s, %s, %s, %s, NULL, %s FROM expired
                RETURNING credit_id
                """,  # noqa: S608 - table names come from the models, values are parameters
                [
                    CreditState.EXPIRED,
                    moment,
                    CreditState.AVAILABLE,
                    moment,
                    *hold_params,
                    CreditEvent.Kind.EXPIRED,
                    CreditState.AVAILABLE,
                    CreditState.EXPIRED,
                    moment,
                    note,
                ],
            )
            expired = [row[0] for row in cursor.fetchall()]
            hooks.credits_announce(event="expired", credit_ids=expired, now=now)
            return len(expired)
        announced = _due_ids(cursor, moment, hold, hold_params)
        cursor.execute(
            f"""
            INSERT INTO {_events} (company_id, credit_id, kind, from_state, to_state, at,
                                   actor_id, note)
            SELECT company_id, id, %s, %s, %s, %s, NULL, %s FROM {_credits}
            WHERE state = %s AND expires_at <= %s{hold}
            """,  # noqa: S608
            [
                CreditEvent.Kind.EXPIRED,
                CreditState.AVAILABLE,
                CreditState.EXPIRED,
                moment,
                note,
                CreditState.AVAILABLE,
                moment,
                *hold_params,
            ],
        )
        cursor.execute(
            f"UPDATE {_credits} SET state = %s, state_changed_at = %s "  # noqa: S608
            f"WHERE state = %s AND expires_at <= %s{hold}",
            [CreditState.EXPIRED, moment, CreditState.AVAILABLE, moment, *hold_params],
        )
        hooks.credits_announce(event="expired", credit_ids=announced, now=now)
        return cursor.rowcount


def _due_ids(cursor, moment, hold: str, hold_params: list) -> list[int]:
    """SQLite (one writer at a time): the credits the sweep is about to expire, when a higher
    app listens (API-4: the webhooks name them); none, and no query, otherwise."""
    if not hooks.has_event_listeners():
        return []
    cursor.execute(
        f"SELECT id FROM {_credits} WHERE state = %s AND expires_at <= %s{hold}",  # noqa: S608
        [CreditState.AVAILABLE, moment, *hold_params],
    )
    return [row[0] for row in cursor.fetchall()]


def credits_claim_reminders(*, now: datetime) -> list[tuple[int, int]]:
    """CRD-5: claim the credits due an "expiring soon" e-mail — available, unreminded, and
    expiring within each company's reminder days — by a conditional UPDATE, so each credit
    is claimed (and e-mailed) exactly once however many runs overlap; each claim writes its
    e-mail to the outbox in the same transaction. Returns the ``(company_id, credit_id)``
    pairs claimed."""
    claimed: list[tuple[int, int]] = []
    with scopes_disabled():
        companies = list(Company.objects.select_related("settings"))
        for company in companies:
            horizon = now + timedelta(days=company.settings.expiry_reminder_days)
            due = MakeupCredit.objects.filter(
                Q(company=company),
                state=CreditState.AVAILABLE,
                reminder_sent_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=horizon,
            )
            ids = list(due.values_list("pk", flat=True)[:5000])
            if not ids:
                continue
            with transaction.atomic():
                won = list(
                    MakeupCredit.objects.filter(pk__in=ids, reminder_sent_at__isnull=True)
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)
                )
                MakeupCredit.objects.filter(pk__in=won, reminder_sent_at__isnull=True).update(
                    reminder_sent_at=now
                )
                # The e-mails, in the claim's transaction (makeup.outbox): claimed means sent.
                outbox.enqueue_many(
                    "credits.tasks.send_expiry_reminder",
                    [(f"credit-expiring:{pk}", (company.pk, pk)) for pk in won],
                )
                hooks.credits_announce(event="expiring", credit_ids=won, now=now)
            claimed.extend((company.pk, pk) for pk in won)
    return claimed
