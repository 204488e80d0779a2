"""Who may book a make-up or watch a session, held by the services themselves (MKP-9,
MKP-11, TEN-2, FRN-1): a new entry point (an API, a task, an SMS reply) calling
``makeup_book`` or ``watch_create`` directly can't skip what the pages check."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django_scopes import scope, scopes_disabled

from bookings.models import Guardian, MakeupBooking
from credits.models import CreditState, MakeupCredit, SessionWatch
from franchise.models import CompanyLink
from makeup.errors import DomainError
from makeup.models import Role
from makeups.services import makeup_book, makeup_cancel, watch_create, watch_fill
from tests import factories as f
from tests.makeups.conftest import ava_and_host, credit_for

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture
def wb(world, db):
    """Ava (Parker family, ``world.parent_a``) with a credit; a host class of the same
    programme (capacity 2) with a session on Tue 24 Nov."""
    w = ava_and_host(world, home="Home", host="Host")
    with scope(company=w.company):
        w.credit = _credit(w.ava)
        yield w


_credit = credit_for


def _state(credit) -> str:
    return MakeupCredit.objects.get(pk=credit.pk).state


def _outsider(wb, who: str):
    """Someone who is not this family's confirmed parent."""
    if who == "nobody":
        return None
    if who == "another family's parent":
        return f.GuardianFactory(family__company=wb.company).user
    if who == "staff of the school":
        return wb.world.staff_a
    if who == "a deactivated parent login":
        wb.parent.is_active = False
        wb.parent.save()
        return wb.parent
    raise AssertionError(who)


OUTSIDERS = [
    "nobody",
    "another family's parent",
    "staff of the school",
    "a deactivated parent login",
]


# --- MKP-9: a portal booking needs the family's own parent with a confirmed login ----------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_mkp_9_makeup_book_refuses_a_portal_booking_by_anyone_but_the_familys_parent(wb, who):
    with pytest.raises(DomainError, match="Only a parent of this family") as refused:
        makeup_book(credit=wb.credit, session=wb.session, actor=_outsider(wb, who), now=NOW)
    assert refused.value.code == "not_parent"
    assert _state(wb.credit) == CreditState.AVAILABLE
    assert not MakeupBooking.objects.filter(session=wb.session).exists()


def test_mkp_9_makeup_book_refuses_a_parent_whose_e_mail_is_not_confirmed(wb):
    wb.parent.email_confirmed_at = None
    wb.parent.save()
    with pytest.raises(DomainError, match="confirm your e-mail address") as refused:
        makeup_book(credit=wb.credit, session=wb.session, actor=wb.parent, now=NOW)
    assert refused.value.code == "unconfirmed"
    assert _state(wb.credit) == CreditState.AVAILABLE
    # Confirmed, the same parent books, and the booking names them.
    wb.parent.email_confirmed_at = NOW
    wb.parent.save()
    booking = makeup_book(credit=wb.credit, session=wb.session, actor=wb.parent, now=NOW)
    assert booking.source == "portal" and booking.booked_by == wb.parent


def test_mkp_9_a_parent_of_the_family_in_another_company_is_not_a_parent_here(wb):
    """The same login, a parent of a family of company B, can't book for company A's family."""
    stranger = f.GuardianFactory(family__company=wb.world.company_b).user
    with pytest.raises(DomainError) as refused:
        makeup_book(credit=wb.credit, session=wb.session, actor=stranger, now=NOW)
    assert refused.value.code == "not_parent"


# --- MKP-9 for watches: started by the family's own confirmed parent ---------------------


@pytest.mark.parametrize("who", [*OUTSIDERS, "an unconfirmed parent"])
def test_mkp_9_watch_create_needs_the_familys_confirmed_parent(wb, who):
    f.EnrolmentFactory.create_batch(2, klass=wb.host)  # full
    if who == "an unconfirmed parent":
        wb.parent.email_confirmed_at = None
        wb.parent.save()
        actor = wb.parent
    else:
        actor = _outsider(wb, who)
    with pytest.raises(DomainError) as refused:
        watch_create(credit=wb.credit, session=wb.session, actor=actor, now=NOW)
    assert refused.value.code in {"not_parent", "unconfirmed"}
    assert not SessionWatch.objects.filter(session=wb.session).exists()


def test_mkp_9_a_watch_booking_is_made_for_the_parent_who_started_the_watch(wb):
    f.EnrolmentFactory(klass=wb.host)
    other = f.EnrolmentFactory(klass=wb.home, student__date_of_birth=date(2020, 1, 1))
    guest = makeup_book(
        credit=_credit(other), session=wb.session, actor=f.parent_of(other), now=NOW
    )  # the second place: full
    watch = watch_create(credit=wb.credit, session=wb.session, actor=wb.parent, now=NOW)
    makeup_cancel(booking=guest, actor=None, now=NOW + timedelta(hours=1))
    watch.refresh_from_db()
    booking = MakeupBooking.objects.get(session=wb.session, state="booked")
    assert watch.state == SessionWatch.State.BOOKED and watch.booking == booking
    assert booking.source == "watch" and booking.booked_by == wb.parent
    assert _state(wb.credit) == CreditState.USED


