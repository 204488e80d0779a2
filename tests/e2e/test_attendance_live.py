"""DAY-1 in the browser: one click on the attendance view updates the row, its credit
decision and the session's counts line in place (htmx, no reload), and what it shows is what
a reload shows — also after a late cancellation corrected back to present."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import log_in, past_session_with_students

pytestmark = pytest.mark.e2e

STAFF = "staff@riverside.example"
FORFEITED = "No credit: cancelled after the cut-off"


def _counts(page: Page) -> str:
    return " ".join(page.locator("#attendance-counts").inner_text().split())


def _reloaded(page: Page, url: str, row_id: str) -> tuple[str, str]:
    """The counts line and the row's state column as a fresh page load shows them."""
    fresh = page.context.new_page()
    fresh.goto(url)
    counts = " ".join(fresh.locator("#attendance-counts").inner_text().split())
    cell = " ".join(fresh.locator(f"#{row_id} td").first.inner_text().split())
    fresh.close()
    return counts, cell


def test_day_1_a_click_updates_row_decision_and_counts_in_place(
    page, live_server, demo, artifacts_dir
):
    session = past_session_with_students()
    url = f"{live_server.url}/manage/sessions/{session.pk}/"
    log_in(page, live_server.url, STAFF)
    page.goto(url)
    row = page.locator("tr.attendance-row:not(.makeup-row)").first
    row_id = row.get_attribute("id")
    row = page.locator(f"#{row_id}")
    page.evaluate("() => { window.notReloaded = true; }")

    # Present first, then a client cancellation recorded now (after the cut-off: late).
    row.get_by_role("button", name="Present").click()
    expect(row.get_by_role("button", name="Present", pressed=True)).to_be_visible()
    before = _counts(page)
    row.get_by_text("Client cancelled…").click()
    row.get_by_role("button", name="Record cancellation").click()
    expect(row.locator(".state-badge")).to_contain_text("Cancelled late")
    expect(row.locator(".decision")).to_contain_text(FORFEITED)
    expect(page.locator("#attendance-counts")).not_to_have_text(before)
    late_counts = _counts(page)
    assert (late_counts, " ".join(row.locator("td").first.inner_text().split())) == _reloaded(
        page, url, row_id
    )

    # Corrected back to present: the decision of the late cancellation goes, counts follow.
    row.get_by_role("button", name="Present").click()
    expect(row.get_by_role("button", name="Present", pressed=True)).to_be_visible()
    expect(row).not_to_contain_text(FORFEITED)
    expect(page.locator("#attendance-counts")).to_have_text(re.compile(re.escape(before)))
    counts, cell = _reloaded(page, url, row_id)
    assert counts == _counts(page) == before
    assert FORFEITED not in cell
    assert page.evaluate("() => window.notReloaded === true")  # all of it in place
    page.screenshot(path=str(artifacts_dir / "attendance-live.png"), full_page=True)
