"""The attendance view, session cancel, class page and enrolment pages through the browser's
requests (the test client), with their query budgets."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from bookings.models import Attendance, AttendanceState, Enrolment
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def klass(world):
    return f.ClassFactory(programme__company=world.company_a, capacity=40)


def _attendance_page_queries(client, session) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/manage/sessions/{session.pk}/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_attendance_page_costs_the_same_queries_for_3_and_30_students(world, login, klass):
    client = login(world.staff_a)
    small = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
    big_class = f.ClassFactory(programme__company=world.company_a, capacity=40)
    big = f.SessionFactory(klass=big_class, local_date=date(2026, 11, 24))
    for _ in range(3):
        f.EnrolmentFactory(klass=klass)
    for _ in range(30):
        f.EnrolmentFactory(klass=big_class)
    with scope(company=world.company_a):
        from bookings.services import attendance_set_state

        for e in Enrolment.objects.filter(klass__in=[klass, big_class]):
            session = small if e.klass_id == klass.pk else big
            attendance_set_state(
                now=timezone.now(), enrolment=e, session=session, state=AttendanceState.PRESENT
            )
            attendance_set_state(
                now=timezone.now(), enrolment=e, session=session, state=AttendanceState.NO_SHOW
            )
    few = _attendance_page_queries(client, small)
    many = _attendance_page_queries(client, big)
    assert few == many, f"{few} queries for 3 students, {many} for 30"
    assert many <= 12


def test_att_1_attendance_click_updates_the_row_in_place(world, login, klass):
    session = f.SessionFactory(klass=klass)
    enrolment = f.EnrolmentFactory(klass=klass)
    client = login(world.staff_a)
    response = client.post(
        f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/",
        {"state": "present"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="row-{enrolment.pk}"')
    assert "✓ Present" in html  # a symbol and a word, not colour alone
    with scope(company=world.company_a):
        assert Attendance.objects.get(enrolment=enrolment).state == "present"


def test_att_3_att_4_client_cancellation_from_the_view_is_classified(world, login, klass):
    session = f.SessionFactory(klass=klass)  # Tue 24 Nov 2026 17:00 Sydney
    e1, e2 = f.EnrolmentFactory(klass=klass), f.EnrolmentFactory(klass=klass)
    client = login(world.staff_a)
    # 23 Nov 17:00 is exactly 24 h before: on time. 17:01 is late. Typed in Sydney time.
    with time_machine.travel(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), tick=False):
        for enrolment, told in [(e1, "2026-11-23T17:00"), (e2, "2026-11-23T17:01")]:
            client.post(
                f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/",
                {"state": "client_cancelled", "cancelled_at": told},
            )
    with scope(company=world.company_a):
        states = dict(Attendance.objects.values_list("enrolment_id", "state"))
    assert states == {e1.pk: "cancelled", e2.pk: "late_cancelled"}


def test_att_6_history_is_shown_on_the_attendance_view(world, login, klass):
    session = f.SessionFactory(klass=klass)
    enrolment = f.EnrolmentFactory(klass=klass)
    client = login(world.staff_a)
    for state in ("present", "no_show"):
        client.post(f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/", {"state": state})
    html = client.get(f"/manage/sessions/{session.pk}/").content.decode()
    assert "History (2)" in html
    assert "Expected → Present" in html and "Present → Did not attend" in html
    assert world.staff_a.full_name in html


def test_attendance_for_a_student_of_another_class_is_404(world, login, klass):
    session = f.SessionFactory(klass=klass)
    other = f.EnrolmentFactory(klass=f.ClassFactory(programme__company=world.company_a))
    response = login(world.staff_a).post(
        f"/manage/sessions/{session.pk}/attendance/{other.pk}/", {"state": "present"}
    )
    assert response.status_code == 404


def test_att_7_cancel_session_from_the_page(world, login, klass):
    session = f.SessionFactory(klass=klass, local_date=date.today() + timedelta(days=7))
    f.EnrolmentFactory(klass=klass, start_date=date.today())
    client = login(world.staff_a)
    response = client.post(
        f"/manage/sessions/{session.pk}/cancel/", {"reason": "Pool closed"}, follow=True
    )
    assert "1 student marked" in response.content.decode()
    with scope(company=world.company_a):
        assert Attendance.objects.get(session=session).state == "staff_cancelled"
    # No reason: refused, nothing changes.
    other = f.SessionFactory(klass=klass, local_date=date.today() + timedelta(days=14))
    client.post(f"/manage/sessions/{other.pk}/cancel/", {"reason": ""})
    other.refresh_from_db()
    assert other.cancelled_at is None


def test_all_present_button(world, login, klass):
    session = f.SessionFactory(klass=klass)
    f.EnrolmentFactory.create_batch(3, klass=klass)
    login(world.staff_a).post(f"/manage/sessions/{session.pk}/all-present/")
    with scope(company=world.company_a):
        assert Attendance.objects.filter(session=session, state="present").count() == 3


def test_session_calendar_week_and_day(world, login, klass):
    f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
    client = login(world.staff_a)
    week = client.get("/manage/sessions/?date=2026-11-25")
    assert week.status_code == 200
    assert [d.day for d in week.context["days"]][0] == date(2026, 11, 23)  # the Monday
    assert sum(len(d.sessions) for d in week.context["days"]) == 1
    day = client.get("/manage/sessions/?view=day&date=2026-11-24")
    assert len(day.context["days"]) == 1 and len(day.context["days"][0].sessions) == 1
    assert "17:00" in day.content.decode()  # shown in the company's zone (TEN-3)
    assert client.get("/manage/sessions/?date=not-a-date&programme=x").status_code == 200


def test_enrol_refuses_a_full_class_with_a_clear_message(world, login):
    klass = f.ClassFactory(programme__company=world.company_a, capacity=2)
    f.EnrolmentFactory.create_batch(2, klass=klass)
    student = f.StudentFactory(family__company=world.company_a, date_of_birth=date(2020, 1, 1))
    response = login(world.staff_a).post(
        f"/manage/classes/{klass.pk}/enrol/", {"student": student.pk, "start_date": "2026-10-06"}
    )
    assert response.status_code == 200
    assert "is full: 2 of 2 places are taken" in response.content.decode()
    with scope(company=world.company_a):
        assert not Enrolment.objects.filter(student=student).exists()


def test_enrol_warns_about_age_and_staff_may_confirm(world, login):
    klass = f.ClassFactory(programme__company=world.company_a)  # 4–8 years
    toddler = f.StudentFactory(
        family__company=world.company_a, first_name="Tiny", date_of_birth=date(2024, 6, 1)
    )
    client = login(world.staff_a)
    response = client.post(
        f"/manage/students/{toddler.pk}/enrol/", {"klass": klass.pk, "start_date": "2026-10-06"}
    )
    html = response.content.decode()
    assert "Tiny is 2 years 4 months old" in html and "Enrol anyway" in html
    with scope(company=world.company_a):
        assert not Enrolment.objects.filter(student=toddler).exists()
    response = client.post(
        f"/manage/students/{toddler.pk}/enrol/",
        {"klass": klass.pk, "start_date": "2026-10-06", "confirm_age": "on"},
    )
    assert response.status_code == 302
    with scope(company=world.company_a):
        assert Enrolment.objects.filter(student=toddler, klass=klass).exists()


def test_enrol_rejects_bad_input_next_to_the_field(world, login, klass):
    response = login(world.staff_a).post(
        f"/manage/classes/{klass.pk}/enrol/", {"student": "999999", "start_date": "31/31/2026"}
    )
    assert response.status_code == 200
    assert response.content.decode().count("invalid-feedback") >= 2


def test_enrol_cannot_pick_another_companys_student(world, login, klass):
    foreign = f.StudentFactory(family__company=world.company_b)
    response = login(world.staff_a).post(
        f"/manage/classes/{klass.pk}/enrol/", {"student": foreign.pk, "start_date": "2026-10-06"}
    )
    assert response.status_code == 200 and b"invalid-feedback" in response.content
    with scope(company=world.company_b):
        assert not Enrolment.objects.filter(student=foreign).exists()


def test_withdraw_from_a_date(world, login, klass):
    enrolment = f.EnrolmentFactory(klass=klass)
    client = login(world.staff_a)
    bad = client.post(
        f"/manage/enrolments/{enrolment.pk}/withdraw/", {"withdrawn_from": "2026-01-01"}
    )
    assert "withdraw from that day or later" in bad.content.decode()
    ok = client.post(
        f"/manage/enrolments/{enrolment.pk}/withdraw/", {"withdrawn_from": "2026-11-24"}
    )
    assert ok.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.withdrawn_from == date(2026, 11, 24)
    session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
    assert client.get(f"/manage/sessions/{session.pk}/").context["rows"] == []


def test_ten_2_one_off_sessions_are_for_admins(world, login, klass):
    url = f"/manage/classes/{klass.pk}/sessions/new/"
    assert login(world.staff_a).get(url).status_code == 403
    day = (date.today() + timedelta(days=10)).isoformat()
    response = login(world.admin_a).post(
        url, {"local_date": day, "start_time": "10:00", "duration_minutes": "45"}
    )
    assert response.status_code == 302
    past = login(world.admin_a).post(
        url, {"local_date": "2020-01-01", "start_time": "10:00", "duration_minutes": "45"}
    )
    assert b"Choose today or a later day" in past.content


def test_class_page_lists_students_and_sessions(world, login, klass):
    f.EnrolmentFactory(klass=klass, student__first_name="Zed")
    f.SessionFactory(klass=klass, local_date=date.today() + timedelta(days=3))
    html = login(world.staff_a).get(f"/manage/classes/{klass.pk}/").content.decode()
    assert "Zed" in html and "1 of 40 places" in html and "1 enrolled" in html


@pytest.mark.parametrize(
    ("company_extra", "own", "mode", "allow", "expected"),
    [
        (2, 1, "add", True, "3 extra places for make-ups only in each session"),
        (2, 1, "add", True, "the company's 2 plus this class's 1"),
        (2, 1, "replace", True, "1 extra place for make-ups only in each session"),
        (2, 0, "replace", True, "this class replaces the company's extra places with none"),
        (0, 0, "add", True, "no extra places: make-ups use free places"),
        (2, 1, "add", False, "this class takes no make-ups from other classes"),
    ],
)
def test_mkp_7_class_page_says_its_extra_places_for_makeups(
    world, login, klass, company_extra, own, mode, allow, expected
):
    """The class page says in plain words how many places only make-ups may use (the
    company's number and the class's, added or replaced), as the booking counts them."""
    settings = world.company_a.settings
    settings.makeup_extra_capacity = company_extra
    settings.save()
    klass.extra_makeup_capacity, klass.extra_capacity_mode = own, mode
    klass.allow_makeups = allow
    klass.save()
    html = login(world.staff_a).get(f"/manage/classes/{klass.pk}/").content.decode()
    assert expected in html
    assert "MKP-" not in html.split('id="makeup-places"')[1].split("</p>")[0]
