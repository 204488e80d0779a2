"""BAL-5 in the browser: a parent blocked by the balance check is sent to the payment page,
pays with the built-in test provider, and books the make-up straight after."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_bal_5_blocked_parent_pays_and_books(browser, live_server, demo, artifacts_dir):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("blocked@riverside.example")
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))
    page.get_by_role("link", name="Book a make-up").first.click()
    page.screenshot(path=str(artifacts_dir / "blocked-parent-search.png"), full_page=True)
    page.get_by_role("link", name="Book", exact=True).first.click()
    page.get_by_role("button", name="Book using a make-up credit").click()
    expect(page).to_have_url(re.compile(r"/portal/riverside/pay/\?next="))
    expect(page.get_by_text(re.compile(r"Amount due: AUD \d+\.\d\d"))).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "blocked-parent-pay.png"), full_page=True)
    page.get_by_role("button", name=re.compile(r"Pay AUD .* now")).click()
    expect(page.get_by_text("no money moves")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay AUD")).click()
    expect(page.get_by_text(re.compile(r"Thank you: AUD .* paid\."))).to_be_visible()
    page.get_by_role("button", name="Book using a make-up credit").click()
    expect(page).to_have_url(re.compile(r"/portal/riverside/makeups/\d+/$"))
    page.screenshot(path=str(artifacts_dir / "blocked-parent-booked.png"), full_page=True)
    context.close()
