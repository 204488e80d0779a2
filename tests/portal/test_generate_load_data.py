"""`manage.py generate_load_data`: a tiny set (SQLite is fine) proportional to the full one,
consistent enough that `check_invariants` passes, replaced by --reset, refused when big on
SQLite."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_scopes import scopes_disabled

from bookings.models import (
    Attendance,
    AttendanceState,
    Enrolment,
    Family,
    Guardian,
    MakeupBooking,
    Student,
)
from credits.models import CancellationPolicy, CreditEvent, CreditState, MakeupCredit
from makeup.models import Company, CompanySettings, Membership, User
from programmes.models import Class, Programme, Session

pytestmark = pytest.mark.django_db(transaction=True)

SCALE = 0.005


def _generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_load_data", "--scale", str(SCALE), *args, stdout=out)
    return out.getvalue()


def _near(actual: int, full: int, tolerance: float = 0.25) -> bool:
    expected = full * SCALE
    return abs(actual - expected) <= expected * tolerance


@scopes_disabled()
def test_tiny_set_is_proportional_and_consistent():
    out = _generate("--prefix", "tload")
    assert "Built the 'tload' data set" in out
    assert "load-test-password" in out

    companies = Company.objects.filter(slug__startswith="tload-")
    assert companies.count() == 1  # 20 × 0.005 = 0.1, at least one
    assert CompanySettings.objects.filter(company__in=companies).count() == 1
    assert Membership.objects.filter(company__in=companies).count() == 1
    assert Programme.objects.count() == CancellationPolicy.objects.count() == 5
    assert Class.objects.count() == 10  # 2,000 × 0.005
    assert Session.objects.count() == 200  # 40,000 × 0.005
    assert Family.objects.count() == 75  # 15,000 × 0.005
    assert Guardian.objects.filter(user__isnull=False).count() == 15  # every fifth family
    assert User.objects.filter(email="tload-parent-0@example.com").exists()
    students = Student.objects.count()
    assert students == Enrolment.objects.count()
    assert _near(students, 22_500, 0.05)
    assert _near(Attendance.objects.count(), 200_000)
    assert MakeupCredit.objects.count() == 500  # 100,000 × 0.005
    assert MakeupBooking.objects.count() == 10  # 2 % of the credits

    # A realistic mix, within the model's rules.
    states = set(Attendance.objects.values_list("state", flat=True))
    assert {AttendanceState.PRESENT, AttendanceState.CANCELLED} <= states
    assert not Attendance.objects.filter(
        state__in=[AttendanceState.CANCELLED, AttendanceState.LATE_CANCELLED],
        cancelled_at__isnull=True,
    ).exists()
    credit_states = set(MakeupCredit.objects.values_list("state", flat=True))
    assert {CreditState.AVAILABLE, CreditState.EXPIRED, CreditState.USED} <= credit_states
    assert (
        CreditEvent.objects.filter(kind=CreditEvent.Kind.ISSUED).count()
        == MakeupCredit.objects.count()
    )
    assert MakeupBooking.objects.filter(state=MakeupBooking.State.CANCELLED).exists()

    check = StringIO()
    call_command("check_invariants", stdout=check)
    assert "All invariants hold." in check.getvalue()


@scopes_disabled()
def test_again_needs_reset_which_replaces_the_set():
    _generate("--prefix", "tload")
    with pytest.raises(CommandError, match="--reset"):
        _generate("--prefix", "tload")
    _generate("--prefix", "tload", "--reset")
    assert Company.objects.filter(slug__startswith="tload-").count() == 1
    assert Session.objects.count() == 200
    assert MakeupCredit.objects.count() == 500
    assert User.objects.filter(email__startswith="tload-parent-").count() == 15
    call_command("check_invariants", stdout=StringIO())


def test_a_big_set_is_refused_on_sqlite(monkeypatch):
    # Runs on both databases: the guard reads the connection's vendor.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="small sets only"):
        call_command("generate_load_data", "--scale", "0.5", stdout=StringIO())
