"""DAY-1 and POL-9: after a one-click change the attendance view shows the current state —
the row, its credit decision and the session's counts — never a stale line; the decision
shown is the one made for the current state, on the page, after htmx, and in the portal."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from credits.services import credit_add_manual
from makeups.services import makeup_book
from tests import factories as f

pytestmark = pytest.mark.django_db

# The session: Tue 24 Nov 2026 17:00 Sydney; the cut-off 24 hours before (23 Nov 17:00).
NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # 16:00 Sydney, an hour before the lesson
LATE = "2026-11-24T15:00"  # after the cut-off
FORFEITED = "No credit: cancelled after the cut-off"


@pytest.fixture
def lesson(world):
    klass = f.ClassFactory(
        programme__company=world.company_a, min_age_months=None, max_age_months=None
    )
    session = f.SessionFactory(klass=klass)
    ada, ben, cat = (
        f.EnrolmentFactory(klass=klass, student__first_name=name) for name in ("Ada", "Ben", "Cat")
    )
    return session, ada, ben, cat


def _click(client, session, enrolment, **data):
    return client.post(
        f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/", data, HTTP_HX_REQUEST="true"
    )


def _counts(html: str) -> str:
    """The text of the counts line (the page's, or the out-of-band one of an htmx answer)."""
    match = re.search(r'<p id="attendance-counts"[^>]*>(.*?)</p>', html, re.S)
    assert match, "no counts line"
    return " ".join(match.group(1).split())


def _row(html: str, enrolment) -> str:
    match = re.search(rf'<tr id="row-{enrolment.pk}".*?</tr>', html, re.S)
    assert match, f"no row for {enrolment}"
    return match.group(0)


def test_day_1_one_click_answer_updates_the_counts_out_of_band(world, login, lesson):
    session, ada, ben, cat = lesson
    client = login(world.staff_a)
    with time_machine.travel(NOW, tick=False):
        for enrolment in (ada, ben, cat):
            response = _click(client, session, enrolment, state="present")
        html = response.content.decode()
        assert html.lstrip().startswith(f'<tr id="row-{cat.pk}"')  # the row first, as before
        assert 'hx-swap-oob="innerHTML"' in html
        assert _counts(html) == (
            "3 students · 3 present · 0 cancelled on time · 0 cancelled late · 0 did not "
            "attend · 0 cancelled by us · 0 expected"
        )
        html = _click(
            client, session, ada, state="client_cancelled", cancelled_at=LATE
        ).content.decode()
        assert FORFEITED in _row(html, ada)
        assert "2 present · 0 cancelled on time · 1 cancelled late" in _counts(html)
        # Corrected back to present: the row loses the decision of the late cancellation.
        html = _click(client, session, ada, state="present").content.decode()
        row = _row(html, ada)
        assert "✓ Present" in row and FORFEITED not in html
        assert "3 present · 0 cancelled on time · 0 cancelled late" in _counts(html)
        page = client.get(f"/manage/sessions/{session.pk}/").content.decode()
    assert _counts(page).startswith("3 students · 3 present · 0 cancelled on time")


def test_day_1_pol_9_late_cancel_corrected_to_present_shows_no_stale_decision(world, login, lesson):
    """A full reload after late-cancelled → present: no "no credit" line for that student,
    while another student still cancelled late keeps theirs."""
    session, ada, ben, cat = lesson
    client = login(world.staff_a)
    with time_machine.travel(NOW, tick=False):
        for enrolment in (ada, ben):
            client.post(
                f"/manage/sessions/{session.pk}/attendance/{enrolment.pk}/",
                {"state": "client_cancelled", "cancelled_at": LATE},
            )
        client.post(f"/manage/sessions/{session.pk}/attendance/{ada.pk}/", {"state": "present"})
        client.post(f"/manage/sessions/{session.pk}/attendance/{cat.pk}/", {"state": "no_show"})
        client.post(f"/manage/sessions/{session.pk}/attendance/{cat.pk}/", {"state": "expected"})
        html = client.get(f"/manage/sessions/{session.pk}/").content.decode()
    assert FORFEITED not in _row(html, ada) and "✓ Present" in _row(html, ada)
    assert FORFEITED in _row(html, ben)
    assert "No credit: did not attend" not in _row(html, cat)  # reset to expected
    assert "1 present · 0 cancelled on time · 1 cancelled late" in _counts(html)


def test_pol_9_a_decision_made_for_the_correction_itself_is_shown(world, login, lesson):
    """Corrected from on time to present, the credit is revoked: that decision belongs to
    the present state and stays on the row."""
    session, ada, _ben, _cat = lesson
    client = login(world.staff_a)
    with time_machine.travel(NOW, tick=False):
        _click(client, session, ada, state="client_cancelled", cancelled_at="2026-11-20T09:00")
        html = _click(client, session, ada, state="present").content.decode()
    assert "revoked: the attendance was corrected to “Present”" in _row(html, ada)


def test_day_1_make_up_guest_click_updates_the_counts_too(world, login, lesson):
    session, ada, _ben, _cat = lesson
    home = f.EnrolmentFactory(klass=f.ClassFactory(programme=session.klass.programme))
    with scope(company=world.company_a), time_machine.travel(NOW, tick=False):
        credit = credit_add_manual(
            enrolment=home,
            reason="t",
            actor=None,
            valid_days=30,
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
        booking = makeup_book(
            credit=credit,
            actor=f.parent_of(credit),
            session=session,
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
        attendance_set_state(enrolment=ada, session=session, state=S.PRESENT, now=NOW)
    client = login(world.staff_a)
    with time_machine.travel(NOW, tick=False):
        html = client.post(
            f"/manage/sessions/{session.pk}/makeups/{booking.pk}/attendance/",
            {"state": "present"},
            HTTP_HX_REQUEST="true",
        ).content.decode()
    assert html.lstrip().startswith(f'<tr id="makeup-row-{booking.pk}"')
    assert _counts(html).startswith("3 students + 1 make-up guest · 2 present")


def test_day_1_one_click_answer_costs_the_same_queries_for_3_and_30_students(world, login):
    def cost(size: int) -> int:
        klass = f.ClassFactory(programme__company=world.company_a, capacity=40)
        session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 24))
        enrolments = f.EnrolmentFactory.create_batch(size, klass=klass)
        with scope(company=world.company_a), time_machine.travel(NOW, tick=False):
            for enrolment in enrolments[1:]:
                attendance_set_state(enrolment=enrolment, session=session, state=S.NO_SHOW, now=NOW)
        client = login(world.staff_a)
        with time_machine.travel(NOW, tick=False):
            _click(client, session, enrolments[0], state="no_show")  # warm: the same writes
            with CaptureQueriesContext(connection) as ctx:
                response = _click(client, session, enrolments[0], state="present")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few, many = cost(3), cost(30)
    assert few == many, f"{few} queries for 3 students, {many} for 30"
