"""Rate limits on every request that sends an e-mail: per e-mail address and per client
address (the same address login lockout uses), a plain 429 page or form error, in Czech too.
Each test counts in its own namespace of the cache (``tests/conftest.py``)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from makeup import ratelimit
from makeup.models import OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 10, 5, tzinfo=UTC)
PHRASE = "a-long-pass-phrase"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _portal_signup(email):
    return "/portal/alpha/signup/", {
        "full_name": "Sam",
        "email": email,
        "password1": PHRASE,
        "password2": PHRASE,
    }


def _company_signup(email):
    slug = "co-" + email.split("@")[0].replace(".", "-")
    return "/accounts/company-signup/", {
        "name": "Co",
        "slug": slug,
        "timezone": "UTC",
        "currency": "AUD",
        "full_name": "Sam",
        "email": email,
        "password1": PHRASE,
        "password2": PHRASE,
    }


def _password_reset(email):
    return "/accounts/password_reset/", {"email": email}


def _new_link(email):
    return "/accounts/confirm/resend/", {"email": email}


PUBLIC_FORMS = {
    "portal sign-up": _portal_signup,
    "company sign-up": _company_signup,
    "password reset": _password_reset,
    "new confirmation link": _new_link,
}


def _post(client, form, email, ip="203.0.113.5", **extra):
    url, data = form(email)
    return client.post(url, data, REMOTE_ADDR=ip, **extra)


@pytest.mark.parametrize("form", PUBLIC_FORMS.values(), ids=PUBLIC_FORMS.keys())
def test_one_address_gets_a_few_e_mails_an_hour(client, world, settings, frozen, form):
    settings.RATE_LIMIT_PER_ADDRESS = 3
    for n in range(3):  # same address, also as a known one (owner.b has a login)
        assert _post(client, form, "owner.b@example.com", ip=f"198.51.100.{n}").status_code < 400
    rows = OutboxMessage.objects.count()
    refused = _post(client, form, "Owner.B@example.com", ip="198.51.100.9")
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(55 * 60)  # the window ends at 11:00
    content = refused.content.decode()
    assert "too many requests like this one" in content and "wait 55 minutes" in content
    assert OutboxMessage.objects.count() == rows  # nothing more queued
    # Another address is not affected.
    assert _post(client, form, "someone.else@example.com").status_code < 400
    # The next window starts afresh.
    frozen.shift(timedelta(hours=1))
    assert _post(client, form, "owner.b@example.com").status_code < 400


@pytest.mark.parametrize("form", PUBLIC_FORMS.values(), ids=PUBLIC_FORMS.keys())
def test_one_client_gets_a_limited_number_of_e_mail_requests(client, world, settings, frozen, form):
    settings.RATE_LIMIT_PER_IP = 4
    for n in range(4):
        assert _post(client, form, f"person{n}@example.com").status_code < 400
    assert _post(client, form, "person9@example.com").status_code == 429
    assert _post(client, form, "person9@example.com", ip="198.51.100.1").status_code < 400


def test_the_e_mail_forms_share_one_count_per_client(client, world, settings, frozen):
    settings.RATE_LIMIT_PER_IP = 4
    for n, form in enumerate(PUBLIC_FORMS.values()):
        assert _post(client, form, f"person{n}@example.com").status_code < 400
    assert _post(client, _password_reset, "person9@example.com").status_code == 429


def test_behind_a_proxy_the_limit_counts_the_forwarded_client(client, world, settings, frozen):
    settings.PROXY_COUNT, settings.RATE_LIMIT_PER_IP = 1, 2
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(2):
        client.post(
            *_password_reset(f"p{n}@example.com"), HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy
        )
    refused = client.post(
        *_password_reset("p9@example.com"), HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy
    )
    assert refused.status_code == 429
    other = client.post(
        *_password_reset("p9@example.com"), HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy
    )
    assert other.status_code == 302


def test_the_429_page_is_in_czech_for_a_czech_visitor(client, world, settings, frozen):
    settings.RATE_LIMIT_PER_ADDRESS = 1
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cs"
    _post(client, _password_reset, "x@example.com")
    refused = _post(client, _password_reset, "x@example.com")
    assert refused.status_code == 429
    content = refused.content.decode()
    assert "Příliš mnoho" in content and "55 minut" in content


def test_invalid_forms_do_not_count(client, world, settings, frozen):
    settings.RATE_LIMIT_PER_IP = 1
    for _ in range(3):
        client.post("/accounts/password_reset/", {"email": "not an address"})
    assert client.post(*_password_reset("ok@example.com")).status_code == 302


def test_limits_are_off_when_disabled(client, world, settings, frozen):
    settings.RATE_LIMIT_ENABLED, settings.RATE_LIMIT_PER_ADDRESS = False, 1
    for _ in range(3):
        assert client.post(*_password_reset("x@example.com")).status_code == 302


# --- invitations by staff ----------------------------------------------------------------


def test_mkp_9_inviting_one_parent_again_and_again_is_refused_plainly(
    client, world, login, settings, frozen, django_capture_on_commit_callbacks
):
    settings.RATE_LIMIT_PER_ADDRESS = 2
    guardian = f.GuardianFactory(
        family__company=world.company_a, user=None, full_name="Linh", email="linh@example.com"
    )
    login(world.staff_a)
    url = reverse("manage:guardian_invite", args=[guardian.pk])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            assert "Invitation e-mailed" in client.post(url, follow=True).content.decode()
        refused = client.post(url, follow=True).content.decode()
    assert "too many requests like this one" in refused
    assert "Invitation e-mailed" not in refused
    assert len(mail.outbox) == 2


def test_frn_1_a_client_sending_many_partner_invitations_is_refused_in_the_form(
    client, world, login, settings, frozen, django_capture_on_commit_callbacks
):
    settings.RATE_LIMIT_INVITES_PER_IP = 2
    login(world.owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            response = client.post("/manage/franchise/", {"email": f"school{n}@example.com"})
            assert response.status_code == 302
        refused = client.post("/manage/franchise/", {"email": "school9@example.com"})
    assert refused.status_code == 200
    assert "too many requests like this one" in refused.content.decode()
    assert len(mail.outbox) == 2


# --- the counter ----------------------------------------------------------------------------


def test_the_window_boundary(rf, settings):
    """The count starts afresh at the window's start (fixed windows of RATE_LIMIT_WINDOW)."""
    settings.RATE_LIMIT_PER_IP, settings.RATE_LIMIT_PER_ADDRESS = 1, 5
    request = rf.post("/", REMOTE_ADDR="203.0.113.5")
    last_second = datetime(2026, 11, 21, 10, 59, 59, tzinfo=UTC)
    ratelimit.limit_email_request(request, action="a", email="x@example.com", now=last_second)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.limit_email_request(request, action="a", email="x@example.com", now=last_second)
    assert refused.value.retry_after == 1
    next_window = last_second + timedelta(seconds=1)
    ratelimit.limit_email_request(request, action="a", email="x@example.com", now=next_window)
