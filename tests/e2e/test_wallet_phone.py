"""The family credit wallet on a phone (390 × 844), one parent's journey through the portal:
give a child's credit to the other child (WAL-1: "Give to a sibling", who can use it, the
confirmation), book a make-up for the sibling with it, then move that make-up to another day
(WAL-2: "Move", where the same credit can go, "Move here"); and accept a place offered from
the watch list (WAL-5). No step scrolls sideways or cuts a control off, and the strict CSP
blocks nothing."""

import re
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import Page, expect

from bookings.models import (
    PLACE_FREEING_STATES,
    Attendance,
    AttendanceState,
    Enrolment,
    MakeupBooking,
)
from bookings.services import attendance_set_state
from credits.models import CreditState, MakeupCredit, SessionWatch
from makeup.models import CompanySettings
from makeup.services import company_settings_update
from makeups.selectors.eligibility import makeup_candidates
from tests.e2e.pages import log_in
from tests.e2e.test_phone_layout import OFF_SCREEN_JS, PARENT, PHONE

pytestmark = pytest.mark.e2e


def _credit_and_sibling() -> tuple[MakeupCredit, Enrolment]:
    """A usable credit of the demo parent's family, its programme set to allow transfers, and
    the other child's enrolment, whose programme is made to accept its credits (WAL-3)."""
    with scopes_disabled():
        credit = (
            MakeupCredit.objects.usable(timezone.now())
            .filter(enrolment__student__family__guardians__user__email=PARENT)
            .select_related("enrolment__student", "enrolment__klass__programme")
            .order_by("expires_at", "pk")
            .first()
        )
        assert credit is not None, "the demo family has a usable credit"
        sibling = (
            Enrolment.objects.filter(student__family=credit.enrolment.student.family)
            .exclude(student=credit.enrolment.student)
            .select_related("student", "klass__programme")
            .order_by("pk")
            .first()
        )
        assert sibling is not None, "the demo family has two children"
        programme = credit.enrolment.klass.programme
        programme.credit_transfer_allowed = True
        programme.save(update_fields=["credit_transfer_allowed"])
        if sibling.klass.programme_id != programme.pk:
            sibling.klass.programme.accepts_credits_from.add(programme)
    return credit, sibling


def _two_days_for(credit: MakeupCredit) -> tuple[int, set[int]]:
    """A session the credit's new holder can book three days or more ahead (well before the
    cut-off), and the sessions on other days the make-up could then move to. Built from the
    real now (browser tests keep the machine's clock)."""
    now = timezone.now()
    with scopes_disabled():
        credit = MakeupCredit.objects.select_related(
            "enrolment__klass__programme", "holder__student"
        ).get(pk=credit.pk)
    with scope(company=credit.company):
        bookable = [
            c.session
            for c in makeup_candidates(credit=credit, now=now)
            if c.bookable and c.session.starts_at > now + timedelta(days=3)
        ]
    for first in bookable:
        others = {s.pk for s in bookable if s.local_date != first.local_date}
        if others:
            return first.pk, others
    raise AssertionError("the sibling can book the credit on two different days")


def _fits(page: Page, where: str) -> None:
    problems = page.evaluate(OFF_SCREEN_JS)
    assert not problems, f"{where} at 390 px:\n" + "\n".join(problems)


def _page_to(page: Page, slot: str, *, link: str = "Later sessions") -> None:
    """Page on through the search (two weeks at a time) until ``slot`` is listed."""
    for _ in range(5):
        if page.locator(slot).count():
            return
        page.get_by_role("link", name=link).click()
    expect(page.locator(slot)).to_be_visible()


