"""The admin journey, in the browser only: create a programme, a class with a weekly
schedule, enrol students, take attendance for a generated session."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_admin_configures_a_class_enrols_and_takes_attendance(
    page, live_server, demo, artifacts_dir
):
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill("admin@riverside.example")
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/manage/$"))

    # A programme.
    page.get_by_role("navigation", name="Back office").get_by_role(
        "link", name="Programmes"
    ).click()
    page.get_by_role("link", name=re.compile("New programme")).click()
    page.locator("#id_name").fill("Adult Stroke Clinic")
    page.locator("#id_code").fill("adult-sc")
    page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_text("ADULT-SC").first).to_be_visible()

    # A class with a weekly schedule: the whole term, from last week to six weeks ahead.
    today = timezone.now().astimezone(ZoneInfo("Australia/Sydney")).date()  # Riverside's day
    page.get_by_role("navigation", name="Back office").get_by_role("link", name="Classes").click()
    page.get_by_role("link", name=re.compile("New class")).click()
    option = page.locator("#id_programme option", has_text="Adult Stroke Clinic")
    page.locator("#id_programme").select_option(option.get_attribute("value"))
    page.locator("#id_name").fill("Adult Clinic Weekly")
    page.locator("#id_capacity").fill("4")
    page.locator("#id_start_date").fill((today - timedelta(days=7)).isoformat())
    page.locator("#id_end_date").fill((today + timedelta(days=42)).isoformat())
    page.locator("#id_price_per_session").fill("30")
    page.locator("#id_schedule-0-weekday").select_option(str(today.weekday()))
    page.locator("#id_schedule-0-start_time").fill("06:30")
    page.locator("#id_schedule-0-duration_minutes").fill("45")
    page.get_by_role("button", name="Create class").click()
    expect(page.get_by_text(re.compile(r"\d+ sessions? added"))).to_be_visible()

    # The new class's page opens at once: enrol two students there.
    expect(page.get_by_role("heading", name="Adult Clinic Weekly")).to_be_visible()
    for _ in range(2):
        page.locator("#enrol-candidates").get_by_role("radio").first.check()
        page.locator("#id_start_date").fill((today - timedelta(days=7)).isoformat())
        page.get_by_role("button", name="Enrol", exact=True).click()
        confirm = page.get_by_role("button", name="Enrol anyway")
        if confirm.count():
            confirm.click()
        expect(page.get_by_text(re.compile("is enrolled in Adult Clinic Weekly"))).to_be_visible()
    expect(page.get_by_text("2 of 4 places")).to_be_visible()

    # Take attendance for the session of today (generated from the schedule).
    page.get_by_role("link", name=re.compile(today.strftime("%a %-d %b"))).first.click()
    rows = page.locator("tr.attendance-row")
    expect(rows).to_have_count(2)
    rows.nth(0).get_by_role("button", name="Present").click()
    expect(rows.nth(0).get_by_text("✓ Present")).to_be_visible()
    rows.nth(1).get_by_role("button", name="Did not attend").click()
    expect(rows.nth(1).get_by_text("✗ Did not attend")).to_be_visible()
    expect(rows.nth(1).get_by_text("No credit: did not attend")).to_be_visible()
    page.reload()
    expect(page.get_by_text("1 present")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "admin-attendance.png"), full_page=True)
