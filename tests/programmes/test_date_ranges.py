"""Out-of-range dates are refused with a clear message, never a 500: a class ending on
31 Dec 9999 overflowed the session generator, one ending in 2200 made 9,090 sessions in one
request. A class's dates lie in 2000…2100 and its term is at most two years (731 days)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scope

from makeup.dates import MAX_TERM_DAYS
from makeup.errors import DomainError
from programmes.models import Class, Session
from programmes.services import Slot, class_create, class_update
from programmes.services.sessions import session_create_one_off
from tests import factories as f

from .test_class_pages import _class_data

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 1, tzinfo=UTC)
TUESDAY = Slot(1, time(17, 0), 30)
START = date(2026, 10, 6)


@pytest.fixture
def programme(world):
    return f.ProgrammeFactory(company=world.company_a)


def _create(world, programme, **overrides):
    values = {
        "company": world.company_a,
        "programme": programme,
        "name": "Tuesday Dolphins",
        "capacity": 8,
        "start_date": START,
        "end_date": START + timedelta(weeks=10),
        "schedule": [TUESDAY],
        "price_per_session": Decimal("25"),
        "now": NOW,
    }
    values.update(overrides)
    return class_create(**values)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (START, date(9999, 12, 31), "between the years 2000 and 2100"),
        (date(1, 1, 1), START, "between the years 2000 and 2100"),
        (date(1999, 12, 31), date(2000, 1, 4), "between the years 2000 and 2100"),
        (date(2100, 12, 1), date(2101, 1, 1), "between the years 2000 and 2100"),
        (START, date(2200, 12, 31), "between the years 2000 and 2100"),
        (START, date(2030, 12, 31), r"at most two years \(731 days\)"),
        (START, START + timedelta(days=MAX_TERM_DAYS + 1), "at most two years"),
    ],
)
def test_class_create_refuses_out_of_range_dates_and_too_long_terms(
    world, programme, start, end, message
):
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match=message):
            _create(world, programme, start_date=start, end_date=end)
        assert Class.objects.count() == Session.objects.count() == 0


def test_class_create_takes_a_two_year_term_and_the_range_edges(world, programme):
    with scope(company=world.company_a):
        klass, result = _create(world, programme, end_date=START + timedelta(days=MAX_TERM_DAYS))
        assert result.created == 105  # Tuesdays of two years
        _create(
            world,
            programme,
            name="First",
            start_date=date(2000, 1, 1),
            end_date=date(2000, 3, 1),
        )
        _create(
            world,
            programme,
            name="Last",
            start_date=date(2100, 11, 1),
            end_date=date(2100, 12, 31),
        )
        assert Class.objects.count() == 3


def test_class_update_refuses_a_term_ending_in_9999_and_keeps_the_class(world, programme):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme)
        sessions = Session.objects.filter(klass=klass).count()
        for end in (date(9999, 12, 31), date(2200, 12, 31), date(2030, 12, 31)):
            with pytest.raises(DomainError):
                class_update(klass=klass, end_date=end, now=NOW)
        klass.refresh_from_db()
        assert klass.end_date == START + timedelta(weeks=10)
        assert Session.objects.filter(klass=klass).count() == sessions


def test_one_off_session_refuses_a_date_out_of_range(world, programme):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme)
        for day in (date(9999, 12, 31), date(2101, 1, 1)):
            with pytest.raises(DomainError, match="between the years 2000 and 2100"):
                session_create_one_off(
                    klass=klass, local_date=day, start_time=time(9), duration_minutes=30, now=NOW
                )


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-10-06", "9999-12-31", "end_date", "between the years 2000 and 2100"),
        ("0001-01-01", "2026-10-06", "start_date", "between the years 2000 and 2100"),
        ("2026-10-06", "2200-12-31", "end_date", "between the years 2000 and 2100"),
        ("2026-10-06", "2030-12-31", "end_date", "at most two years"),
    ],
)
def test_class_page_refuses_out_of_range_dates_next_to_the_field(
    world, login, programme, start, end, field, message
):
    data = _class_data(programme, start_date=start, end_date=end)
    response = login(world.admin_a).post(reverse("manage:class_create"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get(field, []))
    with scope(company=world.company_a):
        assert Class.objects.count() == 0


def test_class_edit_page_refuses_an_end_in_9999_without_a_500(world, login, programme):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme)
        schedule = list(klass.schedule.all())
    data = _class_data(
        programme,
        slots=((1, "17:00", 30),),
        initial=schedule,
        start_date="2026-10-06",
        end_date="9999-12-31",
    )
    response = login(world.admin_a).post(reverse("manage:class_edit", args=[klass.pk]), data)
    assert response.status_code == 200
    assert "between the years 2000 and 2100" in response.content.decode()


def test_one_off_page_refuses_a_date_in_9999_without_a_500(world, login, programme):
    with scope(company=world.company_a):
        klass, _ = _create(world, programme)
    response = login(world.admin_a).post(
        reverse("manage:session_create_one_off", args=[klass.pk]),
        {"local_date": "9999-12-31", "start_time": "09:00", "duration_minutes": "30"},
    )
    assert response.status_code == 200
    assert "between the years 2000 and 2100" in response.content.decode()
