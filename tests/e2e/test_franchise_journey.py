"""Make-ups across branches in a browser (FRN-5…FRN-8): the Riverside demo parent books a
Lakeside session from the portal's make-up search; Lakeside staff see the guest in their
attendance view (name, age, parent contact, home branch); the partner report counts the
make-up on both sides."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from bookings.models import MakeupBooking

pytestmark = pytest.mark.e2e

PASSWORD = "makeup-demo"  # noqa: S105 - the printed demo password


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _log_out(page) -> None:
    page.context.clear_cookies()


def _sent_to_lakeside(year: int) -> int:
    with scopes_disabled():
        return MakeupBooking.objects.filter(
            company__slug="lakeside",
            home_company__slug="riverside",
            state=MakeupBooking.State.BOOKED,
            session__local_date__year=year,
        ).count()


def test_a_riverside_parent_books_at_lakeside_and_both_branches_see_it(
    browser, live_server, demo, artifacts_dir
):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    base = live_server.url

    # The parent: partner sessions are in the same list, marked with the branch.
    _log_in(page, base, "parent@riverside.example")
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))
    page.goto(f"{base}/portal/riverside/makeups/")
    results = page.locator("#makeup-results")
    partner_slots = results.locator(".makeup-slot:not(.is-full)", has_text="Lakeside Swim Club")
    for _ in range(3):
        if partner_slots.count():
            break
        results.get_by_role("link", name="Later sessions").click()
    slot = partner_slots.first
    expect(slot).to_contain_text("Partner branch")
    expect(slot).to_contain_text("3 Lake Parade")
    session_pk = int(slot.get_attribute("id").split("-")[1])
    page.screenshot(path=str(artifacts_dir / "franchise-search.png"), full_page=True)
    slot.get_by_role("link", name="Book", exact=True).click()
    expect(page.get_by_text("our partner branch")).to_be_visible()
    page.get_by_role("button", name="Book using a make-up credit").click()
    expect(page.get_by_role("heading", name="Make-up booked")).to_be_visible()
    expect(page.get_by_text("At our partner branch")).to_be_visible()
    with scopes_disabled():
        booking = MakeupBooking.objects.select_related("student", "session").get(
            session_id=session_pk,
            student__family__guardians__user__email="parent@riverside.example",
        )
    page.get_by_role("link", name="Back to home").click()
    expect(page.locator(f"#makeup-{booking.pk}")).to_contain_text("Lakeside Swim Club")
    _log_out(page)

    # Lakeside staff: the guest in the attendance view, FRN-7 data only.
    _log_in(page, base, "staff@lakeside.example")
    page.goto(f"{base}/manage/sessions/{session_pk}/")
    guest = page.locator(f"#makeup-row-{booking.pk}")
    expect(guest).to_contain_text(booking.student.first_name)
    expect(guest).to_contain_text("Guest from Riverside Swim School")
    expect(guest).to_contain_text("parent@riverside.example")
    expect(guest).not_to_contain_text("Parker family")
    page.screenshot(path=str(artifacts_dir / "franchise-host-attendance.png"), full_page=True)
    _log_out(page)

    # The partner report counts it on both sides (with the demo's earlier guest).
    year = booking.session.local_date.year
    sent = _sent_to_lakeside(year)
    assert sent >= 1
    _log_in(page, base, "owner@lakeside.example")
    page.goto(f"{base}/manage/franchise/report/?year={year}")
    total = page.locator("tbody tr.table-light", has_text="Riverside Swim School")
    expect(total.locator("th").nth(1)).to_have_text(str(sent))  # guests hosted
    _log_out(page)
    _log_in(page, base, "owner@riverside.example")
    page.goto(f"{base}/manage/franchise/report/?year={year}")
    total = page.locator("tbody tr.table-light", has_text="Lakeside Swim Club")
    expect(total.locator("th").nth(3)).to_have_text(str(sent))  # students sent
    page.screenshot(path=str(artifacts_dir / "franchise-report.png"), full_page=True)
