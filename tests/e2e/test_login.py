"""The demo owner logs in through the browser and sees the back office; the demo parent
lands on the portal."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _login(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()


def test_demo_owner_logs_in_and_sees_the_back_office(page, live_server, demo, artifacts_dir):
    _login(page, live_server.url, "owner@riverside.example")
    expect(page).to_have_url(re.compile(r"/manage/$"))
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Riverside Swim School")).to_be_visible()
    nav = page.get_by_role("navigation", name="Back office")
    expect(nav.get_by_role("link", name="Settings")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "owner-back-office.png"), full_page=True)


def test_demo_parent_lands_on_the_portal_on_a_phone(browser, live_server, demo, artifacts_dir):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _login(page, live_server.url, "parent@riverside.example")
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))
    expect(page.get_by_text("Mia Parker")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "parent-portal-phone.png"), full_page=True)
    context.close()
