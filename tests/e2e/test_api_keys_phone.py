"""API-1, API-4 on a phone (390 × 844): an owner makes an API key or adds a webhook, sees its
key or secret once, and the pages neither scroll sideways nor cut a control off — with the
long key, secret and address on them."""

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import log_in
from tests.e2e.test_phone_layout import OFF_SCREEN_JS, PHONE

pytestmark = pytest.mark.e2e

OWNER = "owner@riverside.example"


def test_api_1_an_owner_makes_a_key_on_a_phone(browser, live_server, demo, artifacts_dir):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, OWNER)
    page.goto(f"{live_server.url}/manage/settings/")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Accounting")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Make the key").click()
    key = page.locator("#new-key code")
    expect(key).to_contain_text("mk_")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.screenshot(path=str(artifacts_dir / "phone-api-keys.png"))
    problems = page.evaluate(OFF_SCREEN_JS)
    context.close()
    assert not problems, "At 390 px:\n" + "\n".join(problems)


def test_api_4_an_owner_adds_a_webhook_on_a_phone(browser, live_server, demo, artifacts_dir):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, OWNER)
    page.goto(f"{live_server.url}/manage/settings/")
    page.get_by_role("link", name="Webhooks").click()
    page.locator("#id_url").fill("https://accounting.example.com/hooks/makeup-platform")
    page.get_by_label("A make-up is booked").check()
    page.get_by_label("A place is released in a session").check()
    page.get_by_role("button", name="Add the webhook").click()
    expect(page.locator("#new-secret code")).to_contain_text("whsec_")
    problems = page.evaluate(OFF_SCREEN_JS)
    page.get_by_role("link", name="https://accounting.example.com/hooks/makeup-platform").click()
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.screenshot(path=str(artifacts_dir / "phone-webhook.png"))
    problems += page.evaluate(OFF_SCREEN_JS)
    context.close()
    assert not problems, "At 390 px:\n" + "\n".join(problems)
