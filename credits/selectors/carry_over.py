"""WAL-4, the read: which unused credits the carry-over moves at ``now``, and where to.

The carry-over service (``credits.services.credits_carry_over``) writes the plan; the expiry
sweep (``credits.services.credits_expire_due``) reads it too, so a credit the carry-over is
about to move is never expired first. Both read the one definition below.

Definitions (docs/rules.md, WAL-4):

* **A term has ended** once the company's local date is past the class's end date: the
  term's last day is over at local midnight — the instant a credit "valid until the end of
  the term" (POL-3) runs out. Counted on local dates, so a daylight-saving change on the
  last day moves nothing.
* **A credit to carry**: available; held (``MakeupCredit.holder``, WAL-1: the enrolment
  whose child may spend it — the one that earned it, a sibling's it was given to, or one it
  was carried into before) by an enrolment whose class's term has ended, in a programme whose
  policy carries; still valid when the term ended (open-ended, or expiring at or after that
  instant — one that ran out earlier stays expired as issued); and not dead even with the
  extra days (its expiry plus N days is still ahead). The holder's class decides — its term,
  its programme's policy — whatever programme the credit was earned in.
* **The next enrolment**: the holder student's enrolment in another class of the holder
  class's programme whose term is still running on the carry-over's day (the class's end date
  is today or later), not withdrawn by today, in a class not archived — the one whose class
  starts first when there are several (then the earlier enrolment).
* **The limit**: at most M credits are ever carried into one enrolment, counting those
  carried into it before (whatever became of them since). Credits are taken soonest-expiring
  first (open-ended last); the rest keep their own expiry.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django_scopes import scopes_disabled

from bookings.models import Enrolment
from makeup.models import Company

from ..models import (
    CancellationPolicy,
    CreditEvent,
    CreditState,
    MakeupCredit,
    TermEndCredits,
)


@dataclass(frozen=True)
class CarryStep:
    """One credit the carry-over moves: from its holder to ``to_enrolment``, with its new
    expiry (``None``: still open-ended) and the limit M of the holder's programme's policy."""

    credit: MakeupCredit
    to_enrolment: Enrolment
    expires_at: datetime | None
    limit: int | None


@dataclass(frozen=True)
class CarryPlan:
    steps: list[CarryStep]
    #: Credits with a next enrolment that already holds M carried credits: they stay and
    #: keep their own expiry.
    over_limit: list[MakeupCredit]


def term_end(end_date: date, tz) -> datetime:
    """WAL-4: the instant a class's term is over — the end of its last day in the company's
    zone (the same instant as a "until the end of the term" validity, POL-3), in UTC."""
    return datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def extended_expiry(expires_at: datetime | None, days: int, tz) -> datetime | None:
    """The expiry plus ``days`` calendar days in the company's zone (a credit that expired
    at 10:00 still expires at 10:00, across a daylight-saving change); open-ended stays so."""
    if expires_at is None:
        return None
    return (expires_at.astimezone(tz) + timedelta(days=days)).astimezone(UTC)


def carrying_policies(*, company: Company) -> dict[int, CancellationPolicy]:
    """The company's policies that carry credits, by programme id."""
    return {
        policy.programme_id: policy
        for policy in CancellationPolicy.objects.filter(
            company=company, term_end_credits=TermEndCredits.CARRY
        )
    }


def carrying_companies() -> list[Company]:
    """The companies with at least one policy that carries credits (across companies, for
    the daily carry-over and the expiry sweep): one query."""
    with scopes_disabled():
        return list(
            Company.objects.filter(
                pk__in=CancellationPolicy.objects.filter(
                    term_end_credits=TermEndCredits.CARRY
                ).values("company_id")
            )
            .select_related("settings")
            .order_by("pk")
        )


def carry_over_plan(
    *, company: Company, now: datetime, due_by: datetime | None = None
) -> CarryPlan:
    """The credits the carry-over moves at ``now`` (module docstring), with where to and
    their new expiry. ``due_by`` limits the plan to credits whose expiry has passed by then
    (what the expiry sweep needs; the limit is shared out the same way, soonest expiring
    first). At most four queries, one when no policy carries."""
    policies = carrying_policies(company=company)
    if not policies:
        return CarryPlan(steps=[], over_limit=[])
    tz = company.tzinfo
    today = now.astimezone(tz).date()
    credits = MakeupCredit.objects.filter(
        company=company,
        state=CreditState.AVAILABLE,
        holder__klass__programme_id__in=list(policies),
        holder__klass__end_date__lt=today,
    ).select_related("holder__klass", "holder__student")
    if due_by is not None:
        credits = credits.filter(expires_at__lte=due_by)
    candidates = []
    for credit in credits:
        klass = credit.holder.klass
        ended = term_end(klass.end_date, tz)
        days = policies[klass.programme_id].carry_extra_days
        new_expiry = extended_expiry(credit.expires_at, days, tz)
        if credit.expires_at is not None and (credit.expires_at < ended or new_expiry <= now):
            continue
        candidates.append((credit, new_expiry))
    if not candidates:
        return CarryPlan(steps=[], over_limit=[])
    nexts = _next_enrolments(
        company=company,
        today=today,
        students={credit.holder.student_id for credit, _x in candidates},
        programmes={credit.holder.klass.programme_id for credit, _x in candidates},
    )
    carried_in = dict(
        CreditEvent.objects.filter(
            kind=CreditEvent.Kind.CARRIED,
            to_enrolment_id__in=[e.pk for e in nexts.values()],
        )
        .values("to_enrolment_id")
        .annotate(n=Count("credit_id", distinct=True))
        .values_list("to_enrolment_id", "n")
    )
    candidates.sort(
        key=lambda row: (
            row[0].expires_at is None,
            row[0].expires_at or now,
            row[0].issued_at,
            row[0].pk,
        )
    )
    steps, over_limit = [], []
    for credit, new_expiry in candidates:
        holder = credit.holder
        target = nexts.get((holder.student_id, holder.klass.programme_id))
        if target is None:
            continue  # no next enrolment: it keeps its own expiry
        limit = policies[holder.klass.programme_id].carry_max_credits
        if limit is not None and carried_in.get(target.pk, 0) >= limit:
            over_limit.append(credit)
            continue
        carried_in[target.pk] = carried_in.get(target.pk, 0) + 1
        steps.append(
            CarryStep(credit=credit, to_enrolment=target, expires_at=new_expiry, limit=limit)
        )
    return CarryPlan(steps=steps, over_limit=over_limit)


def _next_enrolments(
    *, company: Company, today: date, students: set[int], programmes: set[int]
) -> dict[tuple[int, int], Enrolment]:
    """(student, programme) → the next enrolment (module docstring)."""
    enrolments = (
        Enrolment.objects.filter(
            company=company,
            student_id__in=students,
            klass__programme_id__in=programmes,
            klass__end_date__gte=today,
            klass__archived_at__isnull=True,
        )
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=today))
        .select_related("klass", "student")
        .order_by("klass__start_date", "start_date", "pk")
    )
    nexts: dict[tuple[int, int], Enrolment] = {}
    for enrolment in enrolments:
        nexts.setdefault((enrolment.student_id, enrolment.klass.programme_id), enrolment)
    return nexts
