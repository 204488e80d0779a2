"""Demo credits (credits part of ``seed_demo``): the attendance history already earned its
credits through the decision chain; here the expiry sweep catches up, and the demo parent's
family gets a credit added by an admin."""

from django.utils import timezone
from django_scopes import scope

from bookings.models import Enrolment

from .models import CreditPath, MakeupCredit
from .sweeps import credits_expire_due


def seed(ctx) -> None:
    credits_expire_due(now=timezone.now())
    riverside = ctx.companies["riverside"]
    with scope(company=riverside):
        mia = (
            Enrolment.objects.filter(
                student__family__guardians__user=ctx.users["parent@riverside.example"],
                student__first_name="Mia",
            )
            .order_by("pk")
            .first()
        )
        if (
            mia is None
            or MakeupCredit.objects.filter(enrolment=mia, path=CreditPath.MANUAL).exists()
        ):
            return
        from .services import credit_add_manual

        credit_add_manual(
            enrolment=mia,
            reason="Compensation for the cancelled holiday clinic",
            actor=ctx.users["admin@riverside.example"],
            valid_days=30,
        )
