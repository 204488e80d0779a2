"""The owners' audit log (issue 8): who changed attendance, credits, policies, settings and
partner links, and when — only the owner's own company's."""

import pytest
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState
from bookings.services import attendance_set_state
from credits.services import credit_add_manual
from franchise.models import CompanyLink
from makeup.models import AuditEntry, Company
from makeup.services import company_settings_update, company_update
from makeup.widgets import Textarea
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


ADDRESS = "12 River Road\nParramatta NSW 2150"


def _settings_post(client, **changes) -> dict:
    """The settings page's two forms as a browser posts them: every field as shown, the
    textarea's line breaks as CRLF (the HTML standard), then ``changes``."""
    page = client.get("/manage/settings/")
    data = {}
    for prefix, form in (
        ("company", page.context["details_form"]),
        ("settings", page.context["settings_form"]),
    ):
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[f"{prefix}-{name}"] = "on"
            elif value is not None:
                data[f"{prefix}-{name}"] = str(value)
    data["company-address"] = data["company-address"].replace("\n", "\r\n")
    return data | changes


def test_audit_log_settings_saved_with_crlf_records_only_the_changed_field(world, login):
    """A browser sends the unchanged address back with CRLF line breaks: only the extra
    capacity, which did change, is recorded; the address is kept with LF."""
    Company.objects.filter(pk=world.company_a.pk).update(address=ADDRESS)
    client = login(world.owner_a)
    data = _settings_post(client, **{"settings-makeup_extra_capacity": "3"})
    assert "\r\n" in data["company-address"]
    assert client.post("/manage/settings/", data).status_code == 302
    with scope(company=world.company_a):
        summaries = list(AuditEntry.objects.values_list("summary", flat=True))
    assert summaries == ["Settings changed: extra capacity for make-ups."]
    world.company_a.refresh_from_db()
    assert world.company_a.address == ADDRESS
    assert world.company_a.settings.makeup_extra_capacity == 3
    # The same page saved again, nothing changed: nothing recorded.
    assert client.post("/manage/settings/", _settings_post(client)).status_code == 302
    with scope(company=world.company_a):
        assert AuditEntry.objects.count() == 1
    page = client.get(URL + "?area=settings").content.decode()
    assert "Company details changed" not in page


def test_audit_log_company_update_compares_and_keeps_texts_normalised(world):
    """The service holds the rule too, whatever the caller: CRLF or CR line breaks and
    surrounding whitespace are no change, and are stored as LF; a real change is recorded
    with the field's name."""
    Company.objects.filter(pk=world.company_a.pk).update(address=ADDRESS)
    with scope(company=world.company_a):
        company = company_update(
            now=timezone.now(),
            company=world.company_a,
            actor=world.owner_a,
            address="12 River Road\r\nParramatta NSW 2150\r\n",
        )
        assert company.address == ADDRESS
        company_update(
            now=timezone.now(),
            company=world.company_a,
            actor=world.owner_a,
            address="12 River Road\rParramatta NSW 2150",
        )
        assert not AuditEntry.objects.exists()
        company = company_update(
            now=timezone.now(),
            company=world.company_a,
            actor=world.owner_a,
            address="14 River Road\r\nParramatta NSW 2150",
        )
        assert company.address == "14 River Road\nParramatta NSW 2150"
        assert list(AuditEntry.objects.values_list("summary", flat=True)) == [
            "Company details changed: address."
        ]
        company_settings_update(
            now=timezone.now(), company=world.company_a, actor=world.owner_a, makeup_lead_days=4
        )
        assert AuditEntry.objects.count() == 1  # 4 is the default: unchanged


def test_audit_log_textareas_submit_lf_line_breaks():
    """Every textarea of the app uses this widget (settings, policy, claims, notes…)."""
    widget = Textarea()
    assert widget.value_from_datadict({"t": "a\r\nb\rc\nd"}, {}, "t") == "a\nb\nc\nd"
    assert widget.value_from_datadict({}, {}, "t") is None
