"""BAL-1 (charges and payments), BAL-2…BAL-4 (the balance gate on portal make-ups)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.models import Charge
from bookings.selectors.account import balance_due, family_balance, family_statement
from bookings.services import attendance_set_state, package_sell
from bookings.services.account import payment_record
from credits.services import credit_add_manual
from makeup.errors import DomainError
from makeups.services import makeup_book
from tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, tzinfo=UTC)  # 21 Nov in Sydney too (11:00)
TODAY = date(2026, 11, 21)


@pytest.fixture
def acct(world):
    klass = f.ClassFactory(
        programme__company=world.company_a,
        price_per_session=Decimal("26.50"),
        min_age_months=None,
        max_age_months=None,
    )
    enrolment = f.EnrolmentFactory(klass=klass)
    with scope(company=world.company_a):
        yield world, klass, enrolment, enrolment.student.family


def _session(klass, day):
    return f.SessionFactory(klass=klass, local_date=day)


@pytest.mark.parametrize(
    ("state", "charged"),
    [
        (S.PRESENT, True),
        (S.NO_SHOW, True),
        (S.LATE_CANCELLED, True),
        (S.CANCELLED, False),
        (S.STAFF_CANCELLED, False),
    ],
)
def test_bal_1_counted_attendance_is_charged_at_the_session_price(acct, state, charged):
    world, klass, enrolment, family = acct
    s = _session(klass, date(2026, 11, 10))
    told = s.starts_at - (timedelta(hours=1) if state == S.LATE_CANCELLED else timedelta(days=3))
    attendance_set_state(
        enrolment=enrolment,
        session=s,
        state=state,
        cancelled_at=told,
        now=s.starts_at + timedelta(hours=1),
    )
    charges = list(Charge.objects.filter(family=family, reversed_at__isnull=True))
    assert [(c.amount, c.charged_on) for c in charges] == (
        [(Decimal("26.50"), date(2026, 11, 10))] if charged else []
    )


def test_bal_1_agreed_price_corrections_packages_and_the_statement(acct):
    world, klass, enrolment, family = acct
    enrolment.agreed_price = Decimal("20.00")
    enrolment.save()
    s1, s2 = _session(klass, date(2026, 11, 3)), _session(klass, date(2026, 11, 10))
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s1, state=S.PRESENT)
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s1, state=S.NO_SHOW
    )  # still one charge
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s2, state=S.PRESENT)
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s2, state=S.STAFF_CANCELLED
    )  # reversed
    payment_record(
        family=family,
        amount=Decimal("15.00"),
        method="cash",
        paid_on=date(2026, 11, 5),
        reference="R-1",
    )
    rows = family_statement(family=family)
    assert [(r.day, r.charge, r.payment, r.balance) for r in rows] == [
        (date(2026, 11, 3), Decimal("20.00"), None, Decimal("20.00")),
        (date(2026, 11, 5), None, Decimal("15.00"), Decimal("5.00")),
    ]
    # The whole balance, summed by the database, is the statement's last running balance:
    # the reversed charge left out, the payment taken off.
    assert family_balance(family=family) == Decimal("5.00")
    # A lesson covered by a package is not charged again.
    package_sell(
        family=family,
        programme=klass.programme,
        sessions=3,
        price=Decimal("60"),
        purchased_on=date(2026, 11, 1),
    )
    s3 = _session(klass, date(2026, 11, 17))
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s3, state=S.PRESENT)
    assert not Charge.objects.filter(attendance__session=s3).exists()
    assert family_balance(family=family) == family_statement(family=family)[-1].balance
    with pytest.raises(DomainError):
        payment_record(family=family, amount=Decimal("0"), method="cash", paid_on=TODAY)


def test_bal_3_the_window_boundary_a_charge_exactly_n_days_old_is_outside(acct):
    world, klass, enrolment, family = acct
    old = _session(klass, TODAY - timedelta(days=30))
    inside = _session(klass, TODAY - timedelta(days=29))
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=old, state=S.PRESENT)
    assert balance_due(family=family, days=30, today=TODAY) == 0
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=inside, state=S.PRESENT)
    assert balance_due(family=family, days=30, today=TODAY) == Decimal("26.50")
    payment_record(family=family, amount=Decimal("26.50"), method="card", paid_on=TODAY)
    assert balance_due(family=family, days=30, today=TODAY) == 0  # zero: up to date


@pytest.mark.parametrize(
    ("enabled", "days", "blocked"),
    [
        (False, None, False),
        (True, None, False),
        (False, 30, False),
        (True, 30, True),
    ],
)
def test_bal_2_the_gate_needs_the_switch_and_the_days(acct, enabled, days, blocked):
    world, klass, enrolment, family = acct
    settings = world.company_a.settings
    settings.balance_gate_enabled, settings.balance_gate_days = enabled, days
    settings.save()
    attendance_set_state(
        now=timezone.now(),
        enrolment=enrolment,
        session=_session(klass, TODAY - timedelta(days=3)),
        state=S.PRESENT,
    )
    credit = credit_add_manual(enrolment=enrolment, reason="t", actor=None, valid_days=30, now=NOW)
    host = f.SessionFactory(
        klass=f.ClassFactory(programme=klass.programme, min_age_months=None, max_age_months=None)
    )
    if blocked:
        with pytest.raises(DomainError, match="AUD 26.50 due from the last 30 days"):
            makeup_book(credit=credit, actor=f.parent_of(credit), session=host, now=NOW)
    else:
        makeup_book(credit=credit, actor=f.parent_of(credit), session=host, now=NOW)


def test_bal_4_staff_can_still_book_for_a_blocked_family(acct):
    world, klass, enrolment, family = acct
    settings = world.company_a.settings
    settings.balance_gate_enabled, settings.balance_gate_days = True, 30
    settings.save()
    attendance_set_state(
        now=timezone.now(),
        enrolment=enrolment,
        session=_session(klass, TODAY - timedelta(days=3)),
        state=S.PRESENT,
    )
    credit = credit_add_manual(enrolment=enrolment, reason="t", actor=None, valid_days=30, now=NOW)
    host = f.SessionFactory(
        klass=f.ClassFactory(programme=klass.programme, min_age_months=None, max_age_months=None)
    )
    booking = makeup_book(credit=credit, session=host, actor=world.staff_a, source="staff", now=NOW)
    assert booking.source == "staff"


def test_bal_1_statement_and_payments_on_the_family_page(acct, login):
    world, klass, enrolment, family = acct
    attendance_set_state(
        now=timezone.now(),
        enrolment=enrolment,
        session=_session(klass, date(2026, 11, 3)),
        state=S.PRESENT,
    )
    client = login(world.staff_a)
    url = f"/manage/families/{family.pk}/payments/new/"
    bad = client.post(url, {"amount": "-5", "method": "cash", "paid_on": "2026-11-04"})
    assert b"invalid-feedback" in bad.content
    client.post(
        url, {"amount": "10.00", "method": "bank", "paid_on": "2026-11-04", "reference": "TX-99"}
    )
    html = client.get(f"/manage/families/{family.pk}/").content.decode()
    assert "AUD 16.50 owed." in html and "Payment (Bank transfer) · TX-99" in html


def test_bal_1_a_family_with_nothing_owes_nothing_and_others_charges_are_theirs(acct):
    world, klass, enrolment, family = acct
    other = f.EnrolmentFactory(klass=klass)
    attendance_set_state(
        now=timezone.now(),
        enrolment=other,
        session=_session(klass, date(2026, 11, 3)),
        state=S.PRESENT,
    )
    assert family_balance(family=other.student.family) == Decimal("26.50")
    assert family_balance(family=family) == Decimal("0")
    assert family_statement(family=family) == []
