"""Login lockout behind reverse proxies: the client's address is read from X-Forwarded-For
(N proxies: the Nth entry from the right, which the outermost proxy wrote), failures lock
the pair (e-mail, client address), and one address failing across many e-mails is paused
(password spraying)."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory

from makeup.clientip import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/accounts/login/", **extra)


def test_one_proxy_the_client_is_the_rightmost_forwarded_address(settings):
    settings.PROXY_COUNT = 1
    request = _request("10.0.0.1", "203.0.113.5")
    assert get_client_ip_address(request) == "203.0.113.5"
    assert client_ip(request) == "203.0.113.5"


def test_a_forged_forwarded_header_does_not_change_the_address_behind_one_proxy(settings):
    settings.PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 198.51.100.7"; the proxy appended what it saw.
    assert client_ip(_request("10.0.0.1", "198.51.100.7, 203.0.113.5")) == "203.0.113.5"


def test_two_proxies_take_the_second_from_the_right(settings):
    settings.PROXY_COUNT = 2
    request = _request("10.0.0.2", "198.51.100.7, 203.0.113.5, 10.0.0.1")
    assert client_ip(request) == "203.0.113.5"
    # Fewer entries than proxies (the outer proxy was bypassed): the leftmost.
    assert client_ip(_request("10.0.0.2", "203.0.113.9")) == "203.0.113.9"


def test_without_proxies_the_header_is_ignored(settings):
    settings.PROXY_COUNT = 0
    assert client_ip(_request("203.0.113.5", "198.51.100.7")) == "203.0.113.5"


def test_behind_a_proxy_a_request_without_the_header_or_with_garbage_uses_the_peer(settings):
    settings.PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.1")) == "10.0.0.1"
    assert client_ip(_request("10.0.0.1", "not-an-address")) == "10.0.0.1"
    assert client_ip(_request("10.0.0.1", "203.0.113.5:4711")) == "203.0.113.5"
    assert client_ip(_request("10.0.0.1", "[2001:db8::1]:4711")) == "2001:db8::1"


def _login(client, email, password, ip):
    return client.post(
        "/accounts/login/",
        {"username": email, "password": password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=ip,
    )


@pytest.mark.axes
def test_behind_a_proxy_failures_from_one_client_do_not_lock_out_another(client, settings):
    """Lockout-as-denial: five wrong passwords from one address lock that address out of
    the account, not the owner logging in from their own."""
    settings.PROXY_COUNT = 1
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="target@example.com")
    statuses = [
        _login(client, "target@example.com", "wrong", "203.0.113.66").status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks the pair
    locked = _login(client, "target@example.com", PASSWORD, "203.0.113.66")
    assert locked.status_code == 429
    owner = _login(client, "target@example.com", PASSWORD, "198.51.100.20")
    assert owner.status_code == 302


@pytest.mark.axes
def test_password_spraying_from_one_address_is_paused(client, settings):
    """Many e-mails, one wrong password each, from one address: after
    LOGIN_FAILURES_PER_IP failures that address gets a clear 429, others log in."""
    settings.PROXY_COUNT = 1
    settings.LOGIN_FAILURES_PER_IP = 4
    UserFactory(email="someone@example.com")
    for n in range(4):
        response = _login(client, f"victim{n}@example.com", "Summer2026!", "203.0.113.66")
        assert response.status_code == 200
    sprayed = _login(client, "someone@example.com", PASSWORD, "203.0.113.66")
    assert sprayed.status_code == 429
    assert "Too many failed log-ins from your network" in sprayed.content.decode()
    assert "_auth_user_id" not in client.session
    assert _login(client, "someone@example.com", PASSWORD, "198.51.100.20").status_code == 302


@pytest.mark.axes
def test_password_spraying_through_the_admin_login_is_refused_too(client, settings):
    settings.LOGIN_FAILURES_PER_IP = 2
    admin = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    for n in range(2):
        client.post("/admin/login/", {"username": f"x{n}@example.com", "password": "nope"})
    response = client.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 200  # the form again: not logged in
    assert "_auth_user_id" not in client.session


def test_the_environment_variable_axes_proxy_count_reaches_django_axes():
    """The issue's reproduction, through the environment as deployed: AXES_PROXY_COUNT=1,
    REMOTE_ADDR 10.0.0.1 (the proxy), X-Forwarded-For 203.0.113.5 (the client)."""
    from tests.makeup.test_configuration import _manage

    code = (
        "from django.test import RequestFactory;"
        "from axes.helpers import get_client_ip_address;"
        "r = RequestFactory().post('/accounts/login/', REMOTE_ADDR='10.0.0.1',"
        " HTTP_X_FORWARDED_FOR='203.0.113.5');"
        "print(get_client_ip_address(r))"
    )
    result = _manage("shell", "-v", "0", "-c", code, env={"AXES_PROXY_COUNT": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "203.0.113.5"
