"""The portal home: children, credits with expiry, missed lessons with receipts (BEY-1)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from portal.selectors.family import family_absences
from tests import factories as f

pytestmark = pytest.mark.django_db


def _family_with_history(world, absences: int):
    guardian = f.GuardianFactory(family__company=world.company_a, user__email=f"p{absences}@x.io")
    klass = f.ClassFactory(programme__company=world.company_a, start_date=date(2026, 1, 1))
    enrolment = f.EnrolmentFactory(
        klass=klass, student__family=guardian.family, student__first_name="Lulu"
    )
    now = timezone.now()
    with scope(company=world.company_a):
        for week in range(absences):
            session = f.SessionFactory(
                klass=klass, local_date=timezone.localdate() - timedelta(weeks=week + 1)
            )
            told = session.starts_at - timedelta(days=2)
            attendance_set_state(
                enrolment=enrolment,
                session=session,
                state=S.CANCELLED,
                cancelled_at=told,
                now=min(told, now),
            )
    return guardian


def test_bey_1_parent_sees_each_missed_lesson_with_its_receipt(world, login):
    guardian = _family_with_history(world, 1)
    html = login(guardian.user).get("/portal/alpha/").content.decode()
    assert "Missed lessons" in html and "Lulu" in html
    assert "Make-up credit issued" in html
    assert "on time (the cut-off was" in html


def test_portal_home_costs_the_same_queries_for_1_and_8_absences(world, login):
    def cost(guardian):
        client = login(guardian.user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/portal/alpha/").status_code == 200
        return len(ctx.captured_queries)

    assert cost(_family_with_history(world, 1)) == cost(_family_with_history(world, 8))


def test_ten_1_parent_sees_only_their_own_family(world, login):
    _family_with_history(world, 2)
    html = login(world.parent_a).get("/portal/alpha/").content.decode()
    assert "Lulu" not in html


def test_bey_1_each_listed_absence_has_its_own_receipt_up_to_the_oldest(world):
    """The home lists the latest twelve absences; their decisions and claims are read by the
    family and the lessons' dates: the oldest listed keeps its receipt, an older one and
    another family's at the same lessons' times are not mixed in."""
    ours = _family_with_history(world, 14)
    theirs = _family_with_history(world, 13)
    now = timezone.now()
    with scope(company=world.company_a):
        absences = family_absences(family=ours.family, now=now)
        other = family_absences(family=theirs.family, now=now)
    assert len(absences) == 12
    for absence in absences:
        assert absence.receipt is not None
        assert absence.receipt.credit.attendance_id == absence.attendance.pk
        assert absence.receipt.credit.holder.student.family_id == ours.family.pk
    assert {a.receipt.credit.pk for a in absences}.isdisjoint({a.receipt.credit.pk for a in other})
