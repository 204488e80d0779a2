"""MKP-10 on the host side: make-up guests on the session's attendance view, after the
regulars, with their note and home branch; their attendance taken there like any other; the
page's query budget with guests."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from bookings.models import MakeupBooking
from credits.models import CreditState
from credits.services import credit_add_manual
from makeups.services import makeup_book
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


class Setup:
    pass


@pytest.fixture
def host(world):
    """A host class (ages 5–8) with one regular, Zoe, and a session on Tue 24 Nov 17:00; Ava
    (born 1 Jun 2020) of another class of the programme holds a credit."""
    s = Setup()
    s.company = world.company_a
    s.programme = f.ProgrammeFactory(company=s.company)
    s.home = f.ClassFactory(programme=s.programme, name="Home class")
    s.host = f.ClassFactory(
        programme=s.programme, name="Host class", capacity=20, min_age_months=60
    )
    s.session = f.SessionFactory(klass=s.host)
    s.regular = f.EnrolmentFactory(klass=s.host, student__first_name="Zoe")
    s.ava = f.EnrolmentFactory(
        klass=s.home,
        student__first_name="Ava",
        student__last_name="Guest",
        student__date_of_birth=date(2020, 6, 1),
    )
    with scope(company=s.company):
        s.credit = _credit(s.ava)
    return s


def _credit(enrolment):
    return credit_add_manual(
        enrolment=enrolment, reason="test", actor=None, valid_days=30, now=NOW - timedelta(days=1)
    )


def _book(s, enrolment=None, note=""):
    with scope(company=s.company):
        credit = s.credit if enrolment is None else _credit(enrolment)
        return makeup_book(
            credit=credit, actor=f.parent_of(credit), session=s.session, note=note, now=NOW
        )


def _page(client, session) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("manage:session_detail", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_mkp_10_guests_are_listed_after_the_regulars_marked_as_make_ups(world, login, host):
    _book(host, note="Make-up for missed lesson 30/10")
    html = _page(login(world.staff_a), host.session)
    assert html.index("Zoe") < html.index("Ava Guest")
    assert "⇄ Make-up" in html  # a word and a symbol, not colour alone
    assert "Note: Make-up for missed lesson 30/10" in html
    assert "6 years old" in html  # Ava's age on the session's day
    assert "from Alpha Swim" not in html  # her home branch is this company
    assert "1 student + 1 make-up guest · 0 present" in html
    assert "2 expected" in html  # the counts include the guest


def test_mkp_10_a_guest_from_a_partner_branch_shows_the_home_branch(world, login, host):
    partner_student = f.EnrolmentFactory(klass__programme__company=world.company_b)
    MakeupBooking.objects.create(
        company=host.company,
        home_company=world.company_b,
        session=host.session,
        student=partner_student.student,
        enrolment=partner_student,
        booked_at=NOW,
    )
    html = _page(login(world.staff_a), host.session)
    assert "from Beta Swim" in html


def test_mkp_10_cancelled_make_ups_are_not_guests(world, login, host):
    from makeups.services import makeup_cancel

    booking = _book(host)
    with scope(company=host.company):
        makeup_cancel(booking=booking, now=NOW)
    html = _page(login(world.staff_a), host.session)
    assert "Ava Guest" not in html
    assert "make-up guest ·" not in html


def test_mkp_10_guest_attendance_is_one_click_and_a_no_show_keeps_the_credit_used(
    world, login, host
):
    booking = _book(host)
    client = login(world.staff_a)
    url = reverse("manage:makeup_attendance_set", args=[host.session.pk, booking.pk])
    response = client.post(url, {"state": "present"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="makeup-row-{booking.pk}"')
    assert "✓ Present" in html and "⇄ Make-up" in html
    booking.refresh_from_db()
    assert booking.attendance_state == "present"

    client.post(url, {"state": "no_show"}, HTTP_HX_REQUEST="true")
    booking.refresh_from_db()
    host.credit.refresh_from_db()
    assert booking.attendance_state == "no_show"
    assert host.credit.state == CreditState.USED  # CRD-3: a no-show keeps it used

    html = client.post(url, {"state": "expected"}, HTTP_HX_REQUEST="true").content.decode()
    assert "• Expected" in html
    # A guest is present, did not attend, or expected: nothing else.
    html = client.post(url, {"state": "staff_cancelled"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'role="alert"' in html and "present, did not attend, or still expected" in html
    booking.refresh_from_db()
    assert booking.attendance_state == "expected"
    # Without htmx the page reloads.
    response = client.post(url, {"state": "present"})
    assert response.status_code == 302


def test_mkp_10_all_present_marks_the_guests_too(world, login, host):
    booking = _book(host)
    client = login(world.staff_a)
    with time_machine.travel(host.session.starts_at, tick=False):
        client.post(reverse("manage:session_all_present", args=[host.session.pk]))
    booking.refresh_from_db()
    assert booking.attendance_state == "present"


def test_ten_1_a_guest_of_another_session_is_not_found(world, login, host):
    booking = _book(host)
    other = f.SessionFactory(klass=host.host, local_date=date(2026, 12, 1))
    client = login(world.staff_a)
    url = reverse("manage:makeup_attendance_set", args=[other.pk, booking.pk])
    assert client.post(url, {"state": "present"}).status_code == 404


def test_attendance_page_with_guests_costs_the_same_queries_for_1_and_10(
    world, login, host, page_queries
):
    client = login(world.staff_a)
    _book(host, note="one")
    busy = f.SessionFactory(klass=host.host, local_date=date(2026, 12, 1))
    for _ in range(10):
        enrolment = f.EnrolmentFactory(klass=host.home, student__date_of_birth=date(2019, 1, 1))
        with scope(company=host.company):
            makeup_book(
                credit=_credit(enrolment),
                actor=f.parent_of(enrolment),
                session=busy,
                note="many",
                now=NOW,
            )
    with time_machine.travel(NOW, tick=False):
        few, _ = page_queries(client, reverse("manage:session_detail", args=[host.session.pk]))
        many, _ = page_queries(client, reverse("manage:session_detail", args=[busy.pk]))
    assert few == many, f"{few} queries with 1 guest, {many} with 10"
    assert many <= 10, many  # + the parents of own and of partner guests (FRN-7)


def test_att_6_a_make_up_guests_attendance_changes_are_kept(world):
    from bookings.models import AttendanceState, MakeupAttendanceChange
    from bookings.services import makeup_set_attendance

    booking = _booking_for_history(world)
    with scope(company=world.company_a):
        makeup_set_attendance(
            now=timezone.now(), booking=booking, state=AttendanceState.PRESENT, actor=world.staff_a
        )
        makeup_set_attendance(
            now=timezone.now(), booking=booking, state=AttendanceState.PRESENT, actor=world.staff_a
        )
        makeup_set_attendance(
            now=timezone.now(), booking=booking, state=AttendanceState.NO_SHOW, actor=world.admin_a
        )
        changes = list(
            MakeupAttendanceChange.objects.filter(booking=booking).values_list(
                "from_state", "to_state", "changed_by"
            )
        )
    assert changes == [
        ("expected", "present", world.staff_a.pk),
        ("present", "no_show", world.admin_a.pk),
    ]


def _booking_for_history(world):
    from datetime import UTC, datetime

    from credits.services import credit_add_manual
    from makeups.services import makeup_book

    programme = f.ProgrammeFactory(company=world.company_a)
    host = f.ClassFactory(programme=programme, min_age_months=None, max_age_months=None)
    session = f.SessionFactory(klass=host)
    enrolment = f.EnrolmentFactory(klass=f.ClassFactory(programme=programme))
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with scope(company=world.company_a):
        credit = credit_add_manual(
            enrolment=enrolment, reason="t", actor=None, valid_days=30, now=now
        )
        return makeup_book(credit=credit, actor=f.parent_of(credit), session=session, now=now)
