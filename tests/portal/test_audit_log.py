"""The owners' audit log (issue 8): who changed attendance, credits, policies, settings and
partner links, and when — only the owner's own company's."""

import pytest
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState
from bookings.services import attendance_set_state
from credits.services import credit_add_manual
from franchise.models import CompanyLink
from makeup.models import AuditEntry
from tests import factories as f

URL = "/manage/audit/"


@pytest.fixture
def history(world, login):
    """An attendance change and a manual credit at alpha, a settings change through the page,
    a policy saved through the page, and a link with beta."""
    enrolment = f.EnrolmentFactory(klass__programme__company=world.company_a)
    enrolment.student.first_name = "Ava"
    enrolment.student.save()
    session = f.SessionFactory(klass=enrolment.klass, local_date=enrolment.start_date)
    with scope(company=world.company_a):
        attendance_set_state(
            now=timezone.now(),
            enrolment=enrolment,
            session=session,
            state=AttendanceState.NO_SHOW,
            actor=world.staff_a,
        )
        credit_add_manual(
            now=timezone.now(), enrolment=enrolment, reason="Pool closed", actor=world.admin_a
        )
    CompanyLink.objects.create(
        inviter=world.company_a,
        invitee=world.company_b,
        invitee_email="b@example.com",
        created_at=timezone.now(),
        created_by=world.owner_a,
    )
    return enrolment


def test_the_audit_log_shows_attendance_credits_and_links(history, world, login):
    page = login(world.owner_a).get(URL).content.decode()
    assert "Ava" in page and "Did not attend" in page
    assert world.staff_a.full_name in page
    assert "Pool closed" in page and world.admin_a.full_name in page
    assert f"{world.company_a.name} invited {world.company_b.name}." in page


def test_settings_and_policy_changes_are_recorded_with_who(world, login):
    client = login(world.owner_a)
    settings_page = client.get("/manage/settings/")
    form = settings_page.context["settings_form"]
    details = settings_page.context["details_form"]
    data = {f"company-{k}": v for k, v in details.initial.items() if v is not None}
    data |= {f"settings-{k}": v for k, v in form.initial.items() if v is not None}
    data["settings-makeup_lead_days"] = 6
    data.pop("settings-balance_gate_enabled", None)
    data.pop("settings-portal_payments_enabled", None)
    data.pop("settings-regular_lesson_reminders", None)
    response = client.post("/manage/settings/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with scope(company=world.company_a):
        entry = AuditEntry.objects.get(area=AuditEntry.Area.SETTINGS)
    assert entry.actor == world.owner_a and "make-up lead days" in entry.summary
    page = client.get(URL + "?area=settings").content.decode()
    assert "Settings changed: make-up lead days." in page


def test_only_owners_see_it_and_only_their_company(history, world, login):
    assert login(world.admin_a).get(URL).status_code == 403
    assert login(world.staff_a).get(URL).status_code == 403
    theirs = login(world.owner_b).get(URL).content.decode()
    assert "Ava" not in theirs and "Pool closed" not in theirs
    assert f"{world.company_a.name} invited {world.company_b.name}." in theirs  # both sides


def test_the_audit_log_costs_the_same_queries_for_more_history(
    history, world, login, django_assert_max_num_queries
):
    client = login(world.owner_a)
    with django_assert_max_num_queries(12):
        client.get(URL)
