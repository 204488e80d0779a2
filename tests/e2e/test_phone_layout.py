"""DAY-1 on a phone (390 × 844): staff take a roll call with taps only, each tap updating the
student's card, its credit decision and the session's counts in place; and no page staff or
parents use every day scrolls sideways or cuts a control off at the right edge."""

import re

import pytest
from django.db.models import Count
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from bookings.models import Family, MakeupBooking
from programmes.models import Session
from tests.e2e.pages import log_in, past_session_with_students

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
STAFF = "staff@riverside.example"
PARENT = "parent@riverside.example"

# Every visible control, and whether its box lies inside the viewport's width. Controls in a
# closed <details>, a collapsed menu or a hidden panel have no box and are skipped; the
# skip link is off screen on purpose until focused.
OFF_SCREEN_JS = """() => {
    const width = window.innerWidth;
    const problems = [];
    const scrolled = document.scrollingElement.scrollWidth;
    if (scrolled > width) problems.push(`the page is ${scrolled} px wide`);
    const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
    for (const el of document.querySelectorAll(controls)) {
        if (el.matches('.visually-hidden-focusable:not(:focus)')) continue;
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height) continue;
        if (getComputedStyle(el).visibility === 'hidden') continue;
        if (box.left < -0.5 || box.right > width + 0.5) {
            const name = (el.innerText || el.value || el.name || el.id || '').trim();
            problems.push(`${el.tagName.toLowerCase()} “${name.slice(0, 40)}” spans `
                + `${Math.round(box.left)}–${Math.round(box.right)} px`);
        }
    }
    return problems;
}"""


def _widest_session() -> Session:
    """The Riverside session whose attendance view holds the most: make-up guests if any
    session has them, then the most students."""
    with scopes_disabled():
        with_guest = (
            MakeupBooking.objects.filter(session__company__slug="riverside")
            .order_by("-session__starts_at", "pk")
            .values_list("session_id", flat=True)
            .first()
        )
        if with_guest:
            return Session.objects.get(pk=with_guest)
        return (
            Session.objects.filter(company__slug="riverside")
            .annotate(n=Count("klass__enrolments"))
            .order_by("-n", "-starts_at", "pk")
            .first()
        )


def _staff_pages(base: str) -> list[str]:
    with scopes_disabled():
        family = Family.objects.get(company__slug="riverside", guardians__user__email=PARENT)
    return [
        base + reverse("manage:dashboard"),
        f"{base}/manage/sessions/",
        f"{base}/manage/sessions/?view=day",
        f"{base}/manage/sessions/{_widest_session().pk}/",
        f"{base}/manage/sessions/{past_session_with_students().pk}/",
        f"{base}/manage/families/",
        f"{base}/manage/families/{family.pk}/",
    ]


def _problems(page: Page, url: str, shots) -> list[str]:
    page.goto(url)
    # Open every folded panel too: what it holds must fit when it is opened.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    name = re.sub(r"[^a-z0-9]+", "-", url.split("//", 1)[1].split("/", 1)[1]).strip("-")
    page.screenshot(path=str(shots / f"phone-{name or 'home'}.png"))
    return [f"{url}: {p}" for p in dict.fromkeys(page.evaluate(OFF_SCREEN_JS))]


def test_day_1_pages_fit_a_phone(browser, live_server, demo, artifacts_dir):
    problems: list[str] = []
    staff = browser.new_context(**PHONE)
    page = staff.new_page()
    log_in(page, live_server.url, STAFF)
    for url in _staff_pages(live_server.url):
        problems += _problems(page, url, artifacts_dir)
    staff.close()

    parent = browser.new_context(**PHONE)
    page = parent.new_page()
    log_in(page, live_server.url, PARENT)
    portal = f"{live_server.url}/portal/riverside/"
    problems += _problems(page, portal, artifacts_dir)
    problems += _problems(page, portal + "makeups/", artifacts_dir)
    book = page.locator("#makeup-results").get_by_role("link", name="Book", exact=True).first
    assert book.count(), "the demo parent has a make-up to book"
    problems += _problems(page, live_server.url + book.get_attribute("href"), artifacts_dir)
    parent.close()
    assert not problems, "At 390 px:\n" + "\n".join(problems)


def _counts(page: Page) -> str:
    return " ".join(page.locator("#attendance-counts").inner_text().split())


def test_day_1_roll_call_by_taps_on_a_phone(browser, live_server, demo, artifacts_dir):
    session = past_session_with_students()
    url = f"{live_server.url}/manage/sessions/{session.pk}/"
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, STAFF)
    page.goto(url)
    cards = page.locator("tr.attendance-row")
    total = cards.count()
    assert total >= 2
    assert page.get_by_role("button", name="All present").bounding_box()["height"] >= 44
    page.evaluate("() => { window.notReloaded = true; }")

    # One student is "cancelled by us" (a credit is issued), then corrected to present (the
    # credit is revoked): the card's decision and the counts line follow each tap.
    ids = [cards.nth(i).get_attribute("id") for i in range(total)]
    first_id = page.locator(
        "tr.attendance-row:not(.makeup-row):not(:has(.decision))"
    ).first.get_attribute("id")
    first = page.locator(f"#{first_id}")
    for name in ("Present", "Did not attend", "Cancelled by us"):
        box = first.get_by_role("button", name=name).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= 390, (name, box)
    before = _counts(page)
    first.get_by_role("button", name="Cancelled by us").tap()
    expect(first.get_by_role("button", name="Cancelled by us", pressed=True)).to_be_visible()
    expect(first.locator(".decision")).to_contain_text("Credit issued")
    expect(page.locator("#attendance-counts")).not_to_have_text(before)
    page.screenshot(path=str(artifacts_dir / "phone-roll-call-card.png"))
    first.get_by_role("button", name="Present").tap()
    expect(first.get_by_role("button", name="Present", pressed=True)).to_be_visible()
    expect(first.locator(".decision")).to_contain_text("revoked")

    # Everyone else by one tap each: a second student did not attend, the rest are present.
    others = [row_id for row_id in ids if row_id != first_id]
    for row_id in others:
        card = page.locator(f"#{row_id}")
        name = "Did not attend" if row_id == others[0] else "Present"
        card.get_by_role("button", name=name).tap()
        expect(card.get_by_role("button", name=name, pressed=True)).to_be_visible()
    expect(page.locator("#attendance-counts")).to_contain_text(
        f"{total - 1} present · 0 cancelled on time"
    )
    expect(page.locator("#attendance-counts")).to_contain_text("1 did not attend")
    expect(page.locator("#attendance-counts")).to_contain_text("0 expected")
    assert page.evaluate("() => window.notReloaded === true")  # every tap in place
    shown = _counts(page)
    page.reload()
    assert _counts(page) == shown  # what the taps showed is what a reload shows
    context.close()
