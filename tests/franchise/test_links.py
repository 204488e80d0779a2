"""FRN-1: company links by e-mailed invitation (approve, decline, end; the link works once and
expires; only the invited company's owners answer), a new company signing up from an
invitation, FRN-3: incoming restrictions, TEN-2: only owners manage links."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import MakeupBooking
from franchise.models import CompanyLink, IncomingRestriction
from franchise.services import (
    link_approve,
    link_decline,
    link_end,
    link_invitation_token,
    link_invite,
    restriction_update,
)
from makeup.errors import DomainError
from makeup.models import AuditEntry, Company, Membership, Role
from tests import factories as f

from .conftest import link_companies, makeup_booking

pytestmark = pytest.mark.django_db

PARTNERS = "/manage/franchise/"
PASSWORD = "a-long-pass-phrase"


def _path(message, pattern: str) -> str:
    match = re.search(rf"https?://[^\s\"]*({pattern}[^\s\"]*)", message.body)
    assert match, message.body
    return match.group(1)


def _answer_path(message) -> str:
    return _path(message, "/manage/franchise/invitations/")


@pytest.fixture
def invited(world, login, django_capture_on_commit_callbacks):
    """Alpha's owner invites Beta (by its owner's login) on the partner page; the e-mailed
    link's path."""
    client = login(world.owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            PARTNERS, {"email": "Owner.B@example.com", "message": "Let us share make-ups"}
        )
    assert response.status_code == 302
    return CompanyLink.objects.get(), _answer_path(mail.outbox[-1])


# --- inviting -------------------------------------------------------------------------------


def test_frn_1_invite_emails_a_signed_link_once_the_transaction_commits(
    world, login, django_capture_on_commit_callbacks
):
    client = login(world.owner_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(PARTNERS, {"email": "hello@beta.example", "message": "Hi Beta"})
    assert response.status_code == 302
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hello@beta.example"]
    assert message.subject == "Alpha Swim invites Beta Swim to exchange make-up lessons"
    assert "Hi Beta" in message.body
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    assert "company-signup" not in message.body  # Beta exists: nothing to sign up for

    link = CompanyLink.objects.get()
    assert (link.inviter, link.invitee, link.state) == (world.company_a, world.company_b, "pending")
    assert link.created_by == world.owner_a
    token = _answer_path(message).rstrip("/").rsplit("/", 1)[-1]
    assert signing.loads(token, salt="franchise-invite") == {"l": link.pk, "n": link.nonce}

    page = client.get(PARTNERS)
    assert "Your invitations waiting for an answer" in page.content.decode()
    assert "Beta Swim" in page.content.decode()


def test_frn_1_invitee_owner_approves_through_the_link(
    world, login, invited, django_capture_on_commit_callbacks
):
    link, path = invited
    client = login(world.owner_b)
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Invitation from Alpha Swim" in html and "Let us share make-ups" in html
    assert "You answer for <strong>Beta Swim</strong>" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"action": "approve"})
    assert response.status_code == 302 and response["Location"] == PARTNERS
    link.refresh_from_db()
    assert link.state == "approved"
    assert (link.invitee, link.answered_by) == (world.company_b, world.owner_b)
    assert link.answered_at is not None

    notice = mail.outbox[-1]
    assert notice.to == ["owner.a@example.com"]
    assert notice.subject == "Beta Swim approved your invitation"

    html = client.get(PARTNERS).content.decode()
    assert "Linked companies" in html and "Alpha Swim" in html
    assert reverse("manage:franchise_restrictions", args=[world.company_a.pk]) in html
    html = login(world.owner_a).get(PARTNERS).content.decode()
    assert reverse("manage:franchise_restrictions", args=[world.company_b.pk]) in html


def test_frn_1_the_emailed_link_works_once(world, login, invited):
    link, path = invited
    client = login(world.owner_b)
    assert client.post(path, {"action": "approve"}).status_code == 302

    again = client.get(path)
    assert again.status_code == 410
    assert "already been answered" in again.content.decode()
    assert client.post(path, {"action": "decline"}).status_code == 410
    link.refresh_from_db()
    assert link.state == "approved"


