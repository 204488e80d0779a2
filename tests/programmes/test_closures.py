"""Closures: the calendar and its pages (CLO-1), and sessions kept to it (CLO-2).

Time is frozen on Sat 21 Nov 2026, 11:00 in Sydney (the companies' zone): every date below
is built from that fixed moment, never from the real day."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from bookings.services import session_cancel
from makeup.errors import DomainError
from makeup.models import CompanySettings
from programmes.models import Closure, ClosureCredits, Session
from programmes.selectors import (
    ClosureCalendar,
    closed_sessions_q,
    closure_days_text,
    closure_windows,
    holidays_ahead,
)
from programmes.services import (
    closure_create,
    closure_mark_removed,
    closure_update,
    closures_add_holidays,
)
from programmes.services.sessions import class_generate_sessions, session_create_one_off
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney
TODAY = date(2026, 11, 21)
TUESDAY = 1
LIST = "/manage/settings/closures/"
NEW = "/manage/settings/closures/new/"


def _closure(company, name="Pool maintenance", first=date(2026, 12, 8), last=None, **values):
    with scope(company=company):
        return closure_create(
            company=company, name=name, first_day=first, last_day=last or first, now=NOW, **values
        )


def _weekly(company, *, start=date(2026, 12, 1), end=date(2026, 12, 22), **class_values):
    """A class meeting Tuesdays 17:00–17:30 from ``start`` to ``end`` (no sessions yet)."""
    klass = f.ClassFactory(
        programme__company=company, start_date=start, end_date=end, **class_values
    )
    f.ClassScheduleFactory(klass=klass, weekday=TUESDAY, start_time=time(17), duration_minutes=30)
    return klass


def _days(klass) -> list[date]:
    with scope(company=klass.company):
        return list(
            Session.objects.filter(klass=klass)
            .order_by("starts_at")
            .values_list("local_date", flat=True)
        )


def _set_holidays(company, country="AU", subdivision="NSW"):
    with scope(company=company):
        CompanySettings.objects.filter(company=company).update(
            holiday_country=country, holiday_subdivision=subdivision
        )
    company.settings.refresh_from_db()


def _form(**overrides) -> dict:
    data = {
        "name": "Pool maintenance",
        "first_day": "2026-12-07",
        "last_day": "2026-12-09",
        "start_time": "",
        "end_time": "",
        "credits": "policy",
    }
    data.update(overrides)
    return data


# --- CLO-2: generation keeps to the closures ------------------------------------------------


def test_clo_2_generation_skips_closed_days_and_says_how_many(world):
    klass = _weekly(world.company_a)
    _closure(world.company_a, first=date(2026, 12, 8))
    with scope(company=world.company_a):
        result = class_generate_sessions(klass=klass, now=NOW)
    assert (result.created, result.skipped) == (3, 1)
    assert result.message == (
        "3 sessions added; 0 removed; 1 skipped because the school is closed that day."
    )
    assert _days(klass) == [date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 22)]


def test_clo_2_the_class_page_says_how_many_lessons_were_skipped(world, login):
    klass = _weekly(world.company_a, name="Tuesday Dolphins")
    _closure(world.company_a, first=date(2026, 12, 8), last=date(2026, 12, 15), name="Christmas")
    url = reverse("manage:class_archive", kwargs={"class_pk": klass.pk})
    client = login(world.admin_a)
    client.post(url)  # archived
    page = client.post(url, follow=True).content.decode()  # brought back: generated again
    assert (
        "Class Tuesday Dolphins brought back: 2 sessions added; 0 removed; 2 skipped because "
        "the school is closed on those days."
    ) in page
    assert _days(klass) == [date(2026, 12, 1), date(2026, 12, 22)]


def test_clo_2_regenerating_keeps_a_lesson_that_already_exists_for_the_closure_to_cancel(world):
    klass = _weekly(world.company_a)
    with scope(company=world.company_a):
        class_generate_sessions(klass=klass, now=NOW)
    _closure(world.company_a, first=date(2026, 12, 8))
    with scope(company=world.company_a):
        result = class_generate_sessions(klass=klass, now=NOW)
    # Its families hear about it and get their credits when the closure is applied.
    assert (result.created, result.removed, result.skipped) == (0, 0, 0)
    assert date(2026, 12, 8) in _days(klass)


def test_clo_2_a_one_off_lesson_is_refused_when_the_school_is_closed(world):
    klass = _weekly(world.company_a)
    _closure(world.company_a, first=date(2026, 12, 9), start_time=time(9), end_time=time(12))
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match=r"The school is closed then \(Pool maintenance\)"):
            session_create_one_off(
                klass=klass,
                local_date=date(2026, 12, 9),
                start_time=time(11, 45),
                duration_minutes=30,
                now=NOW,
            )
        # From the end of the closure on, the lesson is fine.
        session = session_create_one_off(
            klass=klass, local_date=date(2026, 12, 9), start_time=time(12), duration_minutes=30,
            now=NOW,
        )  # fmt: skip
    assert session.one_off


def _lesson(klass, day: date, at: time, minutes: int = 30):
    return f.SessionFactory(klass=klass, local_date=day, local_time=at, minutes=minutes)


def _closed(company, sessions) -> list[bool]:
    """Whether each session is closed, in memory — and the database filter agrees."""
    with scope(company=company):
        calendar = ClosureCalendar.for_company(company, date(2026, 11, 1), date(2028, 1, 1))
        in_memory = [calendar.closure_for(s) is not None for s in sessions]
        q = closed_sessions_q(calendar, company.tzinfo)
        filtered = set(
            Session.objects.filter(q).values_list("pk", flat=True) if q is not None else []
        )
    assert in_memory == [s.pk in filtered for s in sessions]
    return in_memory


def test_clo_2_a_part_day_closure_covers_only_the_lessons_overlapping_it(world):
    klass = _weekly(world.company_a)
    day = date(2026, 12, 8)
    _closure(world.company_a, first=day, start_time=time(13), end_time=time(15))
    lessons = [
        _lesson(klass, day, time(12, 30)),  # ends as it starts: open
        _lesson(klass, day, time(12, 45)),  # runs into it
        _lesson(klass, day, time(14, 30)),  # inside
        _lesson(klass, day, time(15)),  # starts as it ends: open
        _lesson(klass, day + timedelta(days=1), time(14)),  # the next day: open
    ]
    assert _closed(world.company_a, lessons) == [False, True, True, False, False]


def test_clo_2_a_lesson_starting_before_a_closure_and_ending_inside_it_is_closed(world):
    klass = _weekly(world.company_a)
    _closure(world.company_a, first=date(2026, 12, 8), last=date(2026, 12, 9))
    lessons = [
        _lesson(klass, date(2026, 12, 7), time(23, 30), minutes=60),  # into 8 Dec
        _lesson(klass, date(2026, 12, 7), time(23)),  # ends at midnight: open
        _lesson(klass, date(2026, 12, 9), time(23, 45)),  # the last day, late
        _lesson(klass, date(2026, 12, 10), time(0)),  # the day after: open
    ]
    assert _closed(world.company_a, lessons) == [True, False, True, False]


@pytest.mark.parametrize(
    ("zone", "day", "starts", "ends"),
    [
        # Sydney: daylight saving ends on the first Sunday of April (UTC+11 → UTC+10): the
        # closed day is 25 hours long in UTC.
        (
            "Australia/Sydney",
            date(2027, 4, 4),
            datetime(2027, 4, 3, 13, tzinfo=UTC),
            datetime(2027, 4, 4, 14, tzinfo=UTC),
        ),
        # Prague: summer time ends on the last Sunday of October (UTC+2 → UTC+1).
        (
            "Europe/Prague",
            date(2027, 10, 31),
            datetime(2027, 10, 30, 22, tzinfo=UTC),
            datetime(2027, 10, 31, 23, tzinfo=UTC),
        ),
    ],
)
def test_clo_2_a_closure_across_a_daylight_saving_change_runs_midnight_to_midnight(
    zone, day, starts, ends
):
    company = f.CompanyFactory(timezone=zone)
    closure = _closure(company, first=day)
    (window,) = closure_windows(closure, company.tzinfo)
    assert (window.starts_at, window.ends_at) == (starts, ends)
    local = ZoneInfo(zone)
    assert window.starts_at.astimezone(local).time() == time(0)
    assert window.ends_at.astimezone(local) == datetime.combine(
        day + timedelta(days=1), time(0), tzinfo=local
    )
    klass = _weekly(company, start=day - timedelta(days=3), end=day + timedelta(days=3))
    lessons = [
        _lesson(klass, day - timedelta(days=1), time(23, 30)),  # the evening before: open
        _lesson(klass, day, time(0, 15)),
        _lesson(klass, day, time(23, 30)),  # after the change, still the closed day
        _lesson(klass, day + timedelta(days=1), time(0, 15)),  # the next day: open
    ]
    assert _closed(company, lessons) == [False, True, True, False]


def test_clo_2_a_location_closure_leaves_other_locations_open(world):
    lake = _weekly(world.company_a, location="Lake pool")
    river = _weekly(world.company_a, location="River pool")
    _closure(world.company_a, locations=["Lake pool"])
    with scope(company=world.company_a):
        lake_result = class_generate_sessions(klass=lake, now=NOW)
        river_result = class_generate_sessions(klass=river, now=NOW)
    assert (lake_result.skipped, river_result.skipped) == (1, 0)
    assert date(2026, 12, 8) not in _days(lake) and date(2026, 12, 8) in _days(river)


def test_clo_2_a_programme_closure_leaves_other_programmes_open(world):
    swim = _weekly(world.company_a)
    dive = _weekly(world.company_a)
    _closure(world.company_a, programmes=[swim.programme])
    lessons = [
        _lesson(swim, date(2026, 12, 8), time(17)),
        _lesson(dive, date(2026, 12, 8), time(17)),
    ]
    assert _closed(world.company_a, lessons) == [True, False]


def test_clo_2_a_removed_closure_no_longer_counts(world):
    klass = _weekly(world.company_a)
    closure = _closure(world.company_a)
    lesson = _lesson(klass, date(2026, 12, 8), time(17))
    assert _closed(world.company_a, [lesson]) == [True]
    with scope(company=world.company_a):
        closure_mark_removed(closure=closure, now=NOW)
    assert _closed(world.company_a, [lesson]) == [False]
    with scope(company=world.company_a):
        Session.objects.filter(pk=lesson.pk).delete()
        assert class_generate_sessions(klass=klass, now=NOW).skipped == 0
    assert date(2026, 12, 8) in _days(klass)


def test_clo_2_another_companys_closure_never_closes_a_lesson(world):
    klass = _weekly(world.company_a)
    _closure(world.company_b)
    with scope(company=world.company_a):
        assert class_generate_sessions(klass=klass, now=NOW).skipped == 0


# --- CLO-1: the Closures page -----------------------------------------------------------------


def test_clo_1_admin_adds_a_closure_for_some_locations_and_programmes(world, login):
    lake = f.ClassFactory(programme__company=world.company_a, location="Lake pool")
    f.ClassFactory(programme__company=world.company_a, location="River pool")
    f.ClassFactory(programme__company=world.company_b, location="Beta pool")
    client = login(world.admin_a)
    page = client.get(NEW).content.decode()
    assert "Lake pool" in page and "River pool" in page and "Beta pool" not in page
    response = client.post(
        NEW,
        _form(locations=["Lake pool"], programmes=[lake.programme.pk], credits="none"),
        follow=True,
    )
    page = response.content.decode()
    with scope(company=world.company_a):
        closure = Closure.objects.get()
    detail = reverse("manage:closure_detail", kwargs={"closure_pk": closure.pk})
    assert response.redirect_chain == [(detail, 302)]  # its page: what applying it would do
    assert "Closure Pool maintenance added." in page
    assert "What applying it does" in page
    assert f'href="{LIST}"' in page and "All closures" in page
    assert reverse("manage:closure_edit", kwargs={"closure_pk": closure.pk}) in page
    page = client.get(LIST).content.decode()
    assert f'href="{detail}"' in page  # the list links each closure to its page
    assert "Mon 7 Dec – Wed 9 Dec 2026" in page
    assert "Locations: Lake pool" in page and f"Programmes: {lake.programme.name}" in page
    assert "No credit: priced into the term" in page
    with scope(company=world.company_a):
        assert list(closure.programmes.all()) == [lake.programme]
    assert (closure.locations, closure.credits, closure.created_by) == (
        ["Lake pool"],
        ClosureCredits.NONE,
        world.admin_a,
    )


def test_clo_1_a_closure_for_part_of_a_day_shows_its_hours(world, login):
    client = login(world.admin_a)
    client.post(NEW, _form(last_day="2026-12-07", start_time="13:00", end_time="15:30"))
    page = client.get(LIST).content.decode()
    assert "Mon 7 Dec 2026, 13:00–15:30" in page
    assert "Every location" in page and "Every programme" in page
    assert "Credits by each programme&#x27;s policy" in page
    with scope(company=world.company_a):
        closure = Closure.objects.get()
    assert (closure.start_time, closure.end_time) == (time(13), time(15, 30))
    closure.last_day = date(2026, 12, 9)
    assert closure_days_text(closure) == "Mon 7 Dec – Wed 9 Dec 2026, 13:00–15:30 each day"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"last_day": "2026-12-06"}, "The last day can&#x27;t be before the first day."),
        (
            {"start_time": "13:00"},
            "For part of a day give both times; for whole days give neither.",
        ),
        ({"start_time": "15:00", "end_time": "13:00"}, "The closure must end after it starts."),
        ({"first_day": "2026-11-01", "last_day": "2026-11-20"}, "can&#x27;t be wholly in the past"),
        ({"name": "   "}, "This field is required."),
    ],
)
def test_clo_1_a_refusal_shows_on_the_form_and_keeps_what_was_typed(
    world, login, overrides, message
):
    data = _form(**{"name": "Pool maintenance", **overrides})
    response = login(world.admin_a).post(NEW, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    for field in ("first_day", "last_day"):
        assert f'value="{data[field]}"' in page
    if data["name"].strip():
        assert 'value="Pool maintenance"' in page
    with scope(company=world.company_a):
        assert not Closure.objects.exists()


def test_clo_1_an_applied_closure_can_only_be_renamed(world, login):
    closure = _closure(world.company_a, name="Pool maintenance")
    klass = _weekly(world.company_a)
    lesson = _lesson(klass, date(2026, 12, 8), time(17))
    with scope(company=world.company_a):
        session_cancel(session=lesson, reason="Pool maintenance", now=NOW, closure=closure)
    url = reverse("manage:closure_edit", kwargs={"closure_pk": closure.pk})
    client = login(world.admin_a)
    page = client.get(url).content.decode()
    assert "This closure has already cancelled lessons, so only its name can change." in page
    response = client.post(url, _form(first_day="2026-12-08", last_day="2026-12-10"))
    assert response.status_code == 200
    assert "Pool maintenance has already cancelled lessons: only its name can change." in (
        response.content.decode()
    )
    assert 'value="2026-12-10"' in response.content.decode()  # what was typed stays
    response = client.post(
        url, _form(name="Pool repairs", first_day="2026-12-08", last_day="2026-12-08")
    )
    assert response.status_code == 302
    closure.refresh_from_db()
    assert (closure.name, closure.last_day) == ("Pool repairs", date(2026, 12, 8))


def test_clo_1_admin_edits_a_closure_and_its_scope(world, login):
    klass = f.ClassFactory(programme__company=world.company_a, location="Lake pool")
    closure = _closure(world.company_a, locations=["Lake pool"], programmes=[klass.programme])
    url = reverse("manage:closure_edit", kwargs={"closure_pk": closure.pk})
    client = login(world.admin_a)
    page = client.get(url).content.decode()
    assert 'name="locations" value="Lake pool"  id="id_locations_0" checked' in page
    assert f'name="programmes" value="{klass.programme.pk}"  id="id_programmes_0" checked' in page
    response = client.post(url, _form(first_day="2026-12-08", last_day="2026-12-08"))
    assert response.status_code == 302
    closure.refresh_from_db()
    with scope(company=world.company_a):
        assert (closure.locations, list(closure.programmes.all())) == ([], [])
    assert "Every location" in client.get(LIST).content.decode()


def test_clo_1_upcoming_and_past_closures_are_listed_apart(world, login):
    _closure(world.company_a, name="Christmas", first=date(2026, 12, 24), last=date(2027, 1, 2))
    current = _closure(world.company_a, name="Storm damage", first=TODAY, last=date(2026, 11, 23))
    removed = _closure(world.company_a, name="Cancelled repairs")
    with scope(company=world.company_a):
        closure_mark_removed(closure=removed, now=NOW)
        Closure.objects.create(
            company=world.company_a,
            name="Spring break",
            first_day=date(2026, 10, 1),
            last_day=date(2026, 11, 20),  # yesterday: over
            created_at=NOW - timedelta(days=90),
        )
    response = login(world.admin_a).get(LIST)
    page = response.content.decode()
    assert [c.name for c in response.context["closures"]] == ["Storm damage", "Christmas"]
    assert [c.name for c in response.context["past_closures"]] == ["Spring break"]
    assert "Thu 24 Dec 2026 – Sat 2 Jan 2027" in page  # across a new year: both years
    assert "Thu 1 Oct – Fri 20 Nov 2026 · Spring break" in page
    assert reverse("manage:closure_detail", kwargs={"closure_pk": current.pk}) in page
    assert "Cancelled repairs" not in page
    removed_url = reverse("manage:closure_edit", kwargs={"closure_pk": removed.pk})
    assert login(world.admin_a).get(removed_url).status_code == 404


def test_clo_1_a_past_closure_stays_as_it_was(world, login):
    with scope(company=world.company_a):
        past = Closure.objects.create(
            company=world.company_a,
            name="Spring break",
            first_day=date(2026, 10, 1),
            last_day=date(2026, 10, 9),
            created_at=NOW - timedelta(days=90),
        )
    url = reverse("manage:closure_edit", kwargs={"closure_pk": past.pk})
    client = login(world.admin_a)
    assert "This closure is over" in client.get(url).content.decode()
    response = client.post(url, _form(name="Autumn break", first_day="2026-10-01"))
    assert "Spring break is over: past closures stay as they were." in response.content.decode()
    past.refresh_from_db()
    assert past.name == "Spring break"


def test_clo_1_ten_2_staff_get_403_and_another_companys_closure_is_404(world, login):
    theirs = _closure(world.company_b, name="Beta repairs")
    ours = _closure(world.company_a)
    staff = login(world.staff_a)
    for url in (LIST, NEW, reverse("manage:closure_edit", kwargs={"closure_pk": ours.pk})):
        assert staff.get(url).status_code == 403
        assert staff.post(url, _form()).status_code == 403
    admin = login(world.admin_a)
    url = reverse("manage:closure_edit", kwargs={"closure_pk": theirs.pk})
    assert admin.get(url).status_code == 404
    assert admin.post(url, _form(name="Hijacked")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Beta repairs"
    assert "Beta repairs" not in admin.get(LIST).content.decode()  # only its own


def test_clo_1_the_settings_page_links_to_the_closures(world, login):
    page = login(world.admin_a).get("/manage/settings/").content.decode()
    assert f'href="{LIST}"' in page
    assert "Closures and public holidays" in page


# --- CLO-1: public holidays -----------------------------------------------------------------


def test_clo_1_without_a_country_the_page_says_where_to_choose_it(world, login):
    page = login(world.admin_a).get(LIST).content.decode()
    assert "No country is chosen for public holidays." in page
    assert 'href="/manage/settings/">Choose your country in Settings</a>' in page
    response = login(world.admin_a).post(LIST, {"days": ["2026-12-25"]})
    assert response.status_code == 200
    with scope(company=world.company_a):
        assert not Closure.objects.exists()


def test_clo_1_admin_ticks_public_holidays_and_they_are_added_once(world, login):
    _set_holidays(world.company_a)
    client = login(world.admin_a)
    page = client.get(LIST).content.decode()
    assert "Public holidays of Australia (AU), NSW in the next 365 days." in page
    assert "Fri 25 Dec 2026 · Christmas Day" in page
    assert "Mon 28 Dec 2026 · Boxing Day (observed)" in page
    assert "Mon 4 Oct 2027 · Labour Day" in page  # within a year
    response = client.post(LIST, {"days": ["2026-12-25", "2026-12-26"]}, follow=True)
    assert "2 public holidays added to the closures." in response.content.decode()
    with scope(company=world.company_a):
        added = list(Closure.objects.order_by("first_day"))
    assert [(c.name, c.holiday, c.first_day, c.last_day) for c in added] == [
        ("Christmas Day", "Christmas Day", date(2026, 12, 25), date(2026, 12, 25)),
        ("Boxing Day", "Boxing Day", date(2026, 12, 26), date(2026, 12, 26)),
    ]
    assert all(c.whole_days and not c.locations and c.credits == "policy" for c in added)
    rows = {row.name: row.added for row in response.context["holidays"]}
    assert rows["Christmas Day"] and rows["Boxing Day"] and not rows["New Year's Day"]
    assert 'name="days" value="2026-12-25"' not in response.content.decode()
    # Posted again (a second tab): no longer offered, nothing added twice.
    response = client.post(LIST, {"days": ["2026-12-25"]})
    assert "is not one of the public holidays offered" in response.content.decode()
    with scope(company=world.company_a):
        assert Closure.objects.count() == 2


@pytest.mark.parametrize(
    "day",
    [
        "2026-12-24",  # not a holiday in NSW
        "2026-11-20",  # yesterday
        "2027-12-25",  # Christmas, but more than a year ahead
        "not-a-date",
    ],
)
def test_clo_1_a_posted_day_that_is_not_an_offered_holiday_is_refused(world, login, day):
    _set_holidays(world.company_a)
    response = login(world.admin_a).post(LIST, {"days": ["2026-12-25", day]})
    assert response.status_code == 200
    assert "is not one of the public holidays offered" in response.content.decode()
    assert 'value="2026-12-25" id="holiday-2026-12-25" checked' in response.content.decode()
    with scope(company=world.company_a):
        assert not Closure.objects.exists()


def test_clo_1_the_holidays_service_trusts_no_caller(world):
    company = world.company_a
    with (
        scope(company=company),
        pytest.raises(DomainError, match="Choose your country in Settings first"),
    ):
        closures_add_holidays(
            company=company, days=[(date(2026, 12, 25), "Christmas Day")], now=NOW
        )
    _set_holidays(company)
    with scope(company=company):
        with pytest.raises(DomainError, match="Thu 24 Dec 2026 is not a public holiday"):
            closures_add_holidays(company=company, days=[(date(2026, 12, 24), "Party")], now=NOW)
        with pytest.raises(DomainError, match="Fri 25 Dec 2026 is not a public holiday"):
            closures_add_holidays(company=company, days=[(date(2026, 12, 25), "Party")], now=NOW)
        added = closures_add_holidays(
            company=company, days=[(date(2026, 12, 25), "Christmas Day")], now=NOW
        )
        again = closures_add_holidays(
            company=company, days=[(date(2026, 12, 25), "Christmas Day")], now=NOW
        )
        assert (len(added), again) == (1, [])
        assert Closure.objects.count() == 1


def test_clo_1_a_holiday_renamed_on_the_calendar_still_counts_as_added(world):
    _set_holidays(world.company_a)
    with scope(company=world.company_a):
        (closure,) = closures_add_holidays(
            company=world.company_a, days=[(date(2026, 12, 25), "Christmas Day")], now=NOW
        )
        closure_update(
            closure=closure,
            name="Christmas: pool closed",
            first_day=closure.first_day,
            last_day=closure.last_day,
            now=NOW,
        )
        rows = holidays_ahead(world.company_a, today=TODAY)
    assert next(r for r in rows if r.day == date(2026, 12, 25)).added


def _settings_data(**overrides) -> dict:
    data = {
        "company-name": "Alpha Swim",
        "company-timezone": "Australia/Sydney",
        "company-currency": "AUD",
        "company-language": "en",
        "company-address": "",
        "company-contact_email": "hello@alpha.example",
        "settings-makeup_extra_capacity": "0",
        "settings-makeup_lead_days": "4",
        "settings-expiry_reminder_days": "7",
    }
    data.update(overrides)
    return data


def test_clo_1_the_settings_page_chooses_the_holidays_country_and_region(world, login):
    client = login(world.admin_a)
    page = client.get("/manage/settings/").content.decode()
    assert '<option value="AU">Australia (AU)</option>' in page
    assert '<option value="CZ">Czechia (CZ)</option>' in page
    response = client.post(
        "/manage/settings/",
        _settings_data(**{"settings-holiday_country": "AU", "settings-holiday_subdivision": "nsw"}),
    )
    assert response.status_code == 302
    world.company_a.settings.refresh_from_db()
    assert (
        world.company_a.settings.holiday_country,
        world.company_a.settings.holiday_subdivision,
    ) == (
        "AU",
        "NSW",
    )


@pytest.mark.parametrize(
    ("country", "region", "message"),
    [
        ("AU", "XX", "XX is not a state or region of AU."),
        ("", "NSW", "Choose the country before its state or region."),
        ("ZZ", "", "Select a valid choice."),
    ],
)
def test_clo_1_the_settings_page_refuses_an_unknown_region_and_saves_nothing(
    world, login, country, region, message
):
    response = login(world.admin_a).post(
        "/manage/settings/",
        _settings_data(
            **{
                "settings-holiday_country": country,
                "settings-holiday_subdivision": region,
                "company-address": "1 Pool St",
            }
        ),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    world.company_a.refresh_from_db()
    world.company_a.settings.refresh_from_db()
    assert world.company_a.address == "" and world.company_a.settings.holiday_country == ""


# --- CLO-1: fixed query counts and the Today page -----------------------------------------------


def test_clo_1_closure_pages_cost_the_same_with_1_or_20_closures(world, login, page_queries):
    _set_holidays(world.company_a)
    programmes = [f.ProgrammeFactory(company=world.company_a) for _ in range(3)]
    for i, programme in enumerate(programmes):
        f.ClassFactory(programme=programme, location=f"Pool {i}")
    first = _closure(world.company_a, programmes=programmes[:2], locations=["Pool 1"])
    with scope(company=world.company_a):
        Closure.objects.create(
            company=world.company_a,
            name="Spring break",
            first_day=date(2026, 10, 1),
            last_day=date(2026, 10, 9),
            created_at=NOW,
        )
    client = login(world.admin_a)
    edit = reverse("manage:closure_edit", kwargs={"closure_pk": first.pk})
    few = [page_queries(client, url)[0] for url in (LIST, NEW, edit)]
    for i in range(19):
        _closure(
            world.company_a,
            name=f"Closure {i}",
            first=date(2026, 12, 1) + timedelta(days=i),
            programmes=programmes[: i % 3],
        )
    with scope(company=world.company_a):
        for i in range(11):
            Closure.objects.create(
                company=world.company_a,
                name=f"Old {i}",
                first_day=date(2026, 1, 1) + timedelta(days=i),
                last_day=date(2026, 1, 1) + timedelta(days=i),
                created_at=NOW,
            )
    many = [page_queries(client, url)[0] for url in (LIST, NEW, edit)]
    assert many == few, (few, many)
    response = client.get(LIST)
    assert len(response.context["closures"]) == 20 and len(response.context["past_closures"]) == 10


def test_clo_1_today_shows_the_next_closure_to_admins(world, login):
    client = login(world.admin_a)

    def item(response, done=False):
        items = response.context["done" if done else "due"]
        return next((i for i in items if i.key == "closures"), None)

    page = client.get("/manage/")
    assert item(page, done=True).done_title == "No closure in the next 4 weeks"
    _closure(world.company_a, name="Christmas", first=date(2027, 1, 4))  # far ahead
    page = client.get("/manage/")
    assert item(page, done=True).done_title == (
        "No closure in the next 4 weeks (Next: Christmas, Mon 4 Jan 2027)"
    )
    _closure(
        world.company_a, name="Pool maintenance", first=date(2026, 12, 8), last=date(2026, 12, 9)
    )
    page = client.get("/manage/")
    shown = item(page)
    assert (shown.count, shown.url) == (1, LIST)
    assert shown.note == "Next: Pool maintenance, Tue 8 Dec – Wed 9 Dec 2026"
    assert "Next: Pool maintenance, Tue 8 Dec – Wed 9 Dec 2026" in page.content.decode()
    _closure(world.company_a, name="Storm", first=TODAY, start_time=time(15), end_time=time(18))
    shown = item(client.get("/manage/"))
    assert (shown.count, shown.note) == (2, "Now: Storm, Sat 21 Nov 2026, 15:00–18:00")
    # Staff don't keep the calendar: not on their Today page.
    staff = login(world.staff_a).get("/manage/")
    assert item(staff) is None and item(staff, done=True) is None


def test_clo_1_today_costs_the_same_with_1_or_20_closures(world, login):
    client = login(world.admin_a)
    _closure(world.company_a)
    with CaptureQueriesContext(connection) as one:
        client.get("/manage/")
    for i in range(19):
        _closure(world.company_a, name=f"Closure {i}", first=date(2026, 11, 23) + timedelta(i))
    with CaptureQueriesContext(connection) as twenty:
        response = client.get("/manage/")
    assert next(i for i in response.context["due"] if i.key == "closures").count == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)
