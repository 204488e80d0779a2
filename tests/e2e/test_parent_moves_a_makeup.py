"""WAL-2 in a browser, on a phone (390 px): the demo parent has a make-up booked, taps "Move"
on it on the home page, sees where the same credit can go (nothing wider than the screen) and
moves it to another day in one tap; the home page then shows it on the new day."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from bookings.models import Guardian, MakeupBooking
from credits.models import CreditState, MakeupCredit
from makeups.selectors.eligibility import makeup_candidates
from makeups.services import makeup_book
from tests.e2e.pages import log_in
from tests.e2e.test_phone_layout import OFF_SCREEN_JS, PHONE

pytestmark = pytest.mark.e2e

PARENT = "parent@riverside.example"


def _book_with_a_day_to_move_to():
    """Book a make-up for the demo family three days or more ahead (well before the cut-off)
    with a usable credit that has a bookable session on another day too; returns the
    booking and the sessions it could move to. Built from the real now (browser tests keep
    the machine's clock)."""
    now = timezone.now()
    with scopes_disabled():
        guardian = Guardian.objects.select_related("family", "user").get(user__email=PARENT)
        family = guardian.family
    with scope(company=family.company):
        credits = MakeupCredit.objects.usable(now).filter(enrolment__student__family=family)
        for credit in credits.select_related("enrolment__student", "enrolment__klass"):
            bookable = [
                c.session
                for c in makeup_candidates(credit=credit, now=now)
                if c.bookable and c.session.starts_at > now + timedelta(days=3)
            ]
            for first in bookable:
                others = [s for s in bookable if s.local_date != first.local_date]
                if others:
                    booking = makeup_book(
                        credit=credit, session=first, actor=guardian.user, now=now
                    )
                    return booking, others
    raise AssertionError("the demo family has no credit with two days to choose from")


def test_wal_2_a_parent_moves_a_make_up_to_another_day_on_a_phone(
    browser, live_server, demo, artifacts_dir
):
    booking, others = _book_with_a_day_to_move_to()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Move …'s make-up to …?"
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, PARENT)
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))

    row = page.locator(f"#makeup-{booking.pk}")
    row.get_by_role("link", name="Move", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Move .+'s make-up"))).to_be_visible()
    expect(page.get_by_text("You can move it to another session until")).to_be_visible()
    assert page.locator(f"#slot-{booking.session_id}").count() == 0
    ids = {s.pk for s in others}
    slots = page.locator(".makeup-slot")
    target = None
    for _ in range(4):  # the first two weeks may hold only the same day: page on
        for slot_id in slots.evaluate_all("els => els.map(e => e.id)"):
            if int(slot_id.split("-")[1]) in ids:
                target = int(slot_id.split("-")[1])
                break
        if target is not None:
            break
        page.get_by_role("link", name="Later sessions").click()
    assert target is not None, "a session on another day is offered"
    problems = page.evaluate(OFF_SCREEN_JS)
    page.screenshot(path=str(artifacts_dir / "parent-move-makeup-phone.png"), full_page=True)
    assert not problems, "At 390 px:\n" + "\n".join(problems)

    page.locator(f"#slot-{target}").get_by_role("button", name="Move here").click()
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))
    expect(page.locator(".alert-success")).to_contain_text("make-up is moved to")
    with scopes_disabled():
        moved = MakeupBooking.objects.select_related("session").get(pk=booking.pk)
        credit = MakeupCredit.objects.get(booking=moved)
    assert moved.session_id == target and moved.state == MakeupBooking.State.BOOKED
    assert credit.state == CreditState.USED
    expect(page.locator(f"#makeup-{booking.pk}")).to_contain_text(
        timezone.localtime(moved.session.starts_at, moved.session.company.tzinfo).strftime("%H:%M")
    )
    context.close()
    assert not errors, errors  # strict CSP: no inline script or style was blocked
