"""CLO-1 in the browser, on a phone (390 × 844): the demo's admin chooses the country of the
public holidays in Settings, adds a part-day closure for one location, and ticks a public
holiday — and no page scrolls sideways or cuts a control off. Dates are built from the real
today (browser tests keep the machine's clock)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from programmes.models import Closure
from tests.e2e.pages import log_in
from tests.e2e.test_phone_layout import OFF_SCREEN_JS, PHONE

pytestmark = pytest.mark.e2e

ADMIN = "admin@riverside.example"


def _fits(page: Page, shots, name: str) -> list[str]:
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.screenshot(path=str(shots / f"phone-{name}.png"), full_page=True)
    return [f"{name}: {p}" for p in dict.fromkeys(page.evaluate(OFF_SCREEN_JS))]


def test_clo_1_an_admin_adds_a_closure_and_a_public_holiday_on_a_phone(
    browser, live_server, demo, artifacts_dir
):
    with scopes_disabled():
        before = set(Closure.objects.filter(company__slug="riverside").values_list("pk", flat=True))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, ADMIN)
    problems: list[str] = []

    # Settings: the country whose public holidays are offered, and its state.
    page.goto(f"{live_server.url}/manage/settings/")
    page.get_by_label("Public holidays of").select_option("AU")
    page.get_by_label("State or region").fill("nsw")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("link", name="Closures and public holidays").click()
    expect(page).to_have_url(re.compile(r"/manage/settings/closures/$"))
    problems += _fits(page, artifacts_dir, "closures")

    # A part-day closure of one pool, a week from today.
    page.get_by_role("link", name="Add a closure").click()
    problems += _fits(page, artifacts_dir, "closure-new")
    day = timezone.localdate() + timedelta(days=7)
    page.get_by_label("Name").fill("Lane ropes repair")
    page.get_by_label("First day").fill(day.isoformat())
    page.get_by_label("Last day").fill(day.isoformat())
    page.get_by_label("Closed from").fill("13:00")
    page.get_by_label("Closed until").fill("15:00")
    page.locator("input[name=locations]").first.check()
    page.get_by_label("No credit: priced into the term").check()
    page.get_by_role("button", name="Add closure").click()
    expect(page.get_by_text("Closure Lane ropes repair added.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/manage/settings/closures/\d+/$"))  # its own page
    problems += _fits(page, artifacts_dir, "closure-page")
    page.get_by_role("link", name="All closures").click()
    row = page.locator("#closures li", has_text="Lane ropes repair")
    expect(row).to_contain_text("13:00–15:00")
    expect(row).to_contain_text("No credit: priced into the term")

    # The first public holiday offered, ticked and added.
    holiday = page.locator("#public-holidays input[name=days]").first
    label = page.locator(f"label[for='{holiday.get_attribute('id')}']").inner_text()
    holiday.check()
    page.get_by_role("button", name="Add the ticked holidays").click()
    expect(page.get_by_text("1 public holiday added to the closures.")).to_be_visible()
    expect(page.locator("#public-holidays li", has_text=label)).to_contain_text("added")
    problems += _fits(page, artifacts_dir, "closures-added")
    page.wait_for_load_state("networkidle")
    context.close()

    with scopes_disabled():
        added = list(
            Closure.objects.filter(company__slug="riverside")
            .exclude(pk__in=before)  # the demo's own closures
            .order_by("pk")
            .values_list("name", "start_time", "holiday")
        )
    assert len(added) == 2 and added[0][0] == "Lane ropes repair" and added[0][1] is not None
    assert added[1][2] and added[1][2] in label
    assert not problems, "\n".join(problems)
