"""The family of the family-credit-wallet tests (WAL-1, WAL-3), shared by the service and
page tests. The Parker family (``world.parent_a``): Ava in Swim Level 2 (which allows giving
credits to siblings), Ben in Swim Level 3 (which also accepts Level 2 credits), Cleo in Swim
Level 4 (which doesn't); another class of each level with a session next week to make up
in; and Ava's credit, earned by a lesson she cancelled on time. Time: Sat 21 Nov 2026, 11:00
in Sydney."""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState, Guardian
from bookings.services import attendance_set_state
from credits.models import MakeupCredit
from tests import factories as f

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


def any_age_class(programme, name, **extra):
    return f.ClassFactory(
        programme=programme, name=name, min_age_months=None, max_age_months=None, **extra
    )


def wallet_family(world) -> SimpleNamespace:
    x = SimpleNamespace(world=world, company=world.company_a, staff=world.staff_a)
    x.parent = world.parent_a
    with scopes_disabled():
        x.family = Guardian.objects.get(user=world.parent_a).family
    x.l2 = f.ProgrammeFactory(
        company=x.company, name="Swim Level 2", code="SWIM-L2", credit_transfer_allowed=True
    )
    x.l3 = f.ProgrammeFactory(company=x.company, name="Swim Level 3", code="SWIM-L3")
    x.l4 = f.ProgrammeFactory(company=x.company, name="Swim Level 4", code="SWIM-L4")
    x.l3.accepts_credits_from.add(x.l2)
    x.l2_class = any_age_class(x.l2, "L2 Dolphins")
    x.l3_class = any_age_class(x.l3, "L3 Sharks")
    x.l4_class = any_age_class(x.l4, "L4 Squad")
    x.ava = f.EnrolmentFactory(
        klass=x.l2_class,
        student__family=x.family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    x.ben = f.EnrolmentFactory(
        klass=x.l3_class,
        student__family=x.family,
        student__first_name="Ben",
        student__date_of_birth=date(2018, 3, 1),
    )
    x.cleo = f.EnrolmentFactory(
        klass=x.l4_class,
        student__family=x.family,
        student__first_name="Cleo",
        student__date_of_birth=date(2016, 1, 1),
    )
    # Make-up places: another L2, L3 and L4 class each, with a session next week.
    x.l2_host = f.SessionFactory(
        klass=any_age_class(x.l2, "L2 Otters"), local_date=date(2026, 11, 26), local_time=time(16)
    )
    x.l3_host = f.SessionFactory(
        klass=any_age_class(x.l3, "L3 Rays"), local_date=date(2026, 11, 25), local_time=time(16)
    )
    x.l4_host = f.SessionFactory(
        klass=any_age_class(x.l4, "L4 Pike"), local_date=date(2026, 11, 27), local_time=time(16)
    )
    # Ava's missed lesson, Tue 17 Nov 17:00, cancelled on time two days before: her credit.
    x.missed = f.SessionFactory(klass=x.l2_class, local_date=date(2026, 11, 17))
    with scope(company=x.company):
        told = x.missed.starts_at - timedelta(days=2)
        x.absence = attendance_set_state(
            enrolment=x.ava,
            session=x.missed,
            state=AttendanceState.CANCELLED,
            cancelled_at=told,
            actor=x.staff,
            now=told,
        )
        x.credit = MakeupCredit.objects.get(attendance=x.absence)
    return x
