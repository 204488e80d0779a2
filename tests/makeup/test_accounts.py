"""One login page for everyone; sign-up with e-mail confirmation; password reset; logout;
login rate limiting."""

import re

import pytest
from django.core import mail
from django_scopes import scope

from bookings.models import Guardian
from makeup.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _link(message, pattern: str) -> str:
    match = re.search(rf"https?://[^\s\"]*({pattern}[^\s\"]*)", message.body)
    assert match, message.body
    return match.group(1)


def test_staff_lands_on_the_back_office(client, world):
    response = client.post(
        "/accounts/login/", {"username": "owner.a@example.com", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/manage/"
    assert response.context["company"] == world.company_a


def test_parent_lands_on_their_portal(client, world):
    response = client.post(
        "/accounts/login/", {"username": "PARENT.A@example.com", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/portal/alpha/"
    assert b"Hello" in response.content


def test_wrong_password_says_so_without_saying_which(client, world):
    response = client.post(
        "/accounts/login/", {"username": "owner.a@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "don&#x27;t match an account" in response.content.decode()


def test_signup_sends_confirmation_through_a_task_and_the_link_logs_in(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portal/alpha/signup/",
            {
                "full_name": "Jo Bloggs",
                "email": "Jo@Example.com",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
    assert response.status_code == 200
    assert b"Check your e-mail" in response.content
    user = User.objects.get(email="jo@example.com")
    assert user.email_confirmed_at is None
    with scope(company=world.company_a):
        guardian = Guardian.objects.get(user=user)
    assert guardian.family.name == "Bloggs"

    # Not confirmed yet: login is refused with a clear message.
    refused = client.post(
        "/accounts/login/", {"username": "jo@example.com", "password": "a-long-pass-phrase"}
    )
    assert "confirm your e-mail" in refused.content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jo@example.com"]
    assert "Alpha Swim" in message.subject
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    link = _link(message, "/accounts/confirm/")
    response = client.get(link, follow=True)
    assert response.redirect_chain[-1][0] == "/portal/alpha/"
    user.refresh_from_db()
    assert user.email_confirmed_at is not None

    # A second use of the link logs nobody in.
    client.logout()
    response = client.get(link, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "already confirmed" in response.content.decode()


def test_signup_with_an_existing_address_reveals_nothing_and_tells_the_owner(
    client, world, django_capture_on_commit_callbacks
):
    before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/portal/alpha/signup/",
            {
                "full_name": "Someone",
                "email": "owner.b@example.com",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
    assert b"Check your e-mail" in response.content
    assert User.objects.count() == before
    assert len(mail.outbox) == 1
    assert "already has an account" in mail.outbox[0].body


def test_signup_rejects_bad_input_next_to_the_field(client, world):
    response = client.post(
        "/portal/alpha/signup/",
        {
            "full_name": "",
            "email": "not-an-email",
            "password1": "123",
            "password2": "456",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count("invalid-feedback") >= 3
    assert not User.objects.filter(email="not-an-email").exists()
    assert mail.outbox == []


def test_signup_page_of_an_unknown_company_is_404(client, world):
    assert client.get("/portal/no-such-school/signup/").status_code == 404


def test_tampered_confirmation_link_is_refused(client, world):
    response = client.get("/accounts/confirm/not-a-token/", follow=True)
    assert "invalid or has expired" in response.content.decode()


def test_logged_in_parent_of_another_company_can_join(client, world, login):
    client = login(world.parent_a)
    assert b"Join Beta Swim" in client.get("/portal/beta/").content
    response = client.post("/portal/beta/join/", follow=True)
    assert response.redirect_chain[-1][0] == "/portal/beta/"
    assert b"Hello" in response.content
    # With two portals the landing page lets the parent choose.
    landing = client.get("/accounts/landing/")
    assert landing.status_code == 200
    assert {c.slug for c in landing.context["companies"]} == {"alpha", "beta"}


def test_password_reset_mails_a_working_link(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password_reset/", {"email": "parent.a@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = _link(mail.outbox[0], "/accounts/reset/")
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "a-brand-new-phrase",
            "new_password2": "a-brand-new-phrase",
        },
    )
    assert done.status_code == 302
    assert client.login(username="parent.a@example.com", password="a-brand-new-phrase")


def test_resend_confirmation_sends_a_new_link_only_to_unconfirmed(
    client, world, django_capture_on_commit_callbacks
):
    from tests.factories import GuardianFactory

    GuardianFactory(
        family__company=world.company_a,
        user__email="new@example.com",
        user__email_confirmed_at=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/confirm/resend/", {"email": "new@example.com"})
        client.post("/accounts/confirm/resend/", {"email": "owner.a@example.com"})
        client.post("/accounts/confirm/resend/", {"email": "nobody@example.com"})
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_logout_is_a_post(client, world, login):
    client = login(world.owner_a)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/manage/").status_code == 302


@pytest.mark.axes
def test_login_is_rate_limited_after_repeated_failures(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="target@example.com")
    for typed in ("target@example.com", "TARGET@example.com", "Target@Example.com"):
        client.post("/accounts/login/", {"username": typed, "password": "x"})
    locked = client.post(
        "/accounts/login/", {"username": "target@example.com", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked out.
    UserFactory(email="other@example.com")
    ok = client.post("/accounts/login/", {"username": "other@example.com", "password": PASSWORD})
    assert ok.status_code == 302


def test_signup_with_an_address_the_school_already_has_joins_that_family(
    client, world, django_capture_on_commit_callbacks
):
    from tests.factories import GuardianFactory, StudentFactory

    known = GuardianFactory(
        family__company=world.company_a, family__name="Known", user=None, email="known@example.com"
    )
    StudentFactory(family=known.family, first_name="Kit")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/portal/alpha/signup/",
            {
                "full_name": "Kim Known",
                "email": "Known@Example.com",
                "password1": "a-long-pass-phrase",
                "password2": "a-long-pass-phrase",
            },
        )
    link = _link(mail.outbox[0], "/accounts/confirm/")
    response = client.get(link, follow=True)
    assert b"Kit" in response.content  # the school's family, not a new empty one
    with scope(company=world.company_a):
        known.refresh_from_db()
        assert known.user.email == "known@example.com"
        assert Guardian.objects.filter(family__name="Known").count() == 1
