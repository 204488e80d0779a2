"""The parent journey in a browser, on a phone: the demo parent cancels an upcoming lesson on
time ("Can't come"), sees the credit it earned at once, books a make-up with it (the search
updating in place with htmx) and finds the make-up on the home page."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from bookings.models import Attendance, Enrolment, MakeupBooking
from credits.models import CreditState, MakeupCredit
from programmes.models import Class, Session, age_in_months

pytestmark = pytest.mark.e2e

PARENT = "parent@riverside.example"


def _takes_makeups(enrolment) -> bool:
    """Another class of the programme takes make-ups at the child's age (MKP-2…MKP-4)."""
    age = age_in_months(enrolment.student.date_of_birth, timezone.localdate())
    return (
        Class.objects.filter(
            programme_id=enrolment.klass.programme_id,
            allow_makeups=True,
            price_per_session__isnull=False,
            min_age_months__lte=age,
            max_age_months__gte=age,
        )
        .exclude(pk=enrolment.klass_id)
        .exists()
    )


def _lesson_two_days_ahead():
    """The demo family's first expected lesson at least two days ahead (on time under the
    demo policy: 24 hours before), in a programme where the child can take a make-up."""
    with scopes_disabled():
        enrolments = [
            e
            for e in Enrolment.objects.filter(
                student__family__guardians__user__email=PARENT
            ).select_related("student", "klass")
            if _takes_makeups(e)
        ]
        sessions = Session.objects.filter(
            klass_id__in=[e.klass_id for e in enrolments],
            starts_at__gte=timezone.now() + timedelta(days=2),
            cancelled_at__isnull=True,
        ).order_by("starts_at", "pk")
        for session in sessions:
            for enrolment in enrolments:
                if enrolment.klass_id == session.klass_id and enrolment.is_active_on(
                    session.local_date
                ):
                    assert not Attendance.objects.filter(
                        enrolment=enrolment, session=session
                    ).exists()
                    return enrolment, session
    raise AssertionError("the demo family has no lesson two days ahead")


def test_parent_cancels_a_lesson_and_books_a_make_up_with_its_credit_on_a_phone(
    browser, live_server, demo, artifacts_dir
):
    enrolment, lesson = _lesson_two_days_ahead()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel the lesson on …?"
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(PARENT)
    page.get_by_label("Password").fill("makeup-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))

    # "Can't come" on a lesson two days ahead: on time, a credit at once.
    row = page.locator(f"#lesson-{enrolment.pk}-{lesson.pk}")
    expect(row).to_contain_text("On time if cancelled by")
    row.get_by_role("button", name="Can't come").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "You'll get a make-up credit valid until"
    )
    expect(page.locator(f"#lesson-{enrolment.pk}-{lesson.pk}")).to_contain_text(
        "Cancelled (on time)"
    )
    with scopes_disabled():
        credit = MakeupCredit.objects.get(
            attendance__enrolment=enrolment, attendance__session=lesson
        )
    credit_row = page.locator(f"#credit-{credit.pk}")
    expect(credit_row).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "parent-cant-come-phone.png"))

    # Book a make-up with that credit.
    credit_row.get_by_role("link", name="Book a make-up").click()
    expect(page.get_by_role("heading", name="Book a make-up")).to_be_visible()
    expect(page.locator("#id_credit")).to_have_value(str(credit.pk))
    results = page.locator("#makeup-results")
    for _ in range(3):  # the first two weeks may be full: page on
        if results.get_by_role("link", name="Book", exact=True).count():
            break
        results.get_by_role("link", name="Later sessions").click()
    first = results.locator(".makeup-slot:not(.is-full)").first
    slot_id = first.get_attribute("id")
    with scopes_disabled():
        session = Session.objects.select_related("company").get(pk=int(slot_id.split("-")[1]))
    weekday = timezone.localtime(session.starts_at, session.company.tzinfo).weekday()
    # The filters update the list in place (htmx), and the address follows.
    page.locator("#id_weekday").select_option(str(weekday))
    expect(page).to_have_url(re.compile(rf"weekday={weekday}"))
    expect(page.locator(f"#{slot_id}")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "parent-makeup-search-phone.png"), full_page=True)
    page.locator(f"#{slot_id}").get_by_role("link", name="Book", exact=True).click()

    expect(page.get_by_role("heading", name=re.compile("Make-up for"))).to_be_visible()
    page.get_by_label("Note for the school (optional)").fill("Make-up for a missed lesson")
    page.get_by_role("button", name="Book using a make-up credit").click()
    expect(page.get_by_role("heading", name="Make-up booked")).to_be_visible()
    expect(
        page.get_by_text("We've e-mailed you a confirmation with a calendar invitation")
    ).to_be_visible()
    with scopes_disabled():
        booking = MakeupBooking.objects.get(session=session, student=enrolment.student)
        assert MakeupCredit.objects.get(pk=credit.pk).state == CreditState.USED
    assert booking.note == "Make-up for a missed lesson" and booking.source == "portal"
    assert any(a[0] == "make-up.ics" for m in mail.outbox for a in m.attachments), (
        "the confirmation e-mail carries the calendar invitation"
    )

    # Back home: the make-up is among the upcoming lessons.
    page.get_by_role("link", name="Back to home").click()
    makeup = page.locator(f"#makeup-{booking.pk}")
    expect(makeup).to_contain_text("Make-up")
    expect(makeup.get_by_role("button", name="Cancel make-up")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "parent-journey-phone.png"), full_page=True)
    context.close()
    assert not errors, errors  # strict CSP: no inline script or style was blocked
