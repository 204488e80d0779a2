"""WAL-1 on a phone (390 × 844): the demo parent gives a child's credit to the other child from
the portal — the home page's "Give to a sibling", the page listing who can use it, the
confirmation — and no step scrolls sideways or cuts a control off."""

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from bookings.models import Enrolment
from credits.models import MakeupCredit
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


def test_wal_1_a_parent_gives_a_credit_to_a_sibling_on_a_phone(
    browser, live_server, demo, artifacts_dir
):
    credit, sibling = _credit_and_sibling()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, PARENT)
    home = f"{live_server.url}/portal/riverside/"
    page.goto(home)
    assert page.evaluate(OFF_SCREEN_JS) == []
    line = page.locator(f"#credit-{credit.pk}")
    give = line.get_by_role("link", name="Give to a sibling")
    box = give.bounding_box()
    assert box["x"] + box["width"] <= 390, box
    give.tap()
    expect(page.get_by_role("heading", name="Give to a sibling")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "phone-give-to-a-sibling.png"))
    assert page.evaluate(OFF_SCREEN_JS) == []
    page.get_by_label(sibling.student.first_name, exact=False).check()
    page.get_by_role("button", name="Give the credit").tap()
    expect(page.get_by_text(f"The credit is now {sibling.student.first_name}'s")).to_be_visible()
    given = page.locator(f"#credit-{credit.pk}")
    expect(given).to_contain_text(sibling.student.first_name)
    expect(given).to_contain_text(f"Given by {credit.enrolment.student.first_name}")
    assert page.evaluate(OFF_SCREEN_JS) == []
    context.close()
