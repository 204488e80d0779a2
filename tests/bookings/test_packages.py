"""PKG-1 and PKG-2 through the attendance service the attendance view uses."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from bookings.models import Attendance, Charge, Package, PackageUse
from bookings.models import AttendanceState as S
from bookings.services import (
    attendance_set_state,
    makeup_set_attendance,
    package_sell,
    packages_with_remaining,
)
from credits.services import credit_add_manual
from makeup.errors import DomainError
from makeups.services import makeup_book
from tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def pk(world):
    klass = f.ClassFactory(
        programme__company=world.company_a,
        deduct_per_attendance=1,
        min_age_months=None,
        max_age_months=None,
    )
    enrolment = f.EnrolmentFactory(klass=klass)
    sessions = [
        f.SessionFactory(klass=klass, local_date=date(2026, 10, 6) + timedelta(weeks=i))
        for i in range(6)
    ]
    with scope(company=world.company_a):
        package = package_sell(
            family=enrolment.student.family,
            programme=klass.programme,
            sessions=5,
            price=Decimal("110.00"),
            purchased_on=date(2026, 10, 1),
        )
        yield klass, enrolment, sessions, package


def remaining(package) -> int:
    return packages_with_remaining(Package.objects.filter(pk=package.pk))[0].remaining


@pytest.mark.parametrize(
    ("state", "deducts"),
    [
        (S.PRESENT, 1),
        (S.NO_SHOW, 1),
        (S.LATE_CANCELLED, 1),
        (S.CANCELLED, 0),
        (S.STAFF_CANCELLED, 0),
        (S.EXPECTED, 0),
    ],
)
def test_pkg_1_which_states_deduct(pk, state, deducts):
    klass, enrolment, sessions, package = pk
    s = sessions[0]
    told = s.starts_at - (timedelta(hours=1) if state == S.LATE_CANCELLED else timedelta(days=3))
    attendance_set_state(
        enrolment=enrolment,
        session=s,
        state=state,
        cancelled_at=told,
        now=s.starts_at + timedelta(hours=1),
    )
    if state == S.EXPECTED:  # a change back to expected from present gives back
        attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.PRESENT)
        attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.EXPECTED)
    assert remaining(package) == 5 - deducts


def test_pkg_1_deducts_the_classes_count_and_corrections_never_take_twice(pk):
    klass, enrolment, sessions, package = pk
    klass.deduct_per_attendance = 2
    klass.save()
    s = sessions[0]
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.PRESENT)
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s, state=S.NO_SHOW
    )  # still counts
    assert remaining(package) == 3
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s, state=S.STAFF_CANCELLED
    )
    assert remaining(package) == 5  # given back
    attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.PRESENT)
    assert remaining(package) == 3  # taken again, once
    assert PackageUse.objects.filter(attendance__session=s).count() == 2  # history kept


def test_pkg_1_uses_the_package_ending_soonest_and_stops_when_it_runs_out(pk):
    klass, enrolment, sessions, package = pk
    short = package_sell(
        family=enrolment.student.family,
        programme=klass.programme,
        sessions=1,
        price=Decimal("25"),
        purchased_on=date(2026, 10, 1),
        valid_until=date(2026, 10, 31),
    )
    for s in sessions:  # six lessons, 1 + 5 sessions bought
        attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.PRESENT)
    assert remaining(short) == 0 and remaining(package) == 0
    assert PackageUse.objects.filter(package=short).get().attendance.session == sessions[0]


def test_pkg_1_an_expired_package_is_not_used(pk):
    klass, enrolment, sessions, package = pk
    Package.objects.filter(pk=package.pk).update(valid_until=date(2026, 10, 10))
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=sessions[1], state=S.PRESENT
    )  # 13 Oct
    assert remaining(package) == 5


def test_pkg_1_refuses_a_bad_package(pk, world):
    klass, enrolment, sessions, package = pk
    with pytest.raises(DomainError):
        package_sell(
            family=enrolment.student.family,
            programme=klass.programme,
            sessions=0,
            price=Decimal("1"),
            purchased_on=date(2026, 10, 1),
        )
    with pytest.raises(DomainError):
        package_sell(
            family=enrolment.student.family,
            programme=klass.programme,
            sessions=5,
            price=Decimal("1"),
            purchased_on=date(2026, 10, 1),
            valid_until=date(2026, 9, 1),
        )


def test_pkg_2_a_make_up_never_deducts_from_a_package(pk):
    klass, enrolment, sessions, package = pk
    host = f.SessionFactory(
        klass=f.ClassFactory(programme=klass.programme, min_age_months=None, max_age_months=None)
    )
    credit = credit_add_manual(enrolment=enrolment, reason="t", actor=None, valid_days=30, now=NOW)
    booking = makeup_book(credit=credit, actor=f.parent_of(credit), session=host, now=NOW)
    makeup_set_attendance(now=timezone.now(), booking=booking, state=S.PRESENT)
    makeup_set_attendance(now=timezone.now(), booking=booking, state=S.NO_SHOW)
    assert remaining(package) == 5


def test_pkg_1_packages_are_recorded_and_shown_on_the_family_page(world, login, pk):
    klass, enrolment, sessions, package = pk
    client = login(world.staff_a)
    family = enrolment.student.family
    url = f"/manage/families/{family.pk}/packages/new/"
    bad = client.post(
        url,
        {
            "programme": klass.programme.pk,
            "sessions": "0",
            "price": "-1",
            "purchased_on": "2026-11-01",
            "valid_until": "2026-10-01",
        },
    )
    assert bad.content.decode().count("invalid-feedback") >= 3
    ok = client.post(
        url,
        {
            "programme": klass.programme.pk,
            "sessions": "2",
            "price": "50",
            "purchased_on": "2026-11-01",
            "valid_until": "",
        },
    )
    assert ok.status_code == 302
    for s in sessions[:5]:
        attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.PRESENT)
    html = client.get(f"/manage/families/{family.pk}/").content.decode()
    assert "0 of 5 sessions left" in html and "⚠ used up" in html
    assert "2 of 2 sessions left" in html


def test_pkg_1_the_portal_shows_sessions_left(world, login, pk):
    klass, enrolment, sessions, package = pk
    guardian = f.GuardianFactory(family=enrolment.student.family, user__email="pk@example.com")
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=sessions[0], state=S.PRESENT
    )
    html = login(guardian.user).get(f"/portal/{world.company_a.slug}/").content.decode()
    assert "4 of 5 sessions left" in html


def test_pkg_1_a_package_covers_from_its_purchase_day_to_its_last_day_only_its_own(pk, world):
    """The packages a mark may take from: the family's own, of the lesson's programme,
    bought on or before the lesson's day and valid on it (both days included)."""
    klass, enrolment, sessions, package = pk
    family = enrolment.student.family

    def sell(**kwargs):
        values = {"family": family, "programme": klass.programme, "sessions": 3}
        values.update(kwargs)
        return package_sell(price=Decimal("30"), **values)

    tuesday_13, tuesday_20 = sessions[1], sessions[2]  # 13 and 20 October
    bought_after = sell(purchased_on=date(2026, 10, 14), valid_until=date(2026, 10, 31))
    other_programme = sell(
        programme=f.ProgrammeFactory(company=world.company_a),
        purchased_on=date(2026, 10, 1),
        valid_until=date(2026, 10, 13),
    )
    other_family = sell(
        family=f.FamilyFactory(company=world.company_a),
        purchased_on=date(2026, 10, 1),
        valid_until=date(2026, 10, 13),
    )
    that_day_only = sell(purchased_on=date(2026, 10, 20), valid_until=date(2026, 10, 20))
    for lesson in (tuesday_13, tuesday_20):
        attendance_set_state(
            enrolment=enrolment,
            session=lesson,
            state=S.PRESENT,
            now=lesson.starts_at + timedelta(hours=1),
        )
    used = {use.attendance.session_id: use.package for use in PackageUse.objects.all()}
    # 13 Oct: none of the others covers it, so the open package; 20 Oct: the package of that
    # day alone ends soonest.
    assert used == {tuesday_13.pk: package, tuesday_20.pk: that_day_only}
    for unused in (bought_after, other_programme, other_family):
        assert remaining(unused) == 3


def test_pkg_1_bal_1_marks_read_packages_and_charges_compiled_once(pk, count_compilations):
    """Every counted mark reads the attendance (created on the first mark), its package use
    and charge, and the packages that cover the lesson: compiled once per worker, not on
    every mark (makeup.shapes)."""
    klass, enrolment, sessions, package = pk
    first, second = sessions[0], sessions[1]
    attendance_set_state(  # the worker's first mark compiles
        enrolment=enrolment,
        session=first,
        state=S.PRESENT,
        now=first.starts_at + timedelta(hours=1),
    )
    compiled = count_compilations()
    attendance_set_state(  # a lesson not marked before: its attendance is created
        enrolment=enrolment,
        session=second,
        state=S.NO_SHOW,
        now=second.starts_at + timedelta(hours=1),
    )
    assert not {Attendance, Charge, Package, PackageUse} & set(compiled)
    assert remaining(package) == 3
