"""Generating a class's sessions from its weekly schedule (TEN-3: stored in UTC, wall-clock
times in the company's zone), and regenerating them after a schedule edit or archiving."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope

from bookings.models import Attendance
from programmes.models import Session
from programmes.services import Slot, class_set_archived, class_update
from programmes.services.sessions import class_generate_sessions
from tests import factories as f

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY, THURSDAY = 1, 2, 3
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def _class(company, *, start: date, end: date, slots=((TUESDAY, time(17, 0), 30),)):
    klass = f.ClassFactory(programme__company=company, start_date=start, end_date=end)
    for weekday, start_time, minutes in slots:
        f.ClassScheduleFactory(
            klass=klass, weekday=weekday, start_time=start_time, duration_minutes=minutes
        )
    return klass


def _sessions(klass) -> list[Session]:
    return list(Session.objects.filter(klass=klass).order_by("starts_at"))


@pytest.mark.parametrize(
    ("zone", "start", "end", "utc_hours"),
    [
        # Sydney: daylight saving begins Sunday 4 October 2026 (UTC+10 → UTC+11).
        ("Australia/Sydney", date(2026, 9, 22), date(2026, 10, 13), [7, 7, 6, 6]),
        # Sydney: daylight saving ends Sunday 4 April 2027 (UTC+11 → UTC+10).
        ("Australia/Sydney", date(2027, 3, 23), date(2027, 4, 13), [6, 6, 7, 7]),
        # New York: daylight saving ends Sunday 1 November 2026 (UTC-4 → UTC-5).
        ("America/New_York", date(2026, 10, 20), date(2026, 11, 10), [21, 21, 22, 22]),
    ],
)
def test_ten_3_weekly_class_keeps_local_time_across_daylight_saving(zone, start, end, utc_hours):
    company = f.CompanyFactory(timezone=zone)
    klass = _class(company, start=start, end=end)
    with scope(company=company):
        result = class_generate_sessions(klass=klass, now=LONG_AGO)
        sessions = _sessions(klass)
    assert result.created == 4
    local = [s.starts_at.astimezone(ZoneInfo(zone)) for s in sessions]
    assert [(t.weekday(), t.time()) for t in local] == [(TUESDAY, time(17, 0))] * 4
    assert [s.starts_at.astimezone(UTC).hour for s in sessions] == utc_hours
    assert [s.local_date for s in sessions] == [start + timedelta(weeks=i) for i in range(4)]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in sessions)


def test_term_boundaries_include_start_and_end_day_when_the_weekday_matches(world):
    klass = _class(world.company_a, start=date(2026, 10, 6), end=date(2026, 10, 20))
    with scope(company=world.company_a):
        class_generate_sessions(klass=klass, now=LONG_AGO)
        days = [s.local_date for s in _sessions(klass)]
    assert days == [date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 20)]


def test_term_boundaries_no_session_before_start_or_after_end(world):
    # Wednesday 7 Oct to Monday 19 Oct: the Tuesdays 6 Oct and 20 Oct are outside the term.
    klass = _class(world.company_a, start=date(2026, 10, 7), end=date(2026, 10, 19))
    with scope(company=world.company_a):
        class_generate_sessions(klass=klass, now=LONG_AGO)
        days = [s.local_date for s in _sessions(klass)]
    assert days == [date(2026, 10, 13)]


def test_two_slots_per_week(world):
    klass = _class(
        world.company_a,
        start=date(2026, 10, 5),
        end=date(2026, 10, 18),
        slots=[(TUESDAY, time(17, 0), 30), (THURSDAY, time(16, 15), 45)],
    )
    with scope(company=world.company_a):
        result = class_generate_sessions(klass=klass, now=LONG_AGO)
        sessions = _sessions(klass)
    tz = world.company_a.tzinfo
    assert result.created == 4
    assert [(s.local_date, s.starts_at.astimezone(tz).time()) for s in sessions] == [
        (date(2026, 10, 6), time(17, 0)),
        (date(2026, 10, 8), time(16, 15)),
        (date(2026, 10, 13), time(17, 0)),
        (date(2026, 10, 15), time(16, 15)),
    ]
    assert {s.ends_at - s.starts_at for s in sessions} == {
        timedelta(minutes=30),
        timedelta(minutes=45),
    }


def test_sessions_before_now_are_not_generated(world):
    klass = _class(world.company_a, start=date(2026, 10, 6), end=date(2026, 10, 27))
    now = datetime(2026, 10, 14, tzinfo=UTC)
    with scope(company=world.company_a):
        class_generate_sessions(klass=klass, now=now)
        days = [s.local_date for s in _sessions(klass)]
    assert days == [date(2026, 10, 20), date(2026, 10, 27)]


@pytest.fixture
def term_in_progress(world):
    """A Tuesday 17:00 class from 6 Oct to 15 Dec 2026, generated on 1 Sept; now is
    1 Nov: four Tuesdays are past. A one-off Thursday session is added on 26 Nov and a
    student's attendance is recorded for Tuesday 24 Nov."""
    company = world.company_a
    klass = _class(company, start=date(2026, 10, 6), end=date(2026, 12, 15))
    with scope(company=company):
        class_generate_sessions(klass=klass, now=datetime(2026, 9, 1, tzinfo=UTC))
        one_off = f.SessionFactory(
            klass=klass, one_off=True, local_date=date(2026, 11, 26), local_time=time(10, 0)
        )
        attended = Session.objects.get(klass=klass, local_date=date(2026, 11, 24))
        enrolment = f.EnrolmentFactory(klass=klass)
        Attendance.objects.create(company=company, enrolment=enrolment, session=attended)
    return klass, one_off, attended, datetime(2026, 11, 1, tzinfo=UTC)


