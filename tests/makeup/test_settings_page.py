"""Company settings: the fields later rules read, with defaults and validation."""

import pytest
from django_scopes import scope

from makeup.models import CompanySettings

pytestmark = pytest.mark.django_db


def _post_data(**overrides):
    data = {
        "company-name": "Alpha Swim",
        "company-timezone": "Australia/Sydney",
        "company-currency": "AUD",
        "company-language": "en",
        "company-address": "1 Pool St",
        "company-contact_email": "hello@alpha.example",
        "settings-makeup_extra_capacity": "2",
        "settings-makeup_lead_days": "4",
        "settings-balance_gate_enabled": "on",
        "settings-balance_gate_days": "30",
        "settings-expiry_reminder_days": "7",
    }
    data.update(overrides)
    return data


def test_settings_defaults_match_the_rules(world):
    s = world.company_a.settings
    assert (s.makeup_extra_capacity, s.makeup_lead_days, s.expiry_reminder_days) == (0, 4, 7)
    assert not s.balance_gate_enabled and s.balance_gate_days is None
    assert not s.portal_payments_enabled


def test_settings_page_saves_company_and_makeup_settings(world, login):
    client = login(world.admin_a)
    response = client.post("/manage/settings/", _post_data())
    assert response.status_code == 302
    with scope(company=world.company_a):
        s = CompanySettings.objects.get(company=world.company_a)
    assert s.makeup_extra_capacity == 2 and s.balance_gate_days == 30 and s.balance_gate_enabled
    world.company_a.refresh_from_db()
    assert world.company_a.address == "1 Pool St"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("settings-makeup_extra_capacity", "-1"),
        ("settings-makeup_lead_days", "abc"),
        ("settings-balance_gate_days", "0"),
        ("settings-expiry_reminder_days", "0"),
        ("company-timezone", "Mars/Olympus"),
        ("company-name", ""),
    ],
)
def test_settings_page_rejects_bad_input_and_saves_nothing(world, login, field, value):
    client = login(world.admin_a)
    response = client.post("/manage/settings/", _post_data(**{field: value}))
    assert response.status_code == 200
    assert b"is-invalid" in response.content
    assert "Nothing was saved" in response.content.decode()
    world.company_a.refresh_from_db()
    assert world.company_a.address == ""
    with scope(company=world.company_a):
        assert CompanySettings.objects.get(company=world.company_a).makeup_extra_capacity == 0


def test_settings_page_shows_help_text_for_each_setting(world, login):
    content = login(world.owner_a).get("/manage/settings/").content.decode()
    assert "4-day rule" in content
    assert "add its own number to this one, or replace it" in content
    assert "either alone does nothing" in content


@pytest.mark.parametrize(
    ("enabled", "days", "active"),
    [(False, None, False), (True, None, False), (False, 30, False), (True, 30, True)],
)
def test_bal_2_gate_is_active_only_with_switch_and_days(world, enabled, days, active):
    s = world.company_a.settings
    s.balance_gate_enabled, s.balance_gate_days = enabled, days
    assert s.balance_gate_active is active


def test_wal_5_the_settings_page_chooses_offers_and_their_hours(world, login):
    client = login(world.admin_a)
    page = client.get("/manage/settings/").content.decode()
    assert "Freed places for watchers" in page or "freed places for watchers" in page.lower()
    assert "Hours between 21:00 and 07:00 are not counted" in page
    response = client.post(
        "/manage/settings/",
        _post_data(**{"settings-watch_mode": "offer", "settings-watch_offer_hours": "24"}),
    )
    assert response.status_code == 302
    with scope(company=world.company_a):
        s = CompanySettings.objects.get(company=world.company_a)
    assert (s.watch_mode, s.watch_offer_hours) == ("offer", 24)
    # Out of range: refused, nothing saved.
    refused = client.post("/manage/settings/", _post_data(**{"settings-watch_offer_hours": "73"}))
    assert refused.status_code == 200
    # A form posted without the two fields (an older page) keeps them as saved.
    assert client.post("/manage/settings/", _post_data()).status_code == 302
    with scope(company=world.company_a):
        s = CompanySettings.objects.get(company=world.company_a)
    assert (s.watch_mode, s.watch_offer_hours) == ("offer", 24)
