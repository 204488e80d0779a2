"""Out-of-range dates and times are refused with a clear message, never a 500 (ATT-3): a
client cancellation "at" 1 Jan 0001 could not be stored (a database error). The time the
client told us is at most a year before the class starts and not in the future; dates people
type lie in 2000…2100."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scope

from bookings.models import Attendance, AttendanceState, Enrolment
from bookings.services import attendance_set_state
from bookings.services.enrolments import enrolment_create, enrolment_withdraw
from credits.services import credit_add_manual
from makeup.errors import DomainError
from makeups.services import makeup_book, makeup_cancel
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture
def lesson(world):
    """A class from 6 Oct 2026 (Sydney) with a session on Tue 24 Nov and Ava enrolled."""
    klass = f.ClassFactory(
        programme__company=world.company_a, min_age_months=None, max_age_months=None
    )
    session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
    enrolment = f.EnrolmentFactory(klass=klass, student__first_name="Ava")
    return session, enrolment


def _class_start(session) -> datetime:
    tz = session.company.tzinfo
    return datetime.combine(session.klass.start_date, datetime.min.time(), tzinfo=tz)


@pytest.mark.parametrize(
    ("told", "message"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), "between the years 2000 and 2100"),
        (datetime(1999, 12, 31, 23, tzinfo=UTC), "between the years 2000 and 2100"),
        (datetime(9999, 12, 31, tzinfo=UTC), "between the years 2000 and 2100"),
        (None, "more than a year before the class starts"),  # the class start − 1 year − 1 s
        (NOW + timedelta(hours=1), "can't be in the future"),
    ],
)
def test_att_3_client_cancellation_time_out_of_range_is_refused(world, lesson, told, message):
    session, enrolment = lesson
    if told is None:
        told = _class_start(session) - timedelta(days=365, seconds=1)
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match=message):
            attendance_set_state(
                enrolment=enrolment,
                session=session,
                state=AttendanceState.CANCELLED,
                cancelled_at=told,
                now=NOW,
            )
        assert not Attendance.objects.exists()


def test_att_3_client_cancellation_a_year_before_the_class_starts_is_taken(world, lesson):
    session, enrolment = lesson
    told = _class_start(session) - timedelta(days=365)
    with scope(company=world.company_a):
        attendance = attendance_set_state(
            enrolment=enrolment,
            session=session,
            state=AttendanceState.CANCELLED,
            cancelled_at=told,
            now=NOW,
        )
    assert attendance.cancelled_at == told and attendance.state == AttendanceState.CANCELLED


@pytest.mark.parametrize("told", ["0001-01-01T00:00", "9999-12-31T23:59", "2024-01-01T10:00"])
def test_att_3_attendance_view_refuses_a_cancellation_time_out_of_range(world, login, lesson, told):
    session, enrolment = lesson
    url = f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/"
    with time_machine.travel(NOW, tick=False):
        client = login(world.staff_a)
        response = client.post(url, {"state": "client_cancelled", "cancelled_at": told})
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        row = client.post(
            url, {"state": "client_cancelled", "cancelled_at": told}, HTTP_HX_REQUEST="true"
        )
    assert row.status_code == 200
    assert "between the years 2000 and 2100" in page or "more than a year before" in page
    with scope(company=world.company_a):
        assert not Attendance.objects.exists()


@pytest.fixture
def booked(world, lesson):
    """Ava's make-up in another class of the programme on Tue 24 Nov 2026."""
    session, enrolment = lesson
    host = f.ClassFactory(
        programme=session.klass.programme, min_age_months=None, max_age_months=None
    )
    host_session = f.SessionFactory(klass=host, local_date=date(2026, 11, 24))
    with scope(company=world.company_a):
        credit = credit_add_manual(
            enrolment=enrolment, reason="t", actor=None, valid_days=30, now=NOW
        )
        return makeup_book(credit=credit, session=host_session, actor=f.parent_of(credit), now=NOW)


@pytest.mark.parametrize("told", [datetime(1, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC)])
def test_crd_3_makeup_cancel_refuses_a_cancellation_time_out_of_range(world, booked, told):
    with scope(company=world.company_a):
        with pytest.raises(DomainError):
            makeup_cancel(booking=booked, cancelled_at=told, now=NOW)
        booked.refresh_from_db()
    assert booked.state == "booked"


def test_crd_3_makeup_cancel_page_refuses_year_one_without_a_500(world, login, booked):
    with time_machine.travel(NOW, tick=False):
        response = login(world.staff_a).post(
            reverse("manage:makeup_cancel", args=[booked.pk]),
            {"cancelled_at": "0001-01-01T00:00"},
            follow=True,
        )
    assert response.status_code == 200
    assert "between the years 2000 and 2100" in response.content.decode()
    booked.refresh_from_db()
    assert booked.state == "booked"


def test_enrolment_dates_out_of_range_are_refused(world, lesson):
    session, enrolment = lesson
    other = f.StudentFactory(family=enrolment.student.family, date_of_birth=date(2020, 1, 1))
    with scope(company=world.company_a):
        with pytest.raises(DomainError, match="between the years 2000 and 2100"):
            enrolment_create(
                klass=session.klass,
                student=other,
                start_date=date(9999, 12, 31),
                confirm_age=True,
            )
        with pytest.raises(DomainError, match="between the years 2000 and 2100"):
            enrolment_withdraw(enrolment=enrolment, withdrawn_from=date(1, 1, 1), now=NOW)
        assert Enrolment.objects.filter(student=other).count() == 0
        enrolment.refresh_from_db()
        assert enrolment.withdrawn_from is None


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("enrol", {"start_date": "9999-12-31"}),
        ("withdraw", {"withdrawn_from": "0001-01-01"}),
    ],
)
def test_enrolment_pages_refuse_dates_out_of_range_without_a_500(world, login, lesson, path, data):
    session, enrolment = lesson
    client = login(world.admin_a)
    if path == "enrol":
        other = f.StudentFactory(family=enrolment.student.family, date_of_birth=date(2020, 1, 1))
        data = {**data, "student": str(other.pk)}
        url = reverse("manage:class_enrol", args=[session.klass_id])
    else:
        url = reverse("manage:enrolment_withdraw", args=[enrolment.pk])
    response = client.post(url, data)
    assert response.status_code == 200
    assert "between the years 2000 and 2100" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_filters_with_a_date_out_of_range_show_the_page_not_a_500(world, login, lesson, day):
    """Dates in the query string of the staff calendar, the make-up explainer, the reports
    and the portal's make-up search."""
    admin = login(world.admin_a)
    for url in (
        f"/manage/sessions/?date={day}",
        f"/manage/sessions/?date={day}&view=day",
        f"/manage/makeups/why-not/?date={day}",
        f"/manage/reports/instructor-pay/?first={day}&last={day}",
        f"/manage/reports/instructor-pay/?first=2026-01-01&last={day}&format=csv",
    ):
        assert admin.get(url).status_code == 200, url
    parent = login(world.parent_a)
    for url in (
        f"/portal/alpha/makeups/?date_from={day}",
        f"/portal/alpha/makeups/?date_to={day}",
        f"/portal/alpha/makeups/?date_from={day}&date_to={day}",
    ):
        assert parent.get(url).status_code == 200, url
