"""BEY-4: a draft policy replayed on the last 12 months, beside what the current one did."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from credits.models import CancellationPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def history(world):
    """Four on-time cancellations and one late one in the last 12 months (default policy:
    four credits issued, one forfeited)."""
    klass = f.ClassFactory(programme__company=world.company_a, start_date=date(2026, 1, 1))
    enrolment = f.EnrolmentFactory(klass=klass, start_date=date(2026, 1, 1))
    with scope(company=world.company_a):
        for week in range(5):
            session = f.SessionFactory(
                klass=klass, local_date=date(2026, 9, 1) + timedelta(weeks=week)
            )
            told = session.starts_at - (timedelta(days=3) if week < 4 else timedelta(hours=2))
            attendance_set_state(
                enrolment=enrolment, session=session, state=S.CANCELLED, cancelled_at=told, now=told
            )
    return klass.programme


def _preview(client, programme, **overrides):
    data = {
        "mode": "hours_before",
        "hours_before": "24",
        "issue_on_time": "on",
        "issue_staff": "on",
        "on_time_validity": "open",
        "on_time_validity_start": "cancellation",
        "late_validity": "days",
        "late_validity_days": "30",
        "late_validity_start": "cancellation",
        "staff_validity": "days",
        "staff_validity_days": "30",
        "portal_late_cancellation": "allow",
        "cutoff-TOTAL_FORMS": "7",
        "cutoff-INITIAL_FORMS": "7",
        "cutoff-MIN_NUM_FORMS": "7",
        "cutoff-MAX_NUM_FORMS": "7",
        "preview": "1",
        **{f"cutoff-{d}-lesson_weekday": str(d) for d in range(7)},
    }
    data.update(overrides)
    return client.post(f"/manage/programmes/{programme.pk}/policy/", data)


def test_bey_4_preview_shows_the_draft_beside_the_current_policy(world, login, history):
    client = login(world.admin_a)
    response = _preview(client, history, on_time_outstanding_cap="2")
    sim = response.context["simulation"]
    rows = {label: (current, draft) for label, current, draft in sim.rows()}
    assert sim.cancellations == 5
    assert rows["Credits issued"] == (4, 2)
    assert rows["Capped: too many unused credits"] == (0, 2)
    assert rows["Forfeited: cancelled late"] == (1, 1)
    # Nothing was saved.
    with scope(company=world.company_a):
        assert CancellationPolicy.objects.get(programme=history).on_time_outstanding_cap is None


def test_bey_4_a_longer_notice_turns_on_time_cancellations_late(world, login, history):
    response = _preview(login(world.admin_a), history, hours_before="96")
    rows = {label: (c, d) for label, c, d in response.context["simulation"].rows()}
    assert rows["Credits issued"] == (4, 0)
    assert rows["Forfeited: cancelled late"] == (1, 5)
