"""Nobody finds out who has an account (the sign-ups, password reset and new confirmation
link answer alike, and do the same costly work, for an address with a login and one
without), and no working password-reset link is stored in the outbox."""

import difflib
import importlib
import json
import re

import pytest
from django.apps import apps
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from makeup import outbox
from makeup.models import Company, OutboxMessage, User
from tests.factories import GuardianFactory

pytestmark = pytest.mark.django_db

PHRASE = "a-long-pass-phrase"


class CountingHasher(MD5PasswordHasher):
    """MD5 (fast), counting how often a password is hashed."""

    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def hashes(settings):
    settings.PASSWORD_HASHERS = [
        "tests.makeup.test_security_accounts.CountingHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]

    def count(action) -> int:
        CountingHasher.calls = 0
        action()
        return CountingHasher.calls

    return count


def _same_page(html: str, email: str) -> str:
    """The page without what differs on every request (CSRF tokens, CSP nonces) and with the
    typed address replaced: what is left must be identical for both addresses."""
    html = html.replace(email, "EMAIL")
    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF-TOKEN", html)
    return re.sub(r'nonce="[^"]+"', "NONCE", html)


def _assert_alike(first: str, second: str) -> None:
    diff = "\n".join(
        difflib.unified_diff(first.splitlines(), second.splitlines(), lineterm="", n=1)
    )
    assert not diff, diff


def _portal_signup(client, email):
    return client.post(
        "/portal/alpha/signup/",
        {"full_name": "Sam Someone", "email": email, "password1": PHRASE, "password2": PHRASE},
    )


def _company_signup(client, email, slug):
    return client.post(
        "/accounts/company-signup/",
        {
            "name": "Zeta Swim",
            "slug": slug,
            "timezone": "UTC",
            "currency": "AUD",
            "full_name": "Sam Someone",
            "email": email,
            "password1": PHRASE,
            "password2": PHRASE,
        },
    )


def test_portal_signup_answers_alike_and_hashes_the_password_for_a_known_address(
    client, world, hashes, django_capture_on_commit_callbacks
):
    pages, rows = {}, {}
    for email in ("owner.b@example.com", "brand.new@example.com"):
        before = OutboxMessage.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            assert hashes(lambda e=email: pages.update({e: _portal_signup(client, e)})) == 1
        rows[email] = OutboxMessage.objects.count() - before
    known, new = pages["owner.b@example.com"], pages["brand.new@example.com"]
    assert known.status_code == new.status_code == 200
    _assert_alike(
        _same_page(known.content.decode(), "owner.b@example.com"),
        _same_page(new.content.decode(), "brand.new@example.com"),
    )
    assert rows == {"owner.b@example.com": 1, "brand.new@example.com": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["brand.new@example.com", "owner.b@example.com"]


def test_company_signup_answers_alike_and_hashes_the_password_for_a_known_address(
    client, world, hashes, django_capture_on_commit_callbacks
):
    pages, rows = {}, {}
    for email, slug in (("owner.b@example.com", "zeta"), ("brand.new@example.com", "zeta-2")):
        before = OutboxMessage.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            count = hashes(lambda e=email, s=slug: pages.update({e: _company_signup(client, e, s)}))
        assert count == 1, email
        rows[email] = OutboxMessage.objects.count() - before
    known, new = pages["owner.b@example.com"], pages["brand.new@example.com"]
    assert known.status_code == new.status_code == 200
    _assert_alike(
        _same_page(known.content.decode(), "owner.b@example.com"),
        _same_page(new.content.decode(), "brand.new@example.com"),
    )
    assert rows == {"owner.b@example.com": 1, "brand.new@example.com": 1}
    # Nothing created for the known address; the new one has its company and login.
    assert not Company.objects.filter(slug="zeta").exists()
    assert Company.objects.filter(slug="zeta-2").exists()
    assert User.objects.get(email="brand.new@example.com").email_confirmed_at is None
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert "already has a login" in by_recipient["owner.b@example.com"].body
    assert "/accounts/confirm/" in by_recipient["brand.new@example.com"].body


@pytest.mark.parametrize(
    ("url", "field"),
    [("/accounts/password_reset/", "email"), ("/accounts/confirm/resend/", "email")],
)
def test_password_reset_and_new_link_answer_alike_with_the_same_queries(client, world, url, field):
    """The request writes one outbox row either way and looks nothing up: the worker finds
    the account when it sends. Same answer, same queries, for a known and an unknown
    address."""
    GuardianFactory(
        family__company=world.company_a,
        user__email="waiting@example.com",
        user__email_confirmed_at=None,
    )
    answers, queries = {}, {}
    for email in ("waiting@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, {field: email}, follow=True)
        answers[email] = (response.redirect_chain, _same_page(response.content.decode(), email))
        # The statements, without their values (keys and times differ on every request).
        queries[email] = [re.sub(r"'[^']*'", "?", q["sql"]) for q in captured.captured_queries]
    assert answers["waiting@example.com"][0] == answers["nobody@example.com"][0]
    _assert_alike(answers["waiting@example.com"][1], answers["nobody@example.com"][1])
    assert queries["waiting@example.com"] == queries["nobody@example.com"]
    assert OutboxMessage.objects.count() == 2


def test_new_link_reaches_only_a_login_waiting_for_confirmation_also_a_company_owner(
    client, world, django_capture_on_commit_callbacks
):
    """The worker picks the company the e-mail is branded for: a portal, else the company
    the login signed up to create (an owner who lost the first e-mail gets a new link)."""
    with django_capture_on_commit_callbacks(execute=True):
        _company_signup(client, "founder@example.com", "zeta")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for email in ("founder@example.com", "owner.a@example.com", "nobody@example.com"):
            client.post("/accounts/confirm/resend/", {"email": email})
    (message,) = mail.outbox
    assert message.to == ["founder@example.com"] and "Zeta Swim" in message.subject


# --- password-reset links are never stored ---------------------------------------------------


def _reset_link(message) -> str:
    match = re.search(r"https?://[^\s\"]*(/accounts/reset/[^\s\"]+)", message.body)
    assert match, message.body
    return match.group(1)


def _stored(row: OutboxMessage) -> str:
    return json.dumps([row.task, row.args, row.kwargs, row.last_error])


def test_password_reset_outbox_row_holds_no_link_and_the_e_mail_still_works(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": "Parent.A@example.com"})
    (message,) = mail.outbox
    link = _reset_link(message)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    (row,) = OutboxMessage.objects.all()
    assert row.done_at is not None
    assert row.args == ["parent.a@example.com", "en"]
    for secret in (token, link, "/accounts/reset/"):
        assert secret not in _stored(row)
    # The link is made at sending time and works.
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-phrase", "new_password2": "a-brand-new-phrase"},
    )
    assert done.status_code == 302
    assert client.login(username="parent.a@example.com", password="a-brand-new-phrase")


def test_password_reset_is_e_mailed_in_the_users_language(
    client, world, django_capture_on_commit_callbacks
):
    User.objects.filter(email="parent.a@example.com").update(language="cs")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": "parent.a@example.com"})
    (message,) = mail.outbox
    assert "heslo" in message.subject.lower()


def test_stored_password_reset_e_mails_of_the_old_kind_are_emptied_or_remade(
    world, django_capture_on_commit_callbacks
):
    """Rows written before the upgrade held the rendered e-mail (with its working link):
    the migration empties those already sent and turns waiting ones into the new task."""
    old = "makeup.tasks.send_rendered_email"
    rendered = ["Reset", "http://x/accounts/reset/MQ/secret-token/", None, ["parent.a@example.com"]]
    now = timezone.now()
    OutboxMessage.objects.create(key="old-sent", task=old, args=rendered, done_at=now)
    OutboxMessage.objects.create(key="old-waiting", task=old, args=rendered)
    migration = importlib.import_module("makeup.migrations.0005_outbox_password_reset_by_address")
    migration.forwards(apps, None)
    for row in OutboxMessage.objects.all():
        assert "secret-token" not in _stored(row)
    assert OutboxMessage.objects.get(key="old-sent").args == []
    assert OutboxMessage.objects.get(key="old-waiting").task == "makeup.tasks.send_password_reset"
    with django_capture_on_commit_callbacks(execute=True):
        outbox.publish(["old-waiting"])
    (message,) = mail.outbox
    assert message.to == ["parent.a@example.com"] and "/accounts/reset/" in message.body