def test_wal_1_wal_2_a_parent_gives_a_credit_books_with_it_and_moves_it_on_a_phone(
    browser, live_server, demo, artifacts_dir
):
    credit, sibling = _credit_and_sibling()
    name = sibling.student.first_name
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Move …'s make-up to …?"
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, PARENT)
    home = f"{live_server.url}/portal/riverside/"
    page.goto(home)
    _fits(page, "Home")

    # WAL-1: give the credit to the sibling.
    line = page.locator(f"#credit-{credit.pk}")
    give = line.get_by_role("link", name="Give to a sibling")
    box = give.bounding_box()
    assert box["x"] + box["width"] <= 390, box
    give.tap()
    expect(page.get_by_role("heading", name="Give to a sibling")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "phone-give-to-a-sibling.png"))
    _fits(page, "Give to a sibling")
    page.get_by_label(name, exact=False).check()
    page.get_by_role("button", name="Give the credit").tap()
    expect(page.get_by_text(f"The credit is now {name}'s")).to_be_visible()
    given = page.locator(f"#credit-{credit.pk}")
    expect(given).to_contain_text(name)
    expect(given).to_contain_text(f"Given by {credit.enrolment.student.first_name}")
    _fits(page, "Home after giving")

    # Book a make-up for the sibling with it.
    first, others = _two_days_for(credit)
    given.get_by_role("link", name="Book a make-up").tap()
    expect(page.get_by_role("heading", name="Book a make-up")).to_be_visible()
    expect(page.locator("#id_credit")).to_have_value(str(credit.pk))
    _page_to(page, f"#slot-{first}")
    _fits(page, "The search")
    page.locator(f"#slot-{first}").get_by_role("link", name="Book", exact=True).tap()
    expect(page.get_by_role("heading", name=re.compile(f"Make-up for {name}"))).to_be_visible()
    _fits(page, "The booking page")
    page.get_by_role("button", name="Book using a make-up credit").tap()
    expect(page.get_by_role("heading", name="Make-up booked")).to_be_visible()
    with scopes_disabled():
        booking = MakeupBooking.objects.get(session_id=first, student=sibling.student)
        assert MakeupCredit.objects.get(pk=credit.pk).state == CreditState.USED

    # WAL-2: move it to another day.
    page.goto(home)
    page.locator(f"#makeup-{booking.pk}").get_by_role("link", name="Move", exact=True).tap()
    expect(page.get_by_role("heading", name=re.compile(f"Move {name}'s make-up"))).to_be_visible()
    expect(page.get_by_text("You can move it to another session until")).to_be_visible()
    assert page.locator(f"#slot-{first}").count() == 0
    target = None
    for _ in range(5):  # the first two weeks may hold only the same day: page on
        listed = page.locator(".makeup-slot").evaluate_all("els => els.map(e => e.id)")
        target = next((pk for pk in (int(i.split("-")[1]) for i in listed) if pk in others), None)
        if target is not None:
            break
        page.get_by_role("link", name="Later sessions").click()
    assert target is not None, "a session on another day is offered"
    page.screenshot(path=str(artifacts_dir / "phone-move-makeup.png"), full_page=True)
    _fits(page, "Move")
    page.locator(f"#slot-{target}").get_by_role("button", name="Move here").tap()
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))
    expect(page.locator(".alert-success")).to_contain_text("make-up is moved to")
    with scopes_disabled():
        moved = MakeupBooking.objects.select_related("session__company").get(pk=booking.pk)
        assert MakeupCredit.objects.get(pk=credit.pk).booking_id == moved.pk
    assert moved.session_id == target and moved.state == MakeupBooking.State.BOOKED
    expect(page.locator(f"#makeup-{booking.pk}")).to_contain_text(
        timezone.localtime(moved.session.starts_at, moved.session.company.tzinfo).strftime("%H:%M")
    )
    _fits(page, "Home after moving")
    context.close()
    assert not errors, errors  # strict CSP: no inline script or style was blocked


def _offer_to_the_parker_family() -> SessionWatch:
    """Riverside switches to offering freed places (WAL-5) and a regular of the session the
    Parker family watches cancels: the place is offered to them."""
    now = timezone.now()
    with scopes_disabled():
        watch = (
            SessionWatch.objects.select_related("session__company", "session__klass")
            .filter(student__family__guardians__user__email=PARENT, state=SessionWatch.State.ACTIVE)
            .order_by("pk")
            .first()
        )
        assert watch is not None, "the demo family watches a full session"
        session = watch.session
    with scope(company=session.company):
        company_settings_update(
            company=session.company, now=now, watch_mode=CompanySettings.WatchMode.OFFER
        )
        freed = Attendance.objects.filter(session=session, state__in=PLACE_FREEING_STATES)
        regular = (
            Enrolment.objects.filter(klass=session.klass, start_date__lte=session.local_date)
            .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=session.local_date))
            .exclude(pk__in=freed.values("enrolment_id"))
            .order_by("pk")
            .first()
        )
        attendance_set_state(
            enrolment=regular, session=session, state=AttendanceState.CANCELLED, now=now
        )
    with scopes_disabled():
        watch = SessionWatch.objects.get(pk=watch.pk)
    assert watch.state == SessionWatch.State.OFFERED
    return watch


def test_wal_5_a_parent_accepts_an_offered_place_on_a_phone(
    browser, live_server, demo, artifacts_dir
):
    watch = _offer_to_the_parker_family()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, PARENT)
    page.goto(f"{live_server.url}/portal/riverside/")
    line = page.locator(f"#watch-{watch.pk}")
    expect(line).to_contain_text("A place is offered to you until")
    _fits(page, "Home with an offer")
    line.get_by_role("link", name="Accept the place").tap()
    expect(page.get_by_text("we keep it for you until")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "phone-watch-offer.png"), full_page=True)
    _fits(page, "The offer")
    accept = page.get_by_role("button", name="Accept the place")
    box = accept.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    accept.tap()
    expect(page.get_by_role("heading", name="Make-up booked")).to_be_visible()
    _fits(page, "Booked")
    with scopes_disabled():
        watch = SessionWatch.objects.get(pk=watch.pk)
        assert watch.state == SessionWatch.State.BOOKED
        assert MakeupBooking.objects.get(pk=watch.booking_id).session_id == watch.session_id
    context.close()
    assert not errors, errors
