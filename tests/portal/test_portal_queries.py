"""Query budgets of the portal's pages: the home page and the make-up search cost a fixed
number of queries, whatever the number of children, lessons, classes and sessions."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from makeups.selectors.eligibility import makeup_candidates
from makeups.services import makeup_book, watch_create
from portal.selectors.search import SEARCH_MAX_SESSIONS
from programmes.models import Class, Session
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db


# --- home ---------------------------------------------------------------------------------


def _busy_family(company, programme, children: int, email: str):
    """A family whose every child has four lessons ahead (one cancelled, with its credit
    decision), a booked make-up, a watch on a full session and a credit."""
    guardian = f.GuardianFactory(family__company=company, user__email=email)
    home = f.ClassFactory(programme=programme)
    host = f.ClassFactory(programme=programme, capacity=30)
    full = f.ClassFactory(programme=programme, capacity=1)
    f.EnrolmentFactory(klass=full, student__date_of_birth=date(2019, 1, 1))
    lessons = [
        f.SessionFactory(klass=home, local_date=date(2026, 11, 24) + timedelta(weeks=w))
        for w in range(4)
    ]
    makeup = f.SessionFactory(klass=host, local_date=date(2026, 11, 26))
    watched = f.SessionFactory(klass=full, local_date=date(2026, 11, 27))
    with scope(company=company):
        for n in range(children):
            enrolment = f.EnrolmentFactory(
                klass=home,
                student__family=guardian.family,
                student__first_name=f"Kid{n}",
                student__date_of_birth=date(2020, 1, 1),
            )
            attendance_set_state(
                enrolment=enrolment,
                session=lessons[1],
                state=S.CANCELLED,
                cancelled_at=NOW,
                now=NOW,
            )
            makeup_book(
                credit=add_credit(enrolment), actor=f.parent_of(enrolment), session=makeup, now=NOW
            )
            watch_create(
                credit=add_credit(enrolment), actor=f.parent_of(enrolment), session=watched, now=NOW
            )
    return guardian


def test_portal_home_costs_the_same_queries_for_1_and_3_children(
    world, login, frozen, page_queries
):
    programme = f.ProgrammeFactory(company=world.company_a)
    one = _busy_family(world.company_a, programme, 1, "one@x.io")
    three = _busy_family(world.company_a, programme, 3, "three@x.io")
    small, _ = page_queries(login(one.user), "/portal/alpha/")
    html = login(three.user).get("/portal/alpha/").content.decode()
    assert html.count(">Can't come</button>") == 9 and html.count("Cancel make-up") == 3
    assert html.count("Stop watching") == 3
    large, _ = page_queries(login(three.user), "/portal/alpha/")
    assert small == large


# --- the make-up search -------------------------------------------------------------------


def _company_with_timetable(classes: int, sessions_per_class: int, programmes: int):
    """A company with ``classes`` classes spread over ``programmes`` programmes, each with
    weekly sessions from six weeks ago on (bulk-created: the data is large)."""
    company = f.CompanyFactory()
    progs = [f.ProgrammeFactory(company=company) for _ in range(programmes)]
    rows = Class.objects.bulk_create(
        [
            Class(
                company=company,
                programme=progs[i % programmes],
                name=f"Class {i:04}",
                capacity=8,
                min_age_months=48,
                max_age_months=120,
                start_date=date(2026, 10, 5),
                end_date=date(2027, 4, 30),
                price_per_session=Decimal("25.00"),
                location="Main pool",
            )
            for i in range(classes)
        ]
    )
    tz = company.tzinfo
    first = date(2026, 10, 12)
    sessions = []
    for i, klass in enumerate(rows):
        start = time(9 + (i % 10), 30 * (i % 2))
        for week in range(sessions_per_class):
            day = first + timedelta(days=i % 7, weeks=week)
            starts = datetime.combine(day, start, tzinfo=tz)
            sessions.append(
                Session(
                    company=company,
                    klass=klass,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=30),
                    local_date=day,
                )
            )
    Session.objects.bulk_create(sessions, batch_size=2000)
    return company, progs[0], rows


def _family_of_three(company, classes, email):
    guardian = f.GuardianFactory(family__company=company, user__email=email)
    for n, klass in enumerate(classes[:3]):
        enrolment = f.EnrolmentFactory(
            klass=klass,
            student__family=guardian.family,
            student__first_name=f"Kid{n}",
            student__date_of_birth=date(2019, 1, 1),
        )
        add_credit(enrolment)
    return guardian


def test_makeup_search_costs_the_same_queries_for_a_tiny_and_a_large_company(
    login, frozen, page_queries
):
    tiny, _, tiny_classes = _company_with_timetable(classes=3, sessions_per_class=8, programmes=1)
    big, _, big_classes = _company_with_timetable(
        classes=1000, sessions_per_class=20, programmes=10
    )
    with scope(company=big):
        assert Session.objects.count() == 20_000
    # In the big company the credit's programme has 100 classes with a session a week each:
    # the first page (two weeks) checks about 200 sessions and shows whole days up to 60.
    small_parent = _family_of_three(tiny, tiny_classes, "tiny@x.io")
    big_parent = _family_of_three(big, big_classes[::10], "big@x.io")
    small, _ = page_queries(login(small_parent.user), f"/portal/{tiny.slug}/makeups/")
    response = login(big_parent.user).get(f"/portal/{big.slug}/makeups/")
    result = response.context["result"]
    assert (
        SEARCH_MAX_SESSIONS // 2
        <= sum(len(d.candidates) for d in result.days)
        <= SEARCH_MAX_SESSIONS
    )
    assert "Later sessions" in response.content.decode()
    with scope(company=big):
        credit = response.context["credit"]
        checked = makeup_candidates(
            credit=credit, now=NOW, date_from=result.start, date_to=result.start + timedelta(13)
        )
    assert len(checked) > 150
    large, response = page_queries(login(big_parent.user), f"/portal/{big.slug}/makeups/")
    seconds = response.elapsed_seconds
    print(f"make-up search: {small} queries (tiny), {large} queries (large, {seconds:.2f} s)")
    assert small == large
    filtered, _ = page_queries(
        login(big_parent.user),
        f"/portal/{big.slug}/makeups/?weekday=2&time_of_day=morning&date_from=2026-11-23",
    )
    assert filtered == large
