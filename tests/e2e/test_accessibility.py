"""Accessibility (issue 9): axe-core finds no serious or critical violation on the portal home,
the make-up search, the attendance view and the cancellation policy form; the two forms work
by keyboard alone; an attendance state is never shown by colour only.

axe-core is vendored in tests/e2e/vendor/axe-core/ (from the npm registry) and evaluated in
the page with ``page.evaluate``, which the strict Content-Security-Policy does not block."""

import json
import os
import re
from functools import cache
from pathlib import Path

import pytest
from django.db.models import Count
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from bookings.models import Attendance, AttendanceState
from programmes.models import Programme, Session
from tests.e2e.pages import log_in

pytestmark = pytest.mark.e2e

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
PARENT = "parent@riverside.example"
ADMIN = "admin@riverside.example"
PHONE = {"width": 390, "height": 844}


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page, impacts=FAILING_IMPACTS) -> list[dict]:
    """Runs axe-core on the current page; its violations of the given impacts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in impacts]


def assert_accessible(page: Page, where: str) -> None:
    """Fails listing each serious or critical violation: rule, impact, help, first targets."""
    violations = axe_violations(page)
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} — {targets}{more}")
    if violations:  # the whole report (each node's HTML and why) next to the screenshots
        folder = Path(os.environ.get("ARTIFACTS_DIR", "/tmp/makeup-artifacts"))
        folder.mkdir(parents=True, exist_ok=True)
        name = "axe-" + re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-") + ".json"
        (folder / name).write_text(json.dumps(violations, indent=1, ensure_ascii=False))
    assert not violations, f"axe-core on {where} ({page.url}):\n" + "\n".join(lines)


def _policy_url(base: str) -> str:
    with scopes_disabled():
        programme = Programme.objects.filter(company__slug="riverside").order_by("pk").first()
    return f"{base}/manage/programmes/{programme.pk}/policy/"


def _session_with_most_states() -> Session:
    """A Riverside session with students whose attendance shows the most different states."""
    with scopes_disabled():
        return (
            Session.objects.filter(company__slug="riverside", attendances__isnull=False)
            .annotate(states=Count("attendances__state", distinct=True))
            .order_by("-states", "-starts_at", "pk")
            .first()
        )


def _tab_order(page: Page, form_selector: str, max_presses: int = 200) -> tuple[list, list]:
    """Tabs from the top of the page through the form. Returns the form's controls a keyboard
    user should reach (visible and enabled, one radio per group)
    and those focus actually reached, in order, as ids (else names, else texts)."""
    expected = page.eval_on_selector(
        form_selector,
        """form => {
            const seen = new Set();
            // A radio group is one stop, named by the group (as focus reports it below).
            const key = el => el.type === 'radio' ? el.name
                : el.id || el.name || el.textContent.trim();
            return [...form.querySelectorAll('input, select, textarea, button')]
                .filter(el => el.type !== 'hidden' && !el.disabled
                    && el.getClientRects().length > 0
                    && getComputedStyle(el).visibility !== 'hidden')
                .filter(el => {
                    if (el.type !== 'radio') return true;
                    if (seen.has(el.name)) return false;
                    seen.add(el.name);
                    return true;
                })
                .map(key);
        }""",
    )
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.locator("body").focus()
    reached: list[str] = []
    last = expected[-1]
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """sel => {
                const el = document.activeElement;
                const form = document.querySelector(sel);
                if (!el || !form || !form.contains(el)) return null;
                if (el.type === 'radio') return el.name;
                return el.id || el.name || el.textContent.trim();
            }""",
            form_selector,
        )
        if info is not None and (not reached or reached[-1] != info):
            reached.append(info)
        if info == last:
            break
    return expected, reached


# --- axe-core ---------------------------------------------------------------------------


def test_a11y_portal_home_and_makeup_search(page, live_server, demo, artifacts_dir):
    log_in(page, live_server.url, PARENT)
    page.goto(f"{live_server.url}/portal/riverside/")
    expect(page.get_by_role("main")).to_be_visible()
    assert_accessible(page, "the portal home")

    page.goto(f"{live_server.url}/portal/riverside/makeups/")
    expect(page.get_by_role("heading", name="Book a make-up")).to_be_visible()
    assert_accessible(page, "the make-up search")
    # After an in-place (htmx) update of the results too.
    page.locator("#id_time_of_day").select_option(index=1)
    expect(page).to_have_url(re.compile(r"time_of_day="))
    page.wait_for_load_state("networkidle")
    assert_accessible(page, "the make-up search after filtering")


def test_a11y_portal_on_a_phone(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, PARENT)
    for path, where in (("", "the portal home"), ("makeups/", "the make-up search")):
        page.goto(f"{live_server.url}/portal/riverside/{path}")
        assert_accessible(page, f"{where} on a phone")
    context.close()


def test_a11y_attendance_view(page, live_server, demo):
    session = _session_with_most_states()
    log_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/manage/sessions/{session.pk}/")
    expect(page.locator("tr.attendance-row").first).to_be_visible()
    assert_accessible(page, "the attendance view")
    # With the "Client cancelled…" panel of a row open.
    page.locator("tr.attendance-row details summary").first.click()
    assert_accessible(page, "the attendance view with a panel open")


def test_a11y_policy_form(page, live_server, demo):
    log_in(page, live_server.url, ADMIN)
    page.goto(_policy_url(live_server.url))
    expect(page.locator("#policy-form")).to_be_visible()
    assert_accessible(page, "the policy form")
    # The weekly cut-off table shows in the other mode.
    page.locator("#id_mode").select_option("weekly_cutoff")
    expect(page.locator("#weekly-table")).to_be_visible()
    assert_accessible(page, "the policy form with the weekly cut-off table")
    # The 12-month simulation (a preview) adds a table.
    page.get_by_role("button", name="Preview on the last 12 months").click()
    expect(page.locator("#sim-heading")).to_be_visible()
    assert_accessible(page, "the policy form's preview")


# --- keyboard only ----------------------------------------------------------------------


def test_keyboard_makeup_search(page, live_server, demo):
    log_in(page, live_server.url, PARENT)
    page.goto(f"{live_server.url}/portal/riverside/makeups/")
    expected, reached = _tab_order(page, "#makeup-filters")
    assert {"id_student", "id_date_from", "id_date_to", "id_weekday", "id_time_of_day"} <= set(
        expected
    ), expected
    assert expected[-1] == "Show sessions", expected
    assert reached == expected, f"Tab reached {reached}, the form has {expected}"

    # A filter chosen with the arrow keys (a closed select takes them): the list follows.
    page.locator("#id_weekday").focus()
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#id_weekday").input_value()
    assert chosen
    expect(page).to_have_url(re.compile(rf"weekday={chosen}"))
    # Enter, then Space, on the focused button runs the search (htmx, in place).
    for key in ("Enter", "Space"):
        page.get_by_role("button", name="Show sessions").focus()
        with page.expect_response(lambda r: "/makeups/?" in r.url and r.ok):
            page.keyboard.press(key)
        expect(page).to_have_url(re.compile(rf"weekday={chosen}"))
        expect(page.locator("#makeup-results")).to_be_visible()


def test_keyboard_policy_form(page, live_server, demo):
    log_in(page, live_server.url, ADMIN)
    page.goto(_policy_url(live_server.url))
    for mode in ("hours_before", "weekly_cutoff"):
        page.locator("#id_mode").select_option(mode)
        expected, reached = _tab_order(page, "#policy-form")
        assert {"id_mode", "id_hours_before", "id_issue_late", "preview"} <= set(expected)
        assert ("id_cutoff-0-cutoff_weekday" in expected) == (mode == "weekly_cutoff")
        assert expected[-1] == "Save policy", expected
        assert reached == expected, f"({mode}) Tab reached {reached}, the form has {expected}"
    page.locator("#id_mode").select_option("hours_before")

    # Typed and saved without a mouse: Space on "Preview", then Enter on "Save policy".
    page.locator("#id_hours_before").focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("36")
    page.get_by_role("button", name="Preview on the last 12 months").focus()
    page.keyboard.press("Space")
    expect(page.locator("#sim-heading")).to_be_visible()
    expect(page.locator("#id_hours_before")).to_have_value("36")
    page.get_by_role("button", name="Save policy").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto(_policy_url(live_server.url))
    expect(page.locator("#id_hours_before")).to_have_value("36")


# --- colour is never the only signal ---------------------------------------------------


def test_attendance_states_are_labelled_in_text_not_only_colour(page, live_server, demo):
    session = _session_with_most_states()
    with scopes_disabled():
        states = dict(
            Attendance.objects.filter(session=session).values_list("enrolment_id", "state")
        )
    assert len(set(states.values())) >= 3, states
    log_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/manage/sessions/{session.pk}/")
    rows = page.locator("tr.attendance-row:not(.makeup-row)")
    expect(rows.first).to_be_visible()
    pressed_button = {
        AttendanceState.PRESENT: "Present",
        AttendanceState.NO_SHOW: "Did not attend",
        AttendanceState.STAFF_CANCELLED: "Cancelled by us",
    }
    for row in rows.all():
        enrolment_pk = int(row.get_attribute("id").removeprefix("row-"))
        state = AttendanceState(states.get(enrolment_pk, AttendanceState.EXPECTED))
        # The badge names the state in visible text (and a symbol), besides its colour.
        badge = row.locator(".state-badge")
        expect(badge.get_by_text(str(state.label))).to_be_visible()
        assert re.match(r"^\W+ ", badge.inner_text()), badge.inner_text()
        # The button of the current state says it is pressed, not only by its fill colour.
        if state in pressed_button:
            expect(
                row.get_by_role("button", name=pressed_button[state], pressed=True)
            ).to_be_visible()
    # Make-up guests' badges too.
    labels = {str(label) for label in AttendanceState.labels}
    for text in page.locator("tr.makeup-row .state-badge").all_inner_texts():
        assert re.sub(r"^\W+", "", text.strip()) in labels, text


def test_a11y_daily_pages(browser, live_server, demo):
    """axe-core stays clean on the pages of daily use (DAY-2, DAY-3, DAY-5): the back office's
    Today page, the search results, a class page with its student search, on a desktop and
    on a phone, and the parent's account statement."""
    with scopes_disabled():
        klass = Programme.objects.filter(company__slug="riverside").first().classes.first()
    pages = (
        ("/manage/", "the Today page"),
        ("/manage/search/?q=parker", "the search results"),
        (f"/manage/classes/{klass.pk}/?q=a", "a class page with the student search"),
    )
    for viewport, mobile in (({"width": 1280, "height": 900}, False), (PHONE, True)):
        context = browser.new_context(viewport=viewport, is_mobile=mobile)
        page = context.new_page()
        log_in(page, live_server.url, ADMIN)
        for path, where in pages:
            page.goto(f"{live_server.url}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert_accessible(page, f"{where} ({viewport['width']} px)")
        context.close()
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, PARENT)
    page.goto(f"{live_server.url}/portal/riverside/statement/")
    assert_accessible(page, "the account statement on a phone")
    context.close()
