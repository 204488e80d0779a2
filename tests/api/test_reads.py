"""API-2: every list pages by id, filters by ``changed_since`` and costs a fixed number of
queries per page whatever the data; sessions carry their places left."""

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from bookings.models import Attendance, Enrolment, Guardian, Student
from bookings.services import attendance_set_state, enrolment_withdraw
from bookings.services.families import guardian_update, student_update
from makeups.services import makeup_book
from programmes.models import Class
from programmes.services import class_update
from tests import factories as f

from .conftest import NOW
from .test_writes import _credit

pytestmark = pytest.mark.django_db

_emails = itertools.count()

RESOURCES = [
    "programmes",
    "classes",
    "sessions",
    "families",
    "students",
    "enrolments",
    "attendance",
    "credits",
    "makeups",
]


def _school(company, owner, n: int) -> None:
    """``n`` of everything: classes with a session, enrolled students with a no-show, a
    credit, and a make-up booked with it."""
    programme = f.ProgrammeFactory(company=company)
    host = f.ClassFactory(
        programme=programme, capacity=50, min_age_months=None, max_age_months=None
    )
    session = f.SessionFactory(klass=host)
    for _i in range(n):
        klass = f.ClassFactory(programme=programme)
        own = f.SessionFactory(klass=klass, local_date=date(2026, 11, 17))
        enrolment = f.EnrolmentFactory(klass=klass, student__date_of_birth=date(2019, 1, 1))
        f.GuardianFactory(
            family=enrolment.student.family, user=None, email=f"g{next(_emails)}@example.com"
        )
        f.AttendanceFactory(enrolment=enrolment, session=own)
        credit = _credit(enrolment)
        with scope(company=company):
            makeup_book(credit=credit, session=session, actor=owner, source="staff", now=NOW)


def _queries(api, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, (url, response.content)
    return len(captured.captured_queries), response.json()


@pytest.mark.parametrize("resource", RESOURCES)
def test_api_2_a_page_costs_a_fixed_number_of_queries(world, api_a, resource):
    _school(world.company_a, world.owner_a, 1)
    api_a.get("/api/v1/programmes")  # the key's first use records "last used" (one write)
    small, body = _queries(api_a, f"/api/v1/{resource}")
    rows = len(body["results"])
    assert rows, resource
    _school(world.company_a, world.owner_a, 12)
    large, body = _queries(api_a, f"/api/v1/{resource}")
    assert len(body["results"]) > rows
    assert small == large, f"{resource}: {small} queries with 1 row, {large} with many"
    assert large <= 4


@pytest.mark.parametrize("resource", RESOURCES)
def test_api_2_every_list_pages_by_id_to_the_end(world, api_a, resource):
    _school(world.company_a, world.owner_a, 5)
    f.ProgrammeFactory.create_batch(3, company=world.company_a)
    seen: list[int] = []
    url = f"/api/v1/{resource}?limit=2"
    pages = 0
    while url:
        body = api_a.get(url.replace("http://testserver", "")).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
        assert pages < 50
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    assert pages > 1, resource
    assert len(seen) == len(api_a.get(f"/api/v1/{resource}?limit=500").json()["results"])


def test_api_2_changed_since_returns_what_changed_at_or_after(world, api_a, time_machine):
    _school(world.company_a, world.owner_a, 2)
    since = NOW + timedelta(hours=1)
    time_machine.move_to(since)
    with scope(company=world.company_a):
        attendance = Attendance.objects.order_by("pk").first()
        attendance_set_state(
            enrolment=attendance.enrolment, session=attendance.session, state="present", now=since
        )
    newer = f.FamilyFactory(company=world.company_a)
    changed = api_a.get("/api/v1/attendance", changed_since=since.isoformat()).json()["results"]
    assert [row["id"] for row in changed] == [attendance.pk]
    assert changed[0]["state"] == "present"
    families = api_a.get("/api/v1/families", changed_since=since.isoformat()).json()["results"]
    assert [row["id"] for row in families] == [newer.pk]
    # One microsecond later, nothing of those.
    later = (since + timedelta(seconds=1)).isoformat()
    assert api_a.get("/api/v1/attendance", changed_since=later).json()["results"] == []
    credits = api_a.get("/api/v1/credits", changed_since=since.isoformat()).json()["results"]
    assert credits == []  # issued and used before ``since``


def test_api_2_changed_since_sees_edits_of_names_details_and_withdrawals(world, api_a):
    """A parent's phone, a child's name, a withdrawal, a class renamed: each dates its row
    (the family for its parent), so a client syncing by ``changed_since`` sees it."""
    _school(world.company_a, world.owner_a, 3)
    since = NOW + timedelta(hours=1)
    with scope(company=world.company_a):
        f.ClassScheduleFactory(klass=Class.objects.order_by("pk").last())
    with scope(company=world.company_a):
        guardian, other_guardian = Guardian.objects.order_by("pk")[:2]
        student = Student.objects.exclude(family=guardian.family).order_by("pk").first()
        enrolment = Enrolment.objects.filter(student__family=other_guardian.family).first()
        klass = Class.objects.order_by("pk").last()
        guardian_update(
            guardian=guardian,
            full_name=guardian.full_name,
            email=guardian.email,
            phone="+61 400 000 000",
            now=since,
        )
        student_update(
            student=student,
            first_name="Renamed",
            last_name=student.last_name,
            date_of_birth=student.date_of_birth,
            now=since,
        )
        enrolment_withdraw(enrolment=enrolment, withdrawn_from=date(2026, 12, 1), now=since)
        class_update(klass=klass, name="Renamed class", now=since)

    def changed(resource: str, at=since) -> list[int]:
        page = api_a.get(f"/api/v1/{resource}", changed_since=at.isoformat()).json()
        return [row["id"] for row in page["results"]]

    assert changed("families") == [guardian.family_id]
    assert changed("students") == [student.pk]
    assert changed("enrolments") == [enrolment.pk]
    assert changed("classes") == [klass.pk]
    later = since + timedelta(microseconds=1)
    for resource in ("families", "students", "enrolments", "classes"):
        assert changed(resource, later) == [], resource


def test_api_2_sessions_show_the_places_left_as_a_booking_counts_them(world, api_a):
    programme = f.ProgrammeFactory(company=world.company_a)
    host = f.ClassFactory(programme=programme, capacity=3, min_age_months=None, max_age_months=None)
    session = f.SessionFactory(klass=host)
    regular, _other = f.EnrolmentFactory.create_batch(2, klass=host)
    row = api_a.get("/api/v1/sessions", class_id=host.pk).json()["results"][0]
    assert (row["id"], row["places"], row["places_taken"], row["places_left"]) == (
        session.pk,
        3,
        2,
        1,
    )
    with scope(company=world.company_a):
        attendance_set_state(
            enrolment=regular, session=session, state="cancelled", cancelled_at=NOW, now=NOW
        )
    row = api_a.get("/api/v1/sessions", class_id=host.pk).json()["results"][0]
    assert row["places_left"] == 2  # a cancelled regular frees a place for a make-up
    before = api_a.get("/api/v1/sessions", starts_before=session.starts_at.isoformat()).json()[
        "results"
    ]
    assert session.pk not in [r["id"] for r in before]


def test_api_2_bad_filters_answer_422(api_a):
    assert api_a.get("/api/v1/credits", changed_since="yesterday").status_code == 422
    assert api_a.get("/api/v1/credits", limit=0).status_code == 422
    assert api_a.get("/api/v1/credits", limit=501).status_code == 422
