"""The parent journey in Czech, on a phone: the demo parent logs in, picks Čeština in the
footer (kept with the login, so e-mails follow), cancels a lesson on time, sees the credit,
books a make-up with it and finds it on the home page — every step in Czech."""

import re

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from bookings.models import MakeupBooking
from credits.models import CreditState, MakeupCredit
from makeup.models import User

from .test_parent_journey import PARENT, _lesson_two_days_ahead

pytestmark = pytest.mark.e2e


def test_the_parent_journey_in_czech(browser, live_server, demo, artifacts_dir):
    enrolment, lesson = _lesson_two_days_ahead()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(PARENT)
    page.locator("input[name=password]").fill("makeup-demo")
    page.locator("form:not(.language-chooser) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/portal/riverside/$"))

    # Čeština in the footer: the page comes back in Czech and the login keeps the choice.
    page.locator("#language-choice").select_option("cs")
    page.locator(".language-chooser button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "cs")
    assert User.objects.get(email=PARENT).language == "cs"

    row = page.locator(f"#lesson-{enrolment.pk}-{lesson.pk}")
    expect(row).to_contain_text("Včas, pokud zrušíte do")
    row.get_by_role("button", name="Nemůžeme přijít").click()
    expect(page.locator(".alert-success")).to_contain_text("Získáte kredit na náhradu platný do")
    with scopes_disabled():
        credit = MakeupCredit.objects.get(
            attendance__enrolment=enrolment, attendance__session=lesson
        )
    credit_row = page.locator(f"#credit-{credit.pk}")
    credit_row.get_by_role("link", name="Rezervovat náhradní lekci").click()
    expect(page.get_by_role("heading", name="Rezervovat náhradní lekci")).to_be_visible()
    results = page.locator("#makeup-results")
    for _ in range(3):
        if results.get_by_role("link", name="Rezervovat", exact=True).count():
            break
        results.get_by_role("link", name="Pozdější termíny →").click()
    slot = results.locator(".makeup-slot:not(.is-full)").first
    session_pk = int(slot.get_attribute("id").split("-")[1])
    slot.get_by_role("link", name="Rezervovat", exact=True).click()
    mail.outbox.clear()
    page.get_by_role("button", name="Rezervovat s kreditem na náhradu").click()
    expect(page.get_by_role("heading", name="Náhradní lekce zarezervována")).to_be_visible()
    with scopes_disabled():
        booking = MakeupBooking.objects.get(session_id=session_pk, student=enrolment.student)
        assert MakeupCredit.objects.get(pk=credit.pk).state == CreditState.USED
    # The confirmation e-mail is in Czech too (the parent's language).
    confirmations = [m for m in mail.outbox if m.to == [PARENT]]
    assert confirmations, "no confirmation e-mail"
    assert "náhradní" in (confirmations[-1].subject + confirmations[-1].body).lower()

    page.get_by_role("link", name="Zpět na úvod").click()
    makeup = page.locator(f"#makeup-{booking.pk}")
    expect(makeup.get_by_role("button", name="Zrušit náhradní lekci")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "parent-journey-czech.png"), full_page=True)
    context.close()
    assert not errors, errors