def test_frn_1_an_expired_link_is_refused(world, login, invited, settings):
    link, path = invited
    client = login(world.owner_b)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(path)
        assert response.status_code == 410
        assert "has expired" in response.content.decode()
        assert "Alpha Swim" in response.content.decode()
        assert client.post(path, {"action": "approve"}).status_code == 410
        settings.FRANCHISE_INVITE_MAX_AGE_DAYS = 30
        assert client.get(path).status_code == 200
    link.refresh_from_db()
    assert link.state == "pending"


def test_frn_1_a_tampered_link_is_404(world, login, invited):
    _, path = invited
    response = login(world.owner_b).get(path[:-3] + "xx/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


@pytest.mark.parametrize("who", ["staff_b", "owner_a", "admin_a", "outsider"])
def test_frn_1_only_an_owner_of_the_invited_company_can_answer(world, login, invited, who):
    link, path = invited
    user = f.MembershipFactory(role=Role.OWNER).user if who == "outsider" else getattr(world, who)
    client = login(user)
    page = client.get(path)
    assert page.status_code == 404
    assert "Only an owner of Beta Swim can answer it" in page.content.decode()
    assert client.post(path, {"action": "approve"}).status_code == 404
    link.refresh_from_db()
    assert link.state == "pending"


def test_frn_1_anonymous_visitor_is_offered_to_log_in_or_create_a_company(client, invited):
    _, path = invited
    client.logout()
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Invitation from Alpha Swim" in html
    assert "/accounts/login/?next=" in html and "/accounts/company-signup/?invitation=" in html
    assert client.post(path, {"action": "approve"}).status_code == 200
    assert CompanyLink.objects.get().state == "pending"


def test_frn_1_a_non_owner_answering_through_the_service_is_refused(world, invited):
    link, _ = invited
    with pytest.raises(DomainError, match="Only an owner of Beta Swim"):
        link_approve(now=timezone.now(), link=link, company=world.company_b, actor=world.staff_b)
    with pytest.raises(DomainError, match="for Beta Swim, not Alpha Swim"):
        link_approve(now=timezone.now(), link=link, company=world.company_a, actor=world.owner_a)


def test_frn_1_invitee_declines_through_the_link(
    world, login, invited, django_capture_on_commit_callbacks
):
    link, path = invited
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.owner_b).post(path, {"action": "decline"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.state, link.answered_by) == ("declined", world.owner_b)
    assert mail.outbox[-1].subject == "Beta Swim declined your invitation"
    html = login(world.owner_a).get(PARTNERS).content.decode()
    assert "Declined and ended" in html and "declined" in html


def test_frn_1_invitee_answers_on_the_partner_page_too(world, login, invited):
    link, _ = invited
    client = login(world.owner_b)
    html = client.get(PARTNERS).content.decode()
    assert "Invitations to you" in html and "Alpha Swim" in html
    approve = reverse("manage:franchise_link_approve", args=[link.pk])
    assert approve in html
    # the inviter cannot approve its own invitation
    login(world.owner_a).post(approve)
    link.refresh_from_db()
    assert link.state == "pending"
    assert login(world.owner_b).post(approve).status_code == 302
    link.refresh_from_db()
    assert link.state == "approved"


@pytest.mark.parametrize("side", ["a", "b"])
def test_frn_1_either_side_ends_the_link_and_bookings_stay(
    world, login, side, django_capture_on_commit_callbacks
):
    link = link_companies(world.company_a, world.company_b)
    guest = makeup_booking(host=world.company_b, home=world.company_a)
    owner, company, other = {
        "a": (world.owner_a, world.company_a, "owner.b@example.com"),
        "b": (world.owner_b, world.company_b, "owner.a@example.com"),
    }[side]
    with django_capture_on_commit_callbacks(execute=True):
        response = login(owner).post(reverse("manage:franchise_link_end", args=[link.pk]))
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.state, link.ended_by, link.ended_by_company) == ("ended", owner, company)
    with scopes_disabled():
        guest = MakeupBooking.objects.get(pk=guest.pk)
    assert (guest.state, guest.company, guest.home_company) == (
        "booked",
        world.company_b,
        world.company_a,
    )
    assert mail.outbox[-1].to == [other]
    assert "ended your make-up link" in mail.outbox[-1].subject
    # ended: no restrictions page any more; a new invitation is possible again
    url = reverse("manage:franchise_restrictions", args=[link.other(company.pk).pk])
    assert login(owner).get(url).status_code == 404
    link_invite(
        now=timezone.now(), company=world.company_a, email="hello@beta.example", actor=world.owner_a
    )


