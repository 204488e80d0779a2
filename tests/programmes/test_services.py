"""The programme and class services refuse what the forms refuse, with readable messages,
and write nothing when they do."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from makeup.errors import DomainError
from makeup.models import Membership
from programmes.models import Class, ClassSchedule, Programme, Session
from programmes.services import (
    Slot,
    class_create,
    class_set_archived,
    class_update,
    programme_create,
    programme_set_archived,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 1, tzinfo=UTC)
TUESDAY = Slot(1, time(17, 0), 30)


def _create(world, programme, **overrides):
    values = {
        "company": world.company_a,
        "programme": programme,
        "name": "Tuesday Dolphins",
        "capacity": 8,
        "start_date": date(2026, 10, 6),
        "end_date": date(2026, 12, 15),
        "schedule": [TUESDAY],
        "price_per_session": Decimal("25"),
        "now": NOW,
    }
    values.update(overrides)
    return class_create(**values)


@pytest.fixture
def programme(world):
    return f.ProgrammeFactory(company=world.company_a)


def test_frn_4_programme_create_normalises_and_refuses_a_taken_code(world):
    with scope(company=world.company_a):
        programme = programme_create(company=world.company_a, name=" Swim ", code=" swim-l2 ")
        assert (programme.name, programme.code) == ("Swim", "SWIM-L2")
        with pytest.raises(DomainError, match="already uses the code SWIM-L2"):
            programme_create(company=world.company_a, name="Other", code="Swim-L2")
        with pytest.raises(DomainError, match="capital letters"):
            programme_create(company=world.company_a, name="Other", code="SWIM L2")
        assert Programme.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"capacity": 0}, "at least one place"),
        ({"end_date": date(2026, 10, 5)}, "end date must not be before"),
        ({"min_age_months": 60, "max_age_months": 48}, "youngest age must not be above"),
        ({"price_per_session": None}, "or both"),
        ({"price_per_session": Decimal("-1")}, "can't be negative"),
        ({"schedule": []}, "at least one weekly slot"),
        (
            {"schedule": [TUESDAY, Slot(1, time(17, 15), 30)]},
            "Tuesday 17:15–17:45 overlaps Tuesday 17:00–17:30",
        ),
        ({"schedule": [Slot(6, time(23, 45), 30), Slot(0, time(0, 0), 30)]}, "overlaps"),
    ],
)
def test_class_create_refuses_bad_values_and_writes_nothing(world, programme, overrides, message):
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match=message):
            _create(world, programme, **overrides)
        assert (Class.objects.count(), ClassSchedule.objects.count(), Session.objects.count()) == (
            0,
            0,
            0,
        )


def test_class_create_refuses_an_archived_programme_and_an_outside_instructor(world, programme):
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match="must be a member"):
            _create(world, programme, instructor=world.staff_b)
        programme_set_archived(now=timezone.now(), programme=programme, archived=True)
        with pytest.raises(DomainError, match="is archived"):
            _create(world, programme)
        assert not Class.objects.exists()


def test_an_instructor_who_left_may_stay_on_their_class(world, programme):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme, instructor=world.staff_a)
        Membership.objects.filter(user=world.staff_a, company=world.company_a).delete()
        klass, _ = class_update(klass=klass, name="Renamed", now=NOW)
        assert (klass.name, klass.instructor) == ("Renamed", world.staff_a)
        other = f.ClassFactory(programme=programme)
        f.ClassScheduleFactory(klass=other)
        with pytest.raises(DomainError, match="must be a member"):
            class_update(klass=other, instructor=world.staff_a, now=NOW)


def test_class_update_refuses_unknown_fields(world, programme):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme)
        with pytest.raises(DomainError, match="Unknown class fields: company"):
            class_update(now=timezone.now(), klass=klass, company=world.company_b)


def test_programme_archive_waits_for_its_classes_and_class_unarchive_for_its_programme(
    world, programme
):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme)
        with pytest.raises(DomainError, match="still has 1 active class"):
            programme_set_archived(now=timezone.now(), programme=programme, archived=True)
        class_set_archived(klass=klass, archived=True, now=NOW)
        programme = programme_set_archived(now=timezone.now(), programme=programme, archived=True)
        assert programme.is_archived
        with pytest.raises(DomainError, match="unarchive the programme first"):
            class_set_archived(klass=klass, archived=False, now=NOW)
        programme_set_archived(now=timezone.now(), programme=programme, archived=False)
        _, result = class_set_archived(klass=klass, archived=False, now=NOW)
        assert result.created == 11


def test_a_class_entered_mid_term_gets_its_past_weeks_too(world, programme):
    """Sessions are generated between the start and end dates, so attendance can be
    recorded for lessons that took place before the class was entered."""
    from programmes.models import Session
    from programmes.services import Slot, class_create

    with scope(company=world.company_a):
        klass, result = class_create(
            now=timezone.now(),
            company=world.company_a,
            programme=programme,
            name="Mid-term",
            capacity=5,
            start_date=date(2026, 10, 6),
            end_date=date(2026, 10, 27),
            schedule=[Slot(1, time(17, 0), 30)],
            price_per_session=Decimal("20"),
        )
        days = list(Session.objects.filter(klass=klass).values_list("local_date", flat=True))
    assert result.created == 4
    assert days == [date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 20), date(2026, 10, 27)]
