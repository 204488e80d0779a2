"""Demo credits (credits part of ``seed_demo``): the attendance history already earned its
credits through the decision chain; here the expiry sweep catches up and Mia gets a
manual credit. The make-ups are seeded by ``makeups.demo``.
All through the services, and safe to run again."""

from django.utils import timezone
from django_scopes import scope

from bookings.models import Enrolment

from .models import CancellationPolicy, CreditPath, MakeupCredit, TermEndCredits
from .services.ledger import credit_add_manual
from .services.policies import policy_update
from .services.sweeps import credits_expire_due

# WAL-4: at the end of a term Riverside's unused credits move into the student's next
# enrolment of the programme with 28 more days, at most 2 per enrolment.
CARRY_EXTRA_DAYS, CARRY_MAX_CREDITS = 28, 2


def seed(ctx) -> None:
    credits_expire_due(now=timezone.now())
    riverside = ctx.companies["riverside"]
    with scope(company=riverside):
        for policy in CancellationPolicy.objects.filter(company=riverside).order_by("pk"):
            if policy.term_end_credits != TermEndCredits.CARRY:
                policy_update(
                    policy=policy,
                    values={
                        "term_end_credits": TermEndCredits.CARRY,
                        "carry_extra_days": CARRY_EXTRA_DAYS,
                        "carry_max_credits": CARRY_MAX_CREDITS,
                    },
                    cutoffs=[_row(c) for c in policy.weekly_cutoffs.all()],
                    now=timezone.now(),
                    actor=ctx.users["admin@riverside.example"],
                )
        parent = ctx.users["parent@riverside.example"]
        admin = ctx.users["admin@riverside.example"]
        mia = (
            Enrolment.objects.filter(
                student__family__guardians__user=parent, student__first_name="Mia"
            )
            .order_by("pk")
            .first()
        )
        if (
            mia is not None
            and not MakeupCredit.objects.filter(enrolment=mia, path=CreditPath.MANUAL).exists()
        ):
            credit_add_manual(
                now=timezone.now(),
                enrolment=mia,
                reason="Compensation for the cancelled holiday clinic",
                actor=admin,
                valid_days=30,
            )


def _row(cutoff) -> dict:
    """A weekly cut-off as the policy service takes it (kept as it is)."""
    return {
        "lesson_weekday": cutoff.lesson_weekday,
        "cutoff_weekday": cutoff.cutoff_weekday,
        "cutoff_time": cutoff.cutoff_time,
    }
