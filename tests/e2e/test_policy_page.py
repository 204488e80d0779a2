"""The cancellation policy page's example sentence follows the form as the admin types."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_pol_1_example_sentence_updates_as_the_admin_types(page, live_server, demo, artifacts_dir):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("admin@riverside.example")
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/manage/programmes/")
    page.get_by_role("link", name="Cancellation policy").first.click()
    example = page.locator("#policy-example")
    expect(example).to_have_text(
        "A Tuesday 17:00 lesson cancelled after Monday 17:00 (24 hours before) is late."
    )
    page.locator("#id_hours_before").fill("48")
    expect(example).to_have_text(
        "A Tuesday 17:00 lesson cancelled after Sunday 17:00 (48 hours before) is late."
    )
    page.locator("#id_mode").select_option("weekly_cutoff")
    expect(page.locator("#weekly-table")).to_be_visible()
    row = page.locator('.cutoff-row[data-lesson-weekday="1"]')
    row.locator("select").select_option("0")
    row.locator("input[type=time]").fill("20:00")
    expect(example).to_have_text("A Tuesday 17:00 lesson cancelled after Monday 20:00 is late.")
    page.screenshot(path=str(artifacts_dir / "policy-page.png"), full_page=True)


def test_pol_1_the_example_follows_the_form_in_czech_too(page, live_server, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("admin@riverside.example")
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()
    page.locator("#language-choice").select_option("cs")
    page.locator(".language-chooser button[type=submit]").click()
    page.goto(f"{live_server.url}/manage/programmes/")
    page.locator("a[href$='/policy/']").first.click()
    example = page.locator("#policy-example")
    expect(example).to_contain_text(
        "Omluva z úterní lekce v 17:00 podaná později než Pondělí 17:00"
    )
    page.locator("#id_hours_before").fill("48")
    expect(example).to_contain_text("později než Neděle 17:00")
    page.locator("#id_mode").select_option("weekly_cutoff")
    row = page.locator('.cutoff-row[data-lesson-weekday="1"]')
    row.locator("select").select_option("0")
    row.locator("input[type=time]").fill("20:00")
    expect(example).to_have_text(
        "Omluva z úterní lekce v 17:00 podaná později než Pondělí 20:00 je pozdní."
    )
