"""WAL-4, the write: when a class's term ends, the unused credits of a programme whose policy
carries them move to the student's next enrolment in the programme with N more days, at most
M per receiving enrolment; the family is told in one message. What is carried, and where to,
is :func:`credits.selectors.carry_over.carry_over_plan`.

Moving a credit sets its ``holder`` (WAL-1: the enrolment whose child may spend it) to the
next enrolment — the same child, in the same programme as the class whose term ended — and
nothing else: its ``enrolment`` stays the one that earned it, which gives its programme
(MKP-1, WAL-3) and is where the outstanding cap (POL-5) and the rolling window (POL-6) count
it, so every make-up it could pay for before it still can, and it counts where it was earned
and never where it lands; only the limit M counts what lands. A credit given to a sibling
carries the same way, by its holder: into the sibling's next class. Being the same child's,
a carried credit is not "given to a sibling" (``MakeupCredit.is_transferred``): a correction
of the lesson that earned it may still withdraw it while unused (ATT-5).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from bookings.models import Enrolment
from makeup import outbox
from makeup.models import Company

from ..models import CreditEvent, CreditState, MakeupCredit
from ..selectors.carry_over import CarryStep, carry_over_plan
from .ledger import format_moment, record_event


@dataclass(frozen=True)
class CarriedCredit:
    credit_id: int
    family_id: int
    from_enrolment_id: int
    to_enrolment_id: int
    expires_at: datetime | None


@dataclass
class CarryOverResult:
    """What one run did: the credits moved, the families told (one message each), and the
    credits left where they were because their next enrolment was at the limit."""

    carried: list[CarriedCredit] = field(default_factory=list)
    families: list[int] = field(default_factory=list)
    over_limit: list[int] = field(default_factory=list)


def carried_message_key(*, family_id: int, day) -> str:
    """The outbox key of a family's "credits moved" message: one per family and local day."""
    return f"credits-carried:{family_id}:{day.isoformat()}"


def credits_carry_over(*, company: Company, now: datetime) -> CarryOverResult:
    """WAL-4: carry the unused credits of ended terms into the students' next enrolments.

    Each credit moves once per term end: afterwards its holder is an enrolment whose term is
    still running, so a rerun the same day or any later day finds nothing to do — until that
    term ends too, when the policy applies again. The expiry is the credit's own plus the
    policy's extra days, in calendar days of the company's zone; an open-ended credit stays
    open-ended. Each move writes a ``carried`` entry in the credit's history with the old and
    the new holder (CRD-2; the owners' audit log lists it). Per family, one transaction: the
    receiving enrolments are locked, each credit is re-read under its lock and the limit M
    re-counted, so overlapping runs move each credit once and never past the limit; the
    family's message goes to the outbox in that transaction (one per family and day)."""
    plan = carry_over_plan(company=company, now=now)
    result = CarryOverResult(over_limit=[credit.pk for credit in plan.over_limit])
    by_family: dict[int, list[CarryStep]] = defaultdict(list)
    for step in plan.steps:
        by_family[step.credit.holder.student.family_id].append(step)
    for family_id in sorted(by_family):
        carried = _carry_family(company=company, steps=by_family[family_id], now=now)
        if not carried:
            continue
        result.carried += carried
        result.families.append(family_id)
    return result


@transaction.atomic
def _carry_family(
    *, company: Company, steps: list[CarryStep], now: datetime
) -> list[CarriedCredit]:
    tz = company.tzinfo
    family_id = steps[0].credit.holder.student.family_id
    targets = {
        e.pk: e
        for e in Enrolment.objects.select_for_update()
        .filter(pk__in={step.to_enrolment.pk for step in steps})
        .select_related("klass")
        .order_by("pk")
    }
    carried_in = {
        pk: CreditEvent.objects.filter(kind=CreditEvent.Kind.CARRIED, to_enrolment_id=pk)
        .values("credit_id")
        .distinct()
        .count()
        for pk in targets
    }
    locked = {
        credit.pk: credit
        for credit in MakeupCredit.objects.select_for_update()
        .filter(pk__in=[step.credit.pk for step in steps])
        .order_by("pk")
    }
    done: list[CarriedCredit] = []
    for step in steps:
        credit, target = locked.get(step.credit.pk), targets.get(step.to_enrolment.pk)
        if (
            credit is None
            or target is None
            or credit.state != CreditState.AVAILABLE
            or credit.holder_id != step.credit.holder_id
            or credit.expires_at != step.credit.expires_at
        ):
            continue  # moved, spent or changed since the plan was read: a later run decides
        if step.limit is not None and carried_in[target.pk] >= step.limit:
            continue
        carried_in[target.pk] += 1
        old = step.credit.holder
        credit.holder, credit.expires_at = target, step.expires_at
        credit.save(update_fields=["holder", "expires_at"])
        record_event(
            credit,
            kind=CreditEvent.Kind.CARRIED,
            from_state=CreditState.AVAILABLE,
            to_state=CreditState.AVAILABLE,
            at=now,
            actor=None,
            from_enrolment=old,
            to_enrolment=target,
            note=(
                _("The term of {old} ended: moved to {new}, valid until {date}.").format(
                    old=old.klass.name,
                    new=target.klass.name,
                    date=format_moment(step.expires_at, tz),
                )
                if step.expires_at
                else _("The term of {old} ended: moved to {new}, still open-ended.").format(
                    old=old.klass.name, new=target.klass.name
                )
            ),
        )
        done.append(
            CarriedCredit(
                credit_id=credit.pk,
                family_id=family_id,
                from_enrolment_id=old.pk,
                to_enrolment_id=target.pk,
                expires_at=step.expires_at,
            )
        )
    if done:
        # The family's message, in this transaction (makeup.outbox): carried means told.
        outbox.enqueue(
            "credits.tasks.send_credits_carried",
            company.pk,
            family_id,
            [row.credit_id for row in done],
            key=carried_message_key(family_id=family_id, day=now.astimezone(tz).date()),
        )
    return done
