"""The policy page, the credits list and manual credits through the back office."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from credits.models import CancellationPolicy, MakeupCredit, WeeklyCutoff
from makeup.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def _policy_post(**overrides):
    data = {
        "mode": "hours_before",
        "hours_before": "24",
        "issue_on_time": "on",
        "issue_staff": "on",
        "on_time_validity": "days",
        "on_time_validity_days": "30",
        "on_time_validity_start": "cancellation",
        "late_validity": "days",
        "late_validity_days": "30",
        "late_validity_start": "cancellation",
        "staff_validity": "days",
        "staff_validity_days": "30",
        "portal_late_cancellation": "allow",
        "term_end_credits": "expire",
        "cutoff-TOTAL_FORMS": "7",
        "cutoff-INITIAL_FORMS": "7",
        "cutoff-MIN_NUM_FORMS": "7",
        "cutoff-MAX_NUM_FORMS": "7",
    }
    for day in range(7):
        data[f"cutoff-{day}-lesson_weekday"] = str(day)
    data.update(overrides)
    return data


@pytest.fixture
def programme(world):
    return f.ProgrammeFactory(company=world.company_a)


def test_pol_1_policy_page_saves_a_weekly_cut_off_table(world, login, programme):
    client = login(world.admin_a)
    url = f"/manage/programmes/{programme.pk}/policy/"
    page = client.get(url)
    assert "A Tuesday 17:00 lesson cancelled after Monday 17:00 (24 hours before) is late." in (
        page.content.decode()
    )
    response = client.post(
        url,
        _policy_post(
            **{
                "mode": "weekly_cutoff",
                "cutoff-1-cutoff_weekday": "0",
                "cutoff-1-cutoff_time": "20:00",
            }
        ),
    )
    assert response.status_code == 302
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=programme)
        assert policy.mode == "weekly_cutoff"
        assert list(
            WeeklyCutoff.objects.filter(policy=policy).values_list(
                "lesson_weekday", "cutoff_weekday", "cutoff_time"
            )
        ) == [(1, 0, time(20, 0))]
    page = client.get(url).content.decode()
    assert "A Tuesday 17:00 lesson cancelled after Monday 20:00 is late." in page
    # The owners' audit log names who saved it.
    with scope(company=world.company_a):
        entry = AuditEntry.objects.get(area=AuditEntry.Area.POLICY)
    assert entry.actor == world.admin_a and programme.name in entry.summary


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"on_time_validity_days": ""}, "Enter the number of days"),
        ({"window_credits": "2"}, "Set both the number of credits and the days"),
        ({"mode": "weekly_cutoff"}, "needs a cut-off for at least one weekday"),
        ({"cutoff-2-cutoff_weekday": "1"}, "Choose both a day and a time"),
        ({"portal_late_cancellation": "refuse"}, "Tell parents what to do instead"),
        ({"hours_before": "-3"}, "greater than or equal to 0"),
    ],
)
def test_policy_page_refuses_invalid_combinations(world, login, programme, overrides, message):
    client = login(world.admin_a)
    response = client.post(f"/manage/programmes/{programme.pk}/policy/", _policy_post(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=programme)
        assert (policy.mode, policy.window_credits) == ("hours_before", None)


def test_ten_2_staff_cannot_edit_policies_or_add_credits(world, login, programme):
    client = login(world.staff_a)
    enrolment = f.EnrolmentFactory(klass__programme=programme)
    assert client.get(f"/manage/programmes/{programme.pk}/policy/").status_code == 403
    assert client.get(f"/manage/enrolments/{enrolment.pk}/credits/new/").status_code == 403
    assert client.get("/manage/credits/").status_code == 200


def test_pol_8_manual_credit_from_the_back_office(world, login, programme):
    enrolment = f.EnrolmentFactory(klass__programme=programme)
    client = login(world.admin_a)
    url = f"/manage/enrolments/{enrolment.pk}/credits/new/"
    bad = client.post(url, {"reason": "", "valid_days": "0"})
    assert bad.content.decode().count("invalid-feedback") >= 2
    response = client.post(url, {"reason": "Holiday clinic cancelled", "valid_days": "45"})
    assert response.status_code == 302
    with scope(company=world.company_a):
        credit = MakeupCredit.objects.get(enrolment=enrolment)
    assert credit.reason == "Holiday clinic cancelled" and credit.created_by == world.admin_a


def _credits(enrolment, n, *, expires_in_days):
    now = timezone.now()
    MakeupCredit.objects.bulk_create(
        [
            MakeupCredit(
                company=enrolment.company,
                enrolment=enrolment,
                path="manual",
                reason=f"r{i}",
                issued_at=now,
                state_changed_at=now,
                expires_at=now + timedelta(days=expires_in_days),
            )
            for i in range(n)
        ]
    )


def test_credit_list_filters_and_costs_fixed_queries(world, login, programme):
    client = login(world.staff_a)
    e = f.EnrolmentFactory(klass__programme=programme)
    _credits(e, 3, expires_in_days=5)
    _credits(e, 2, expires_in_days=60)
    page = client.get("/manage/credits/?expiring_within=7")
    assert page.context["page"].paginator.count == 3
    assert client.get("/manage/credits/?state=used").context["page"].paginator.count == 0
    assert (
        client.get(f"/manage/credits/?programme={programme.pk}").context["page"].paginator.count
        == 5
    )

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/manage/credits/").status_code == 200
        return len(ctx.captured_queries)

    few = cost()
    _credits(e, 45, expires_in_days=20)
    assert cost() == few


def test_credit_list_of_another_company_shows_nothing(world, login, programme):
    _credits(f.EnrolmentFactory(klass__programme=programme), 2, expires_in_days=5)
    page = login(world.owner_b).get("/manage/credits/")
    assert page.context["page"].paginator.count == 0


def test_pol_9_crd_2_family_page_shows_credits_history_and_decisions(world, login, programme):
    from bookings.models import AttendanceState
    from bookings.services import attendance_set_state

    klass = f.ClassFactory(programme=programme)
    enrolment = f.EnrolmentFactory(klass=klass, student__first_name="Ivy")
    s1 = f.SessionFactory(klass=klass)
    s2 = f.SessionFactory(klass=klass, local_date=s1.local_date + timedelta(days=7))
    with scope(company=world.company_a):
        attendance_set_state(
            enrolment=enrolment,
            session=s1,
            state=AttendanceState.CANCELLED,
            cancelled_at=s1.starts_at - timedelta(days=2),
            now=s1.starts_at - timedelta(days=2),
        )
        attendance_set_state(
            now=timezone.now(), enrolment=enrolment, session=s2, state=AttendanceState.NO_SHOW
        )
    html = (
        login(world.admin_a)
        .get(f"/manage/families/{enrolment.student.family_id}/")
        .content.decode()
    )
    assert "Make-up credits" in html and "Client cancelled on time" in html
    assert "1 event" in html and "Issued" in html
    assert "No credit: did not attend without telling us" in html
    assert "Add credit" in html
    staff_html = (
        login(world.staff_a)
        .get(f"/manage/families/{enrolment.student.family_id}/")
        .content.decode()
    )
    assert "Add credit" not in staff_html


def test_att_5_admin_sees_spent_credit_conflicts_and_marks_them_reviewed(world, login, programme):
    from bookings.models import AttendanceState
    from bookings.services import attendance_set_state
    from credits.models import CreditDecision

    klass = f.ClassFactory(programme=programme)
    enrolment = f.EnrolmentFactory(klass=klass, student__first_name="Rex")
    session = f.SessionFactory(klass=klass)
    with scope(company=world.company_a):
        told = session.starts_at - timedelta(days=2)
        a = attendance_set_state(
            enrolment=enrolment,
            session=session,
            state=AttendanceState.CANCELLED,
            cancelled_at=told,
            now=told,
        )
        MakeupCredit.objects.filter(attendance=a).update(state="used")
        attendance_set_state(
            enrolment=enrolment,
            session=session,
            state=AttendanceState.PRESENT,
            now=told + timedelta(days=3),
        )
        conflict = CreditDecision.objects.get(needs_attention=True)
    client = login(world.admin_a)
    html = client.get("/manage/credits/").content.decode()
    assert "Corrections that met a spent credit (1)" in html and "Rex" in html
    assert (
        login(world.staff_a).post(f"/manage/credits/decisions/{conflict.pk}/reviewed/").status_code
        == 403
    )
    client = login(world.admin_a)
    client.post(f"/manage/credits/decisions/{conflict.pk}/reviewed/")
    conflict.refresh_from_db()
    assert not conflict.needs_attention
    assert "Corrections that met" not in client.get("/manage/credits/").content.decode()


def test_pol_11_policy_instructions_from_the_page_are_kept_with_lf_line_breaks(
    world, login, programme
):
    """The policy form's textarea comes back from a browser with CRLF line breaks; it is
    stored with LF, as the demo and every other text, so saving it unchanged is no change."""
    client = login(world.admin_a)
    response = client.post(
        f"/manage/programmes/{programme.pk}/policy/",
        _policy_post(
            portal_late_cancellation="refuse",
            late_cancellation_instructions="Call us:\r\n02 9999 0000",
        ),
    )
    assert response.status_code == 302
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=programme)
    assert policy.late_cancellation_instructions == "Call us:\n02 9999 0000"
