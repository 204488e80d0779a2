"""Text messages on a phone (390 × 844), NTF-1…NTF-3: the school has connected Twilio (a
local fake of its API); a parent adds a mobile number on "Messages from us", confirms it with
the code texted to it and switches reminders to text. A place then offered to the family
(WAL-5) arrives at the provider once, by text, as well as by e-mail. No step scrolls
sideways."""

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from makeup import outbox
from makeup.models import Company, Notification, OutboxMessage, ParentContact
from makeup.notifications.kinds import Kind
from tests.e2e.pages import log_in
from tests.e2e.test_phone_layout import OFF_SCREEN_JS, PARENT, PHONE, STAFF
from tests.e2e.test_wallet_phone import _offer_to_the_parker_family
from tests.fake_twilio import connect

pytestmark = pytest.mark.e2e

MOBILE = "+61412345678"
OWNER = "owner@riverside.example"


@pytest.fixture
def twilio(settings, live_server, demo):
    company = Company.objects.get(slug="riverside")
    fake = connect(settings, company, None, timezone.now())
    settings.SITE_URL = live_server.url
    yield fake
    fake.stop()


def _fits(page, where: str) -> None:
    problems = page.evaluate(OFF_SCREEN_JS)
    assert not problems, f"{where}: {problems}"


def test_ntf_1_ntf_3_a_parent_confirms_a_mobile_and_gets_an_offer_by_text_once(
    browser, live_server, demo, twilio, artifacts_dir
):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    log_in(page, live_server.url, PARENT)
    page.goto(f"{live_server.url}/portal/riverside/")
    page.get_by_role("link", name="Messages from us: e-mail or text").click()
    expect(page.get_by_role("heading", name="Messages from us", exact=True)).to_be_visible()
    _fits(page, "Messages from us")

    page.get_by_label("Your mobile number, starting with the country code").fill("+61 412 345 678")
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_text(f"We sent a code to {MOBILE}")).to_be_visible()
    assert [m["To"] for m in twilio.sent] == [MOBILE]
    code = twilio.sent[0]["Body"].rsplit(" ", 1)[-1]
    page.get_by_label(f"The code we sent to {MOBILE}").fill(code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your mobile number is confirmed.")).to_be_visible()
    _fits(page, "Mobile confirmed")

    page.locator("#reminders-sms").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.locator("#reminders-sms")).to_be_checked()
    page.screenshot(path=str(artifacts_dir / "phone-notifications.png"), full_page=True)
    _fits(page, "Choices saved")
    with scopes_disabled():
        contact = ParentContact.objects.get(email=PARENT)
    assert contact.mobile == MOBILE and contact.preferences["reminders"]["sms"] is True

    # A place frees in the session the family watches: offered to them, by text and e-mail.
    watch = _offer_to_the_parker_family()
    offers = [m for m in twilio.sent[1:] if m["To"] == MOBILE]
    assert len(offers) == 1, offers
    assert "/portal/riverside/watches/offer/" in offers[0]["Body"]
    with scopes_disabled():
        sent = Notification.objects.filter(kind=Kind.WATCH_OFFER, family_id=watch.student.family_id)
        assert sorted(sent.values_list("channel", flat=True)) == ["email", "sms"]
        keys = list(OutboxMessage.objects.values_list("key", flat=True))
    outbox.publish(keys)  # handed over again (a relay, a redelivery): nothing more is sent
    assert len([m for m in twilio.sent if m["To"] == MOBILE]) == 2  # the code and the offer
    assert blocked == []
    context.close()


def test_ntf_4_staff_read_a_familys_messages_and_owners_the_text_settings_on_a_phone(
    browser, live_server, demo, twilio, artifacts_dir
):
    """The family page's last messages (kind, channel, when, status) and Settings → Text
    messages, at 390 px: nothing scrolls sideways, no control is cut off."""
    watch = _offer_to_the_parker_family()  # an offer: written by e-mail to the parents
    family_id = watch.student.family_id
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, STAFF)
    page.goto(f"{live_server.url}/manage/families/{family_id}/")
    messages = page.locator("#messages-heading")
    expect(messages).to_have_text("Messages sent")
    expect(page.get_by_text("Place offered").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "phone-family-messages.png"), full_page=True)
    _fits(page, "Family page")
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, live_server.url, OWNER)
    page.goto(f"{live_server.url}/manage/settings/text-messages/")
    expect(page.get_by_role("heading", name="Text messages", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "phone-text-settings.png"), full_page=True)
    _fits(page, "Settings → Text messages")
    context.close()
