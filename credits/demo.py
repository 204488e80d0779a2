"""Demo credits (credits part of ``seed_demo``): the attendance history already earned its
credits through the decision chain; here the expiry sweep catches up and Mia gets a
manual credit. The make-ups are seeded by ``makeups.demo``.
All through the services, and safe to run again."""

from django.utils import timezone
from django_scopes import scope

from bookings.models import Enrolment

from .models import CreditPath, MakeupCredit
from .services.ledger import credit_add_manual
from .services.sweeps import credits_expire_due


def seed(ctx) -> None:
    credits_expire_due(now=timezone.now())
    riverside = ctx.companies["riverside"]
    with scope(company=riverside):
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
