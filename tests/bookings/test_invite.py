"""Inviting a parent to the portal (MKP-9: booking needs the parent's own login)."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Guardian
from bookings.services import guardian_invite
from makeup.errors import DomainError
from makeup.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


def _link(message, pattern: str) -> str:
    match = re.search(rf"https?://[^\s\"]*({pattern}[^\s\"]*)", message.body)
    assert match, message.body
    return match.group(1)


def _guardian(company, *, email="new.parent@example.com", user=None, name="Linh Nguyen"):
    return f.GuardianFactory(
        family__company=company, family__name="Nguyen", user=user, full_name=name, email=email
    )


def _invite(client, guardian, capture):
    with capture(execute=True):
        return client.post(reverse("manage:guardian_invite", args=[guardian.pk]), follow=True)


def test_mkp_9_invite_a_new_address_sets_a_password_confirms_and_lands_on_the_portal(
    client, world, login, django_capture_on_commit_callbacks
):
    guardian = _guardian(world.company_a)
    login(world.staff_a)
    response = _invite(client, guardian, django_capture_on_commit_callbacks)
    assert response.redirect_chain[-1][0] == reverse(
        "manage:family_detail", args=[guardian.family_id]
    )
    assert "Invitation e-mailed to Linh Nguyen" in response.content.decode()
    assert "hasn't set a password yet" in response.content.decode()

    user = User.objects.get(email="new.parent@example.com")
    assert user.email_confirmed_at is None and not user.has_usable_password()
    assert user.full_name == "Linh Nguyen"
    guardian.refresh_from_db()
    assert guardian.user == user

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.parent@example.com"]
    assert "Alpha Swim" in message.subject
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    link = _link(message, "/accounts/invite/")

    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Choose your password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url,
        {"new_password1": "a-long-pass-phrase", "new_password2": "a-long-pass-phrase"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/portal/alpha/"
    assert response.context["user"] == user  # logged in
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert user.check_password("a-long-pass-phrase")

    # The link works once.
    client.logout()
    again = client.get(link, follow=True)
    assert "no longer works" in again.content.decode()
    # And the parent can log in with the password (the login page refuses unconfirmed users).
    login_response = client.post(
        "/accounts/login/",
        {"username": "new.parent@example.com", "password": "a-long-pass-phrase"},
        follow=True,
    )
    assert login_response.redirect_chain[-1][0] == "/portal/alpha/"


def test_mkp_9_invite_an_existing_login_links_it_and_says_so(
    client, world, login, django_capture_on_commit_callbacks
):
    existing = f.UserFactory(email="known@example.com", full_name="Known Parent")
    password_hash = existing.password
    guardian = _guardian(world.company_a, email="Known@Example.com")
    login(world.staff_a)
    response = _invite(client, guardian, django_capture_on_commit_callbacks)
    assert "Invitation e-mailed" in response.content.decode()
    guardian.refresh_from_db()
    assert guardian.user == existing
    existing.refresh_from_db()
    assert existing.password == password_hash
    assert User.objects.filter(email="known@example.com").count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "You now have access to Alpha Swim" in message.subject
    assert "/accounts/login/?next=%2Fportal%2Falpha%2F" in message.body
    assert "/accounts/invite/" not in message.body
    # The page now shows the login; no invite button any more.
    html = client.get(reverse("manage:family_detail", args=[guardian.family_id])).content.decode()
    assert "has a login" in html
    assert reverse("manage:guardian_invite", args=[guardian.pk]) not in html


def test_mkp_9_a_parents_e_mail_is_unique_in_the_company_database(world):
    """One login is a parent of one family per company: two parents of the company can't
    share an address (any case), so an invitation can't link a login twice."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        _guardian(world.company_a, email="PARENT.A@example.com")  # Parker's address
    _guardian(world.company_b, email="parent.a@example.com")  # another company: fine


def test_mkp_9_the_same_login_may_be_a_parent_in_another_company(
    world, django_capture_on_commit_callbacks
):
    guardian = _guardian(world.company_b, email="parent.a@example.com")
    with scope(company=world.company_b), django_capture_on_commit_callbacks(execute=True):
        guardian_invite(now=timezone.now(), guardian=guardian, actor=world.owner_b)
    guardian.refresh_from_db()
    assert guardian.user == world.parent_a
    assert "Beta Swim" in mail.outbox[0].subject


def test_mkp_9_invite_refused_for_a_parent_without_email(
    client, world, login, django_capture_on_commit_callbacks
):
    guardian = _guardian(world.company_a, email="")
    users = User.objects.count()
    login(world.staff_a)
    response = _invite(client, guardian, django_capture_on_commit_callbacks)
    assert "Add an e-mail address for Linh Nguyen first." in response.content.decode()
    guardian.refresh_from_db()
    assert guardian.user is None
    assert User.objects.count() == users
    assert mail.outbox == []


def test_mkp_9_invite_refused_for_a_parent_who_has_a_login(world):
    with scopes_disabled():
        parker = Guardian.objects.get(user=world.parent_a)
    with scope(company=world.company_a), pytest.raises(DomainError, match="already has a portal"):
        guardian_invite(now=timezone.now(), guardian=parker, actor=world.staff_a)


def test_mkp_9_invite_again_sends_a_fresh_link(
    client, world, login, django_capture_on_commit_callbacks
):
    guardian = _guardian(world.company_a)
    login(world.staff_a)
    _invite(client, guardian, django_capture_on_commit_callbacks)
    _invite(client, guardian, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert all("/accounts/invite/" in m.body for m in mail.outbox)
    assert User.objects.filter(email="new.parent@example.com").count() == 1


def test_invite_is_post_only_and_another_companys_parent_is_404(client, world, login):
    guardian = _guardian(world.company_a)
    login(world.staff_b)
    url = reverse("manage:guardian_invite", args=[guardian.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 404
    guardian.refresh_from_db()
    assert guardian.user is None


def test_invite_link_with_a_bad_token_is_refused(client, world):
    response = client.get("/accounts/invite/MQ/bad-token/")
    assert response.status_code == 200
    assert "no longer works" in response.content.decode()
