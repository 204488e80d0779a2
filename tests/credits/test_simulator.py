"""BEY-4: a draft policy replayed on the last 12 months, beside what the current one did."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state, session_cancel
from credits.models import CancellationPolicy, MakeupCredit
from credits.selectors.simulator import simulate_policy
from programmes.models import ClosureCredits
from programmes.services import closure_create
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
        "term_end_credits": "expire",
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


# --- closures are left out (BEY-4 with CLO-3) -----------------------------------------------


def _draft(programme, **changes) -> CancellationPolicy:
    draft = CancellationPolicy.objects.get(programme=programme)
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft


def _figures(programme, draft):
    sim = simulate_policy(programme=programme, draft=draft, draft_cutoffs=[], now=NOW)
    return sim, (sim.cancellations, sim.rows())


def test_bey_4_lessons_a_closure_cancelled_do_not_change_the_simulation(world, history):
    """Two lessons closed by closures (one issuing credits by policy, one "priced into the
    term") leave every figure, current and draft, as it was; they are only counted as left
    out. A lesson the school cancelled for another reason is still replayed."""
    company = world.company_a
    with scope(company=company):
        klass = history.classes.get()
        enrolment = klass.enrolments.get()
        draft = _draft(history, issue_staff=False, on_time_outstanding_cap=2)
        before, figures = _figures(history, draft)
        assert before.closures_left_out == 0
        others = f.EnrolmentFactory.create_batch(2, klass=klass, start_date=date(2026, 1, 1))
        planned = datetime(2026, 9, 20, tzinfo=UTC)
        for week, credits in ((6, ClosureCredits.POLICY), (7, ClosureCredits.NONE)):
            day = date(2026, 9, 1) + timedelta(weeks=week)
            session = f.SessionFactory(klass=klass, local_date=day)
            closure = closure_create(
                company=company,
                name=f"Closed {day}",
                first_day=day,
                last_day=day,
                credits=credits,
                now=planned,
            )
            session_cancel(session=session, reason="Closed", closure=closure, now=planned)
        assert (
            MakeupCredit.objects.filter(enrolment__in=[enrolment, *others], path="staff").count()
            == 3
        )  # the policy closure issued, the priced-in one did not

        after, same = _figures(history, draft)
        assert same == figures
        assert after.closures_left_out == 6

        # A storm, not a closure: the school path is replayed as before.
        storm = f.SessionFactory(klass=klass, local_date=date(2026, 9, 1) + timedelta(weeks=8))
        session_cancel(session=storm, reason="Storm", now=planned)
        stormy, (cancellations, rows) = _figures(history, draft)
    assert cancellations == figures[0] + 3 and stormy.closures_left_out == 6
    rows = {label: (current, draft) for label, current, draft in rows}
    assert rows["Forfeited: path issues no credit"] == (0, 3)  # the draft's issue_staff off


def test_bey_4_a_familys_own_cancellation_of_a_closed_lesson_is_still_replayed(world, history):
    with scope(company=world.company_a):
        klass = history.classes.get()
        enrolment = klass.enrolments.get()
        draft = _draft(history)
        _, (cancellations, _rows) = _figures(history, draft)
        day = date(2026, 10, 20)
        session = f.SessionFactory(klass=klass, local_date=day)
        told = datetime(2026, 10, 1, tzinfo=UTC)
        attendance_set_state(
            enrolment=enrolment, session=session, state=S.CANCELLED, cancelled_at=told, now=told
        )
        closure = closure_create(
            company=world.company_a, name="Works", first_day=day, last_day=day, now=told
        )
        session_cancel(session=session, reason="Works", closure=closure, now=told)
        sim, _ = _figures(history, draft)
    assert (sim.cancellations, sim.closures_left_out) == (cancellations + 1, 0)


def test_bey_4_the_preview_says_how_many_closed_lessons_it_left_out(world, login, history):
    day = date(2026, 10, 20)
    planned = datetime(2026, 10, 1, tzinfo=UTC)
    with scope(company=world.company_a):
        klass = history.classes.get()
        session = f.SessionFactory(klass=klass, local_date=day)
        closure = closure_create(
            company=world.company_a, name="Works", first_day=day, last_day=day, now=planned
        )
        session_cancel(session=session, reason="Works", closure=closure, now=planned)
    with time_machine.travel(NOW, tick=False):
        response = _preview(login(world.admin_a), history)
    assert response.context["simulation"].closures_left_out == 1
    assert "1 lesson cancelled by a closure is left out" in response.content.decode()
