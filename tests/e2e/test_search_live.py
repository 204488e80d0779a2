"""DAY-3 in the browser, on a phone: the top bar's search box lists matches under it while
typing (htmx, a typo forgiven), nothing scrolls sideways, and Enter opens the results page."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

STAFF = "staff@riverside.example"


def test_day_3_the_search_box_answers_while_typing_on_a_phone(
    page: Page, live_server, demo, artifacts_dir
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(STAFF)
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_role("button", name="Toggle navigation").click()
    box = page.get_by_label("Find a family, child or parent")
    box.press_sequentially("Parkr", delay=30)  # one letter missing
    dropdown = page.locator("#site-search-results")
    expect(dropdown.get_by_role("link", name=re.compile("Parker")).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts_dir / "search-dropdown.png"), full_page=True)

    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/manage/search/\?q=Parkr"))
    expect(page.get_by_role("heading", name="Families")).to_be_visible()
    expect(page.locator("main").get_by_role("link", name="Parker").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # No request may still be running on the live server when the test's data is flushed.
    page.wait_for_load_state("networkidle")
