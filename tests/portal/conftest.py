"""A family in the portal: Ava (born 1 Jun 2020) of the Parker family (``world.parent_a``)
is enrolled in Home; Host is a class of the same programme with room; Little is for
toddlers (MKP-2). Time is frozen on Sat 21 Nov 2026, 11:00 in Sydney."""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from bookings.models import Guardian
from credits.services import credit_add_manual
from tests import factories as f

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def add_credit(enrolment, days: int = 30, now: datetime = NOW):
    with scope(company=enrolment.company):
        return credit_add_manual(
            enrolment=enrolment,
            reason="Compensation",
            actor=None,
            valid_days=days,
            now=now - timedelta(days=1),
        )


@pytest.fixture
def pf(world, frozen):
    p = SimpleNamespace(company=world.company_a, user=world.parent_a)
    with scopes_disabled():
        p.guardian = Guardian.objects.select_related("family").get(user=world.parent_a)
    p.family = p.guardian.family
    p.programme = f.ProgrammeFactory(company=p.company, name="Swim Level 2")
    p.home = f.ClassFactory(programme=p.programme, name="Home Dolphins", location="Main pool")
    p.host = f.ClassFactory(
        programme=p.programme,
        name="Host Sharks",
        capacity=2,
        min_age_months=60,
        max_age_months=8 * 12 + 11,
        location="Lake pool",
    )
    p.little = f.ClassFactory(
        programme=p.programme, name="Little Starfish", min_age_months=24, max_age_months=48
    )
    p.ava = f.EnrolmentFactory(
        klass=p.home,
        student__family=p.family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    # Ava's own lessons: Tue 24 Nov and Tue 1 Dec, 17:00.
    p.lesson = f.SessionFactory(klass=p.home, local_date=date(2026, 11, 24))
    p.next_lesson = f.SessionFactory(klass=p.home, local_date=date(2026, 12, 1))
    # Make-up candidates: Wed 25 Nov 16:00 (Host), Tue 24 Nov 17:30 (Little, too young).
    p.session = f.SessionFactory(klass=p.host, local_date=date(2026, 11, 25), local_time=time(16))
    p.toddlers = f.SessionFactory(
        klass=p.little, local_date=date(2026, 11, 24), local_time=time(17, 30)
    )
    p.credit = add_credit(p.ava)
    return p