def test_frn_1_inviter_cancels_a_pending_invitation_and_its_link_stops_working(
    world, login, invited
):
    link, path = invited
    # the invitee cannot "end" a pending invitation: they decline it
    with pytest.raises(DomainError, match="decline it instead"):
        link_end(now=timezone.now(), link=link, company=world.company_b, actor=world.owner_b)
    client = login(world.owner_a)
    client.post(reverse("manage:franchise_link_end", args=[link.pk]))
    link.refresh_from_db()
    assert link.state == "ended" and link.answered_at is None
    assert login(world.owner_b).get(path).status_code == 410
    with pytest.raises(DomainError, match="no longer waiting"):
        link_decline(now=timezone.now(), link=link, company=world.company_b, actor=world.owner_b)


def test_frn_1_link_actions_of_another_companys_link_are_404(world, login):
    c = f.CompanyFactory(name="Gamma Swim")
    link = link_companies(world.company_a, c)
    client = login(world.owner_b)
    for name in ("franchise_link_approve", "franchise_link_decline", "franchise_link_end"):
        assert client.post(reverse(f"manage:{name}", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.state == "approved"


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["hello@alpha.example", "OWNER.A@example.com"])
def test_frn_1_inviting_your_own_company_is_refused(world, login, email):
    response = login(world.owner_a).post(PARTNERS, {"email": email})
    assert response.status_code == 200
    assert "belongs to Alpha Swim itself" in response.content.decode()
    assert not CompanyLink.objects.exists()


def test_frn_1_a_second_live_link_between_two_companies_is_refused_either_way(
    world, login, invited
):
    link, _ = invited
    html = login(world.owner_a).post(PARTNERS, {"email": "hello@beta.example"}).content.decode()
    assert "Alpha Swim already invited Beta Swim" in html
    html = login(world.owner_b).post(PARTNERS, {"email": "owner.a@example.com"}).content.decode()
    assert "Alpha Swim already invited Beta Swim: answer their invitation" in html
    link_approve(now=timezone.now(), link=link, company=world.company_b, actor=world.owner_b)
    html = login(world.owner_b).post(PARTNERS, {"email": "owner.a@example.com"}).content.decode()
    assert "Beta Swim and Alpha Swim are already linked" in html
    assert CompanyLink.objects.count() == 1


def test_frn_1_a_bad_email_is_refused_next_to_the_field(world, login):
    response = login(world.owner_a).post(PARTNERS, {"email": "not-an-address"})
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert not CompanyLink.objects.exists()


# --- TEN-2: owners only ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_a", "staff_a", "parent_a"])
def test_ten_2_only_owners_open_the_franchise_pages(world, login, who):
    link = link_companies(world.company_a, world.company_b)
    client = login(getattr(world, who))
    assert client.get(PARTNERS).status_code == 403
    assert client.post(PARTNERS, {"email": "x@example.com"}).status_code == 403
    url = reverse("manage:franchise_restrictions", args=[world.company_b.pk])
    assert client.get(url).status_code == 403
    assert client.post(reverse("manage:franchise_link_end", args=[link.pk])).status_code == 403
    link.refresh_from_db()
    assert link.state == "approved"
    assert not CompanyLink.objects.exclude(pk=link.pk).exists()


def test_ten_2_settings_page_links_owners_to_partner_companies(world, login):
    assert (
        "Cooperate with a company" in login(world.owner_a).get("/manage/settings/").content.decode()
    )
    assert "Cooperate with a company" not in (
        login(world.admin_a).get("/manage/settings/").content.decode()
    )


# --- a company that is not in the system yet ------------------------------------------------


def test_frn_1_unknown_address_signs_up_creates_its_company_and_approves(
    world, client, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        login(world.owner_a).post(PARTNERS, {"email": "hello@delta.example"})
    link = CompanyLink.objects.get()
    assert link.invitee is None and link.invitee_email == "hello@delta.example"
    invitation = mail.outbox[-1]
    assert invitation.subject == "Alpha Swim invites you to exchange make-up lessons"
    assert "Sign up and create your company first" in invitation.body
    answer = _answer_path(invitation)
    signup = _path(invitation, r"/accounts/company-signup/\?invitation=")

    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            signup,
            {
                "name": "Delta Swim",
                "slug": "delta",
                "timezone": "Australia/Sydney",
                "currency": "AUD",
                "full_name": "Dee Delta",
                "email": "Hello@Delta.example",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    delta = Company.objects.get(slug="delta")
    owner = Membership.objects.get(company=delta, role=Role.OWNER).user
    assert owner.email == "hello@delta.example" and owner.email_confirmed_at is None

    confirmation = mail.outbox[-1]
    assert confirmation.to == ["hello@delta.example"]
    assert "Thank you for creating Delta Swim." in confirmation.body
    response = client.get(_path(confirmation, "/accounts/confirm/"))
    assert response.status_code == 302 and response["Location"] == answer

    page = client.get(answer)
    assert "You answer for <strong>Delta Swim</strong>" in page.content.decode()
    assert client.post(answer, {"action": "approve"}).status_code == 302
    link.refresh_from_db()
    assert (link.state, link.invitee, link.answered_by) == ("approved", delta, owner)
    assert "Alpha Swim" in client.get(PARTNERS).content.decode()


def test_frn_1_logged_in_user_without_a_company_creates_one_from_the_invitation(
    world, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        login(world.owner_a).post(PARTNERS, {"email": "parent.a@example.com"})
    answer = _answer_path(mail.outbox[-1])
    client = login(world.parent_a)
    page = client.get(answer)
    assert page.status_code == 200
    assert "own a company in the system yet" in page.content.decode()
    signup = re.search(
        r'href="(/accounts/company-signup/\?invitation=[^"]+)"', page.content.decode()
    )
    signup_url = signup.group(1).replace("&amp;", "&")

    form = client.get(signup_url).content.decode()
    assert "Your e-mail" not in form  # logged in: company fields only
    response = client.post(
        signup_url,
        {"name": "Epsilon Swim", "slug": "epsilon", "timezone": "UTC", "currency": "EUR"},
    )
    assert response.status_code == 302 and response["Location"] == answer
    epsilon = Company.objects.get(slug="epsilon")
    assert Membership.objects.filter(company=epsilon, user=world.parent_a, role=Role.OWNER).exists()
    client.post(answer, {"action": "approve", "company": epsilon.pk})
    link = CompanyLink.objects.get()
    assert (link.state, link.invitee) == ("approved", epsilon)


def test_frn_1_owner_of_several_companies_chooses_which_one_answers(world, login):
    owner = world.owner_b
    other = f.CompanyFactory(name="Beta North", contact_email="")
    f.MembershipFactory(user=owner, company=other, role=Role.OWNER)
    # the owner's login matches two companies: the invitation names none
    link = link_invite(
        now=timezone.now(), company=world.company_a, email=owner.email, actor=world.owner_a
    )
    assert link.invitee is None
    answer = reverse("manage:franchise_invitation", args=[link_invitation_token(link)])
    client = login(owner)
    html = client.get(answer).content.decode()
    assert "Answer for" in html and "Beta North" in html and "Beta Swim" in html
    client.post(answer, {"action": "approve", "company": other.pk})
    link.refresh_from_db()
    assert (link.state, link.invitee) == ("approved", other)


def test_company_signup_with_an_address_that_has_a_login_e_mails_its_owner_to_log_in(
    client, world, django_capture_on_commit_callbacks
):
    """The page says only "check your e-mail" (as for a new address: it tells nobody who has
    a login); the address's owner is told to log in and create the company from there."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/company-signup/",
            {
                "name": "Zeta",
                "slug": "zeta",
                "timezone": "UTC",
                "currency": "AUD",
                "full_name": "Z",
                "email": "owner.b@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    assert "already has a login" not in response.content.decode()
    assert not Company.objects.filter(slug="zeta").exists()
    (message,) = mail.outbox
    assert message.to == ["owner.b@example.com"]
    assert "already has a login. Nothing was created." in message.body
    assert "/accounts/login/?next=/accounts/company-signup/" in message.body


def test_company_signup_refuses_a_taken_portal_address(client, world):
    response = client.post(
        "/accounts/company-signup/",
        {
            "name": "Other Alpha",
            "slug": "alpha",
            "timezone": "UTC",
            "currency": "AUD",
            "full_name": "Z",
            "email": "z@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert "This portal address is taken" in response.content.decode()
    assert Company.objects.filter(slug="alpha").count() == 1


# --- FRN-3: incoming restrictions -----------------------------------------------------------


def _restrictions_url(partner) -> str:
    return reverse("manage:franchise_restrictions", args=[partner.pk])


def test_frn_3_restrictions_page_is_404_without_an_approved_link(world, login, invited):
    link, _ = invited
    client = login(world.owner_a)
    url = _restrictions_url(world.company_b)
    assert client.get(url).status_code == 404  # pending
    assert client.get(_restrictions_url(f.CompanyFactory())).status_code == 404  # no link
    assert client.get(_restrictions_url(world.company_a)).status_code == 404  # yourself
    link_approve(now=timezone.now(), link=link, company=world.company_b, actor=world.owner_b)
    assert client.get(url).status_code == 200


@pytest.fixture
def programmes(world):
    on = f.ProgrammeFactory(
        company=world.company_a, name="Swim Level 2", code="SWIM-L2", accept_partner_makeups=True
    )
    off = f.ProgrammeFactory(company=world.company_a, name="Toddlers", code="TOD")
    return on, off


def test_frn_3_owner_sets_programmes_guest_cap_and_days_ahead(world, login, programmes):
    on, off = programmes
    link_companies(world.company_a, world.company_b)
    client = login(world.owner_a)
    url = _restrictions_url(world.company_b)
    html = client.get(url).content.decode()
    assert "Swim Level 2 (SWIM-L2) — takes partner make-ups" in html
    assert "Toddlers (TOD) — partner make-ups off" in html
    assert "guests in one session at most" in html  # help texts
    assert "may book. Empty: no limit." in html

    response = client.post(
        url, {"programmes": [on.pk], "max_guests_per_session": "2", "max_days_ahead": "14"}
    )
    assert response.status_code == 302
    with scope(company=world.company_a):
        row = IncomingRestriction.objects.get(company=world.company_a, partner=world.company_b)
        assert list(row.programmes.all()) == [on]
    assert (row.max_guests_per_session, row.max_days_ahead) == (2, 14)
    assert "SWIM-L2 · at most 2 per session · up to 14 days ahead" in (
        client.get(PARTNERS).content.decode()
    )
    # back to "no limits"
    client.post(url, {"max_guests_per_session": "", "max_days_ahead": ""})
    with scope(company=world.company_a):
        row.refresh_from_db()
        assert list(row.programmes.all()) == []
    assert (row.max_guests_per_session, row.max_days_ahead) == (None, None)


@pytest.mark.parametrize(
    "field,value",
    [
        ("max_guests_per_session", "-1"),
        ("max_guests_per_session", "0"),
        ("max_guests_per_session", "100000"),
        ("max_days_ahead", "0"),
        ("max_days_ahead", "9999"),
        ("max_days_ahead", "soon"),
    ],
)
def test_frn_3_bad_numbers_are_refused_next_to_the_field(world, login, field, value):
    link_companies(world.company_a, world.company_b)
    response = login(world.owner_a).post(_restrictions_url(world.company_b), {field: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert f'id="error_1_id_{field}"' in html or "is-invalid" in html
    with scope(company=world.company_a):
        assert not IncomingRestriction.objects.exists()


def test_frn_3_another_companys_programme_is_refused(world, login, programmes):
    link_companies(world.company_a, world.company_b)
    foreign = f.ProgrammeFactory(company=world.company_b)
    response = login(world.owner_a).post(
        _restrictions_url(world.company_b), {"programmes": [foreign.pk]}
    )
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    with scope(company=world.company_a):
        assert not IncomingRestriction.objects.exists()
        with pytest.raises(DomainError, match="your own company"):
            restriction_update(
                now=timezone.now(),
                company=world.company_a,
                partner=world.company_b,
                programme_ids=[foreign.pk],
                max_guests_per_session=None,
                max_days_ahead=None,
                actor=world.owner_a,
            )


def test_frn_3_restrictions_need_an_approved_link_in_the_service_too(world):
    with scope(company=world.company_a), pytest.raises(DomainError, match="not linked"):
        restriction_update(
            now=timezone.now(),
            company=world.company_a,
            partner=world.company_b,
            programme_ids=[],
            max_guests_per_session=2,
            max_days_ahead=None,
            actor=world.owner_a,
        )


def test_frn_3_audit_log_records_restrictions_only_when_they_change(world, login):
    """Saving a partner's incoming restrictions unchanged (through the page or the service)
    records nothing in the owners' audit log; each real change is one line."""
    link_companies(world.company_a, world.company_b)
    programme = f.ProgrammeFactory(company=world.company_a, code="SWIM-L2")
    client = login(world.owner_a)
    url = _restrictions_url(world.company_b)

    def lines() -> list[str]:
        with scope(company=world.company_a):
            return list(
                AuditEntry.objects.filter(area=AuditEntry.Area.LINK)
                .filter(summary__startswith="Incoming restrictions")
                .values_list("summary", flat=True)
            )

    # Nothing chosen is the same as no restriction: nothing to record.
    assert client.post(url, {"max_guests_per_session": "", "max_days_ahead": ""}).status_code == 302
    assert lines() == []
    terms = {"programmes": [programme.pk], "max_guests_per_session": "2", "max_days_ahead": ""}
    assert client.post(url, terms).status_code == 302
    assert client.post(url, terms).status_code == 302  # unchanged
    with scope(company=world.company_a):
        restriction_update(
            now=timezone.now(),
            company=world.company_a,
            partner=world.company_b,
            programme_ids=[programme.pk],
            max_guests_per_session=2,
            max_days_ahead=None,
            actor=world.owner_a,
        )  # unchanged
    assert lines() == [
        f"Incoming restrictions for {world.company_b.name}: SWIM-L2; at most 2 guests per "
        "session; — days ahead."
    ]
    assert client.post(url, terms | {"max_days_ahead": "30"}).status_code == 302
    assert len(lines()) == 2


def test_frn_1_partner_page_queries_do_not_grow_with_the_links(world, login):
    def count() -> int:
        client = login(world.owner_a)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PARTNERS).status_code == 200
        return len(queries)

    def add_partners(n: int) -> None:
        for _ in range(n):
            partner = f.CompanyFactory()
            link_companies(world.company_a, partner)
            programme = f.ProgrammeFactory(company=world.company_a)
            with scope(company=world.company_a):
                restriction_update(
                    now=timezone.now(),
                    company=world.company_a,
                    partner=partner,
                    programme_ids=[programme.pk],
                    max_guests_per_session=1,
                    max_days_ahead=None,
                    actor=world.owner_a,
                )
            link_invite(
                now=timezone.now(),
                company=world.company_a,
                email=f"x{partner.pk}@new.example",
                actor=world.owner_a,
            )

    add_partners(2)
    few = count()
    add_partners(5)
    assert count() == few


def test_frn_1_the_link_works_while_the_owner_works_in_another_company(world, login, invited):
    link, path = invited
    aardvark = f.CompanyFactory(name="Aardvark Swim")  # first by name: the current company
    f.MembershipFactory(user=world.owner_b, company=aardvark, role=Role.STAFF)
    client = login(world.owner_b)
    assert client.get("/manage/").context["company"] == aardvark
    assert client.post(path, {"action": "approve"}).status_code == 302
    link.refresh_from_db()
    assert (link.state, link.invitee) == ("approved", world.company_b)
    page = client.get(PARTNERS)
    assert page.status_code == 200 and page.context["company"] == world.company_b