def test_mkp_9_a_watch_booking_needs_that_students_active_watch_of_the_session(wb):
    """``source="watch"`` is not a way past the parent check: the booking needs the watch."""
    with pytest.raises(DomainError) as refused:
        makeup_book(credit=wb.credit, session=wb.session, source="watch", now=NOW)
    assert refused.value.code == "no_watch"
    f.EnrolmentFactory.create_batch(2, klass=wb.host)
    other = f.EnrolmentFactory(klass=wb.home, student__date_of_birth=date(2020, 1, 1))
    others_watch = watch_create(
        credit=_credit(other), session=wb.session, actor=f.parent_of(other), now=NOW
    )
    with pytest.raises(DomainError) as refused:
        makeup_book(
            credit=wb.credit, session=wb.session, source="watch", watch=others_watch, now=NOW
        )
    assert refused.value.code == "no_watch"
    assert _state(wb.credit) == CreditState.AVAILABLE


def test_mkp_9_a_watch_whose_parent_lost_access_ends_and_the_place_goes_on(wb):
    r1, _r2 = f.EnrolmentFactory.create_batch(2, klass=wb.host)
    first = watch_create(credit=wb.credit, session=wb.session, actor=wb.parent, now=NOW)
    other = f.EnrolmentFactory(klass=wb.home, student__date_of_birth=date(2020, 1, 1))
    second = watch_create(
        credit=_credit(other),
        session=wb.session,
        actor=f.parent_of(other),
        now=NOW + timedelta(minutes=5),
    )
    Guardian.objects.filter(user=wb.parent).update(user=None)  # the school unlinked the login
    r1.withdrawn_from = wb.session.local_date
    r1.save()
    watch_fill(session=wb.session, now=NOW + timedelta(hours=1))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == SessionWatch.State.ENDED
    assert "can no longer book for the family" in first.end_reason
    assert second.state == SessionWatch.State.BOOKED
    assert _state(wb.credit) == CreditState.AVAILABLE


# --- MKP-11, TEN-2: a staff booking needs a member of the credit's company -----------------


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN, Role.OWNER])
def test_mkp_11_staff_owners_and_admins_of_the_credits_company_book_for_a_family(wb, role):
    member = {
        Role.STAFF: wb.world.staff_a,
        Role.ADMIN: wb.world.admin_a,
        Role.OWNER: wb.world.owner_a,
    }[role]
    booking = makeup_book(
        credit=wb.credit, session=wb.session, actor=member, source="staff", now=NOW
    )
    assert booking.source == "staff" and booking.booked_by == member


@pytest.mark.parametrize("who", ["nobody", "the family's parent", "staff of another company"])
def test_mkp_11_a_staff_booking_by_anyone_else_is_refused(wb, who):
    actor = {
        "nobody": None,
        "the family's parent": wb.parent,
        "staff of another company": wb.world.staff_b,
    }[who]
    with pytest.raises(DomainError, match="Only staff of the family's school") as refused:
        makeup_book(
            credit=wb.credit,
            session=wb.session,
            actor=actor,
            source="staff",
            override_reason="Agreed with the owner",
            now=NOW,
        )
    assert refused.value.code == "not_staff"
    assert _state(wb.credit) == CreditState.AVAILABLE


# --- FRN-1: a credit is spent only at its own company or an approved partner --------------


def _foreign_session(wb, company):
    programme = f.ProgrammeFactory(
        company=company, code=wb.programme.code, accept_partner_makeups=True
    )
    klass = f.ClassFactory(programme=programme, min_age_months=None, max_age_months=None)
    return f.SessionFactory(klass=klass)


@pytest.mark.parametrize("scoped", [True, False])
@pytest.mark.parametrize("source", ["staff", "portal"])
def test_frn_1_a_session_of_an_unlinked_company_is_refused_whoever_books(wb, source, scoped):
    """In the credit's company's scope (a staff page) or with scoping lifted (the partner
    path), an unlinked company's session is refused with a clear reason, not a crash."""
    foreign = _foreign_session(wb, wb.world.company_b)
    actor = wb.world.staff_a if source == "staff" else wb.parent

    def book():
        return makeup_book(
            credit=wb.credit,
            session=foreign,
            actor=actor,
            source=source,
            override_reason="Please",
            now=NOW,
        )

    with pytest.raises(DomainError, match="not linked with the family's school") as refused:
        if scoped:
            book()
        else:
            with scopes_disabled():
                book()
    assert refused.value.code == "not_partner"
    assert _state(wb.credit) == CreditState.AVAILABLE


def test_frn_1_an_approved_partners_session_is_bookable_and_refused_once_the_link_ends(wb):
    foreign = _foreign_session(wb, wb.world.company_b)
    link = CompanyLink.objects.create(
        inviter=wb.company,
        invitee=wb.world.company_b,
        invitee_email="owner@beta.example",
        state=CompanyLink.State.ENDED,
        created_at=NOW,
    )
    with scopes_disabled(), pytest.raises(DomainError) as refused:
        makeup_book(
            credit=wb.credit,
            session=foreign,
            actor=wb.world.staff_a,
            source="staff",
            now=NOW,
        )
    assert refused.value.code == "not_partner"
    CompanyLink.objects.filter(pk=link.pk).update(state=CompanyLink.State.APPROVED)
    with scopes_disabled():
        booking = makeup_book(
            credit=wb.credit, session=foreign, actor=wb.world.staff_a, source="staff", now=NOW
        )
    assert booking.company_id == wb.world.company_b.pk
