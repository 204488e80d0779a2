"""CLO-3 in the browser, on a phone (390 × 844): the demo's admin adds a closure over a day
with a lesson of the demo parent's child, lands on the closure's page and reads what applying
it would do, confirms and applies it, and sees the run done; then the parent sees on the
portal home the lesson cancelled by the school and the make-up credit it brought, with its
expiry — and no page either of them uses scrolls sideways. Dates are built from the real
now (browser tests keep the machine's clock); tasks run inline (tests/conftest.py), so the
run is over when the page comes back."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from bookings.models import Enrolment
from credits.models import CreditState, MakeupCredit
from programmes.models import Closure, Session
from tests.e2e.pages import log_in
from tests.e2e.test_phone_layout import OFF_SCREEN_JS, PARENT, PHONE

pytestmark = pytest.mark.e2e

ADMIN = "admin@riverside.example"
NAME = "Storm repairs"


def _fits(page: Page, shots, name: str) -> list[str]:
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.screenshot(path=str(shots / f"phone-closure-{name}.png"), full_page=True)
    return [f"{name}: {p}" for p in dict.fromkeys(page.evaluate(OFF_SCREEN_JS))]


def _childs_next_lesson() -> tuple[Enrolment, Session]:
    """A lesson of the demo parent's child at least two days ahead (within the home's four
    weeks), on a day no closure shuts yet, in a class that takes make-ups."""
    now = timezone.now()
    with scopes_disabled():
        enrolments = list(
            Enrolment.objects.filter(
                student__family__guardians__user__email=PARENT,
                withdrawn_from__isnull=True,
                klass__allow_makeups=True,
            ).select_related("student", "klass__programme")
        )
        closed = {
            day
            for first, last in Closure.objects.filter(
                company__slug="riverside", removed_at__isnull=True
            ).values_list("first_day", "last_day")
            for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
        }
        for session in Session.objects.filter(
            klass_id__in={e.klass_id for e in enrolments},
            starts_at__gt=now + timedelta(days=2),
            starts_at__lt=now + timedelta(days=21),
            cancelled_at__isnull=True,
        ).order_by("starts_at", "pk"):
            if session.local_date not in closed:
                enrolment = next(e for e in enrolments if e.klass_id == session.klass_id)
                return enrolment, session
    raise AssertionError("the demo parent's child has a lesson in the coming weeks")


def test_clo_3_an_admin_applies_a_closure_and_the_parent_sees_the_credit(
    browser, live_server, demo, artifacts_dir
):
    enrolment, lesson = _childs_next_lesson()
    programme = enrolment.klass.programme
    problems: list[str] = []

    # The admin adds a whole-day closure of the child's programme over the lesson's day.
    admin = browser.new_context(**PHONE)
    page = admin.new_page()
    log_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/manage/settings/closures/")
    page.get_by_role("link", name="Add a closure").click()
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("First day").fill(lesson.local_date.isoformat())
    page.get_by_label("Last day").fill(lesson.local_date.isoformat())
    page.locator(f"input[name=programmes][value='{programme.pk}']").check()
    page.get_by_role("button", name="Add closure").click()

    # Straight to its page: what applying it would do, before anything changes.
    expect(page).to_have_url(re.compile(r"/manage/settings/closures/\d+/$"))
    expect(page.get_by_text(f"Closure {NAME} added.")).to_be_visible()
    expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()
    effect = page.locator("section[aria-labelledby=effect-heading]")
    expect(effect).to_contain_text(re.compile(r"\d+ lessons?\b.* cancelled"))
    expect(effect.locator(".closure-effects")).to_contain_text(programme.name)
    expect(effect).to_contain_text(re.compile(r"In all: [1-9]\d* make-up credits?, worth"))
    expect(page.get_by_role("link", name="All closures")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    problems += _fits(page, artifacts_dir, "preview")

    # Confirmed and applied: the run is done and says what it did.
    page.get_by_label(re.compile(r"^Yes: cancel")).check()
    page.get_by_role("button", name="Apply: cancel these lessons").click()
    progress = page.locator("#closure-progress")
    expect(progress.get_by_text(re.compile(r"^Done \("))).to_be_visible()
    expect(progress).to_contain_text(re.compile(r"[1-9]\d* make-up credits? issued"))
    expect(page.get_by_role("button", name="Apply: cancel these lessons")).to_have_count(0)
    problems += _fits(page, artifacts_dir, "applied")
    admin.close()

    with scopes_disabled():
        lesson.refresh_from_db()
        closure = Closure.objects.get(company__slug="riverside", name=NAME)
        credit = MakeupCredit.objects.get(
            attendance__session=lesson,
            enrolment=enrolment,
            state=CreditState.AVAILABLE,
        )
    assert lesson.closure_id == closure.pk and closure.applied_at is not None
    assert credit.expires_at is not None

    # The parent, on a phone: the lesson cancelled by the school and the credit it brought.
    parent = browser.new_context(**PHONE)
    page = parent.new_page()
    log_in(page, live_server.url, PARENT)
    page.goto(f"{live_server.url}/portal/riverside/")
    row = page.locator(f"#lesson-{enrolment.pk}-{lesson.pk}")
    expect(row).to_contain_text("Cancelled by the school")
    expect(row).to_contain_text(f"School closed: {NAME}")
    expect(row.get_by_role("button", name="Can't come")).to_have_count(0)
    line = page.locator(f"#credit-{credit.pk}")
    expect(line).to_contain_text(enrolment.student.first_name)
    expect(line).to_contain_text(re.compile(r"Use by .*\d{4}"))
    expect(line.get_by_role("link", name="Book a make-up")).to_be_visible()
    problems += _fits(page, artifacts_dir, "parent-home")
    parent.close()
    assert not problems, "\n".join(problems)
