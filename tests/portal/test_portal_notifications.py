"""The parent's "Messages from us" page (NTF-1, NTF-2), the owners' Twilio settings and the
staff's family page listing the last messages (NTF-4)."""

from datetime import timedelta

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from makeup.models import Notification, ParentContact, SmsProvider
from makeup.notifications import secrets
from makeup.notifications.kinds import Kind
from makeup.notifications.services import notify_family
from tests import factories as f
from tests.fake_twilio import TOKEN, connect

from .conftest import NOW

PAGE = "/portal/alpha/notifications/"


@pytest.fixture
def twilio(settings, world):
    fake = connect(settings, world.company_a, world.owner_a, NOW)
    yield fake
    fake.stop()


@pytest.mark.django_db
def test_ntf_2_a_parent_chooses_channels_per_group(world, login, frozen, page_queries):
    client = login(world.parent_a)
    queries, response = page_queries(client, PAGE)
    assert queries <= 12 and b"Offers and bookings" in response.content
    assert b'name="reminders-sms"' not in response.content  # the school sends no texts
    form = {"action": "choices", "bookings-email": "on", "credits-email": "on", "news-email": "on"}
    assert client.post(PAGE, form).status_code == 302
    with scopes_disabled():
        contact = ParentContact.objects.get(email="parent.a@example.com")
    assert contact.preferences["reminders"] == {"email": False, "sms": False}
    assert contact.preferences["bookings"] == {"email": True, "sms": False}


@pytest.mark.django_db
def test_ntf_1_a_parent_confirms_a_mobile_on_the_portal(
    world, login, twilio, frozen, django_capture_on_commit_callbacks
):
    client = login(world.parent_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PAGE, {"action": "mobile", "mobile": "+61 412 345 678"})
    assert response.status_code == 302 and len(twilio.sent) == 1
    code = twilio.sent[0]["Body"].rsplit(" ", 1)[-1]
    page = client.get(PAGE).content.decode()
    assert "+61412345678" in page and 'name="reminders-sms"' in page and "disabled" in page
    client.post(PAGE, {"action": "code", "code": code})
    page = client.get(PAGE).content.decode()
    assert "Confirmed" in page and "Texts can be chosen" not in page


@pytest.mark.django_db
def test_ntf_2_the_page_is_only_for_the_companys_parents(world, login):
    assert login(world.staff_a).get(PAGE).status_code == 404
    assert login(world.parent_a).get("/portal/beta/notifications/").status_code == 404


@pytest.mark.django_db
def test_ntf_1_an_owner_connects_twilio_and_the_token_is_stored_encrypted(world, login, frozen):
    url = "/manage/settings/text-messages/"
    assert login(world.staff_a).get(url).status_code in {403, 404}
    client = login(world.owner_a)
    form = {"account_sid": "AC" + "2" * 32, "auth_token": TOKEN, "from_number": "+61400000001"}
    assert client.post(url, form).status_code == 302
    with scopes_disabled():
        provider = SmsProvider.objects.get(company=world.company_a)
    assert TOKEN not in provider.auth_token_encrypted
    assert secrets.decrypt(provider.auth_token_encrypted) == TOKEN
    page = client.get(url).content.decode()
    assert TOKEN not in page and "/notifications/twilio/alpha/inbound/" in page
    client.post(url, {**form, "account_sid": "nonsense"})
    with scopes_disabled():
        assert SmsProvider.objects.get(company=world.company_a).account_sid == "AC" + "2" * 32


@pytest.mark.django_db
def test_ntf_4_the_family_page_shows_the_last_messages_and_why_one_failed(
    world, login, frozen, django_capture_on_commit_callbacks, page_queries
):
    with scopes_disabled():
        family = world.parent_a.guardianships.get().family
    with scope(company=world.company_a), django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            notify_family(
                kind=Kind.CLOSURE_NOTICE,
                company=world.company_a,
                family_id=family.pk,
                about=f"closure:{n}",
                context={"lessons": [], "host": world.company_a},
                now=NOW - timedelta(minutes=n),
            )
    assert len(mail.outbox) == 3
    with scopes_disabled():
        Notification.objects.filter(about="closure:0").update(
            state=Notification.State.FAILED, error="Mailbox full"
        )
    other = f.FamilyFactory(company=world.company_b)
    staff = login(world.staff_a)
    queries, response = page_queries(staff, f"/manage/families/{family.pk}/")
    page = response.content.decode()
    assert page.count("Lessons cancelled by the school") >= 3
    assert "Mailbox full" in page and "Sent" in page
    assert staff.get(f"/manage/families/{other.pk}/").status_code == 404