def test_regeneration_after_schedule_edit_keeps_what_it_must(world, term_in_progress):
    klass, one_off, attended, now = term_in_progress
    with scope(company=world.company_a):
        past_ids = set(
            Session.objects.filter(klass=klass, starts_at__lte=now).values_list("pk", flat=True)
        )
        assert len(past_ids) == 4  # 6, 13, 20 and 27 October
        _, result = class_update(klass=klass, schedule=[Slot(WEDNESDAY, time(16, 0), 40)], now=now)
        sessions = _sessions(klass)
    assert (result.created, result.removed, result.kept) == (6, 6, 1)
    assert "1 kept although no longer in the schedule" in result.message
    ids = {s.pk for s in sessions}
    assert past_ids <= ids, "sessions that already took place are never touched"
    assert one_off.pk in ids, "one-off sessions are kept"
    assert attended.pk in ids, "a session with attendance is kept"
    future_generated = [s for s in sessions if s.starts_at > now and not s.one_off]
    tz = world.company_a.tzinfo
    assert sorted(s.local_date for s in future_generated if s.pk != attended.pk) == [
        date(2026, 11, 4),
        date(2026, 11, 11),
        date(2026, 11, 18),
        date(2026, 11, 25),
        date(2026, 12, 2),
        date(2026, 12, 9),
    ]
    assert all(
        s.starts_at.astimezone(tz).time() == time(16, 0)
        for s in future_generated
        if s.pk != attended.pk
    )

    with scope(company=world.company_a):
        again = class_generate_sessions(klass=klass, now=now)
        assert {s.pk for s in _sessions(klass)} == ids
    assert (again.created, again.removed) == (0, 0), "regeneration is idempotent"


def test_changing_only_a_slot_length_updates_future_sessions_in_place(world, term_in_progress):
    klass, _, attended, now = term_in_progress
    with scope(company=world.company_a):
        before = {s.pk for s in _sessions(klass)}
        _, result = class_update(klass=klass, schedule=[Slot(TUESDAY, time(17, 0), 45)], now=now)
        sessions = _sessions(klass)
    assert (result.created, result.removed, result.kept) == (0, 0, 0)
    assert {s.pk for s in sessions} == before
    future = [s for s in sessions if s.starts_at > now and not s.one_off]
    assert {s.ends_at - s.starts_at for s in future} == {timedelta(minutes=45)}


def test_shortening_the_term_removes_sessions_after_the_new_end(world, term_in_progress):
    klass, _, attended, now = term_in_progress
    with scope(company=world.company_a):
        _, result = class_update(klass=klass, end_date=date(2026, 11, 17), now=now)
        days = [s.local_date for s in _sessions(klass) if not s.one_off]
    # Tuesdays 3, 10, 17 Nov stay; 24 Nov stays for its attendance; 1, 8, 15 Dec go.
    assert (result.removed, result.kept) == (3, 1)
    assert days[-4:] == [
        date(2026, 11, 3),
        date(2026, 11, 10),
        date(2026, 11, 17),
        date(2026, 11, 24),
    ]


def test_archiving_removes_future_unprotected_sessions_and_unarchiving_restores(
    world, term_in_progress
):
    klass, one_off, attended, now = term_in_progress
    with scope(company=world.company_a):
        _, result = class_set_archived(klass=klass, archived=True, now=now)
        remaining = _sessions(klass)
        assert (result.created, result.removed, result.kept) == (0, 6, 1)
        assert {s.pk for s in remaining if s.starts_at > now} == {attended.pk, one_off.pk}
        assert len([s for s in remaining if s.starts_at <= now]) == 4

        _, result = class_set_archived(klass=klass, archived=False, now=now)
        assert (result.created, result.removed) == (6, 0)
        assert len(_sessions(klass)) == 4 + 7 + 1
