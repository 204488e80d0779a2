"""Make-ups across companies (FRN-1…FRN-7, TEN-1): Ava's family is at Alpha (home); Beta
is a partner branch hosting SWIM-L2 classes. Time is frozen on Sat 21 Nov 2026, 11:00 in
Sydney (both companies' zone)."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState, MakeupBooking
from bookings.services import session_cancel
from credits.models import CancellationPolicy, CreditState, MakeupCredit
from credits.services import credit_add_manual
from franchise.models import CompanyLink, IncomingRestriction
from franchise.selectors.partners import makeup_check, partner_candidates
from makeup.errors import DomainError
from makeups.services import makeup_book
from tests import factories as f

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _credit(enrolment, days=30):
    with scope(company=enrolment.company):
        return credit_add_manual(
            enrolment=enrolment,
            reason="Compensation",
            actor=None,
            valid_days=days,
            now=NOW - timedelta(days=1),
        )


def _link(a, b, state=CompanyLink.State.APPROVED):
    return CompanyLink.objects.create(
        inviter=a, invitee=b, invitee_email="owner@beta.example", state=state, created_at=NOW
    )


@pytest.fixture
def fr(world, frozen):
    from types import SimpleNamespace

    from bookings.models import Guardian

    x = SimpleNamespace(home=world.company_a, host=world.company_b)
    for company, address in ((x.home, "1 River Rd"), (x.host, "9 Lake St, Lakeside")):
        company.timezone, company.address = "Australia/Sydney", address
        company.save()
    with scopes_disabled():
        x.guardian = Guardian.objects.select_related("family").get(user=world.parent_a)
    x.guardian.phone = "0400 111 222"
    x.guardian.save()
    x.family = x.guardian.family
    x.home_programme = f.ProgrammeFactory(company=x.home, name="Swim Level 2", code="SWIM-L2")
    x.home_class = f.ClassFactory(programme=x.home_programme, name="River Dolphins")
    x.ava = f.EnrolmentFactory(
        klass=x.home_class,
        student__family=x.family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    x.host_programme = f.ProgrammeFactory(
        company=x.host, name="Level 2", code="SWIM-L2", accept_partner_makeups=True
    )
    x.host_class = f.ClassFactory(
        programme=x.host_programme,
        name="Lake Sharks",
        capacity=3,
        min_age_months=60,
        max_age_months=10 * 12,
        location="Lake pool",
    )
    x.session = f.SessionFactory(
        klass=x.host_class, local_date=date(2026, 11, 25), local_time=time(16)
    )
    x.credit = _credit(x.ava)
    x.link = _link(x.home, x.host)
    return x


def _offered(fr, credit=None):
    with scope(company=fr.home):
        found = partner_candidates(credit=credit or fr.credit, now=NOW, offered_only=True)
    return [c for c in found if c.bookable]


def _search(client):
    return client.get("/portal/alpha/makeups/").content.decode()


# --- FRN-6: one list with the branch's name and address ---------------------------------


def test_frn_6_partner_sessions_show_in_the_portal_search_with_branch_and_address(fr, login):
    html = _search(login(fr.guardian.user))
    assert "Lake Sharks" in html
    assert "Partner branch" in html and fr.host.name in html and "9 Lake St, Lakeside" in html
    assert f"/portal/alpha/makeups/book/{fr.credit.pk}/{fr.session.pk}/" in html


def test_frn_6_own_and_partner_sessions_are_one_list_in_time_order(fr, login):
    own = f.ClassFactory(programme=fr.home_programme, name="River Seals")
    f.SessionFactory(klass=own, local_date=date(2026, 11, 24), local_time=time(9))
    f.SessionFactory(klass=own, local_date=date(2026, 11, 26), local_time=time(9))
    html = _search(login(fr.guardian.user))
    first, partner, last = (
        html.index("Tue 24 Nov") if "Tue 24 Nov" in html else html.index("Tuesday 24"),
        html.index("Lake Sharks"),
        html.index("Thursday 26"),
    )
    assert first < partner < last


# --- FRN-1: only an approved link offers anything ----------------------------------------


@pytest.mark.parametrize(
    "state",
    [CompanyLink.State.PENDING, CompanyLink.State.DECLINED, CompanyLink.State.ENDED],
)
def test_frn_1_a_pending_declined_or_ended_link_offers_nothing(fr, login, state):
    CompanyLink.objects.filter(pk=fr.link.pk).update(state=state)
    assert _offered(fr) == []
    assert "Lake Sharks" not in _search(login(fr.guardian.user))
    # Nor can the confirmation page be reached by typing the address (TEN-1).
    url = f"/portal/alpha/makeups/book/{fr.credit.pk}/{fr.session.pk}/"
    assert login(fr.guardian.user).get(url).status_code == 404


def test_frn_1_the_link_works_whichever_side_invited(fr):
    CompanyLink.objects.filter(pk=fr.link.pk).update(inviter=fr.host, invitee=fr.home)
    assert [c.session for c in _offered(fr)] == [fr.session]


def test_frn_1_a_booking_made_stays_when_the_link_ends(fr):
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    CompanyLink.objects.filter(pk=fr.link.pk).update(state=CompanyLink.State.ENDED)
    with scopes_disabled():
        assert MakeupBooking.objects.get(pk=booking.pk).state == MakeupBooking.State.BOOKED


# --- FRN-2 / FRN-4: the switch and the shared code ---------------------------------------


def test_frn_2_a_programme_with_the_switch_off_offers_nothing(fr):
    fr.host_programme.accept_partner_makeups = False
    fr.host_programme.save()
    assert _offered(fr) == []
    with scope(company=fr.home):
        checks = makeup_check(credit=fr.credit, session=fr.session, now=NOW)
    assert "FRN-2" in {c.rule for c in checks.failed}
    assert "takes no make-ups from other companies" in " ".join(checks.reasons)


def test_frn_4_programmes_match_by_the_shared_code_only(fr):
    other = f.ProgrammeFactory(company=fr.host, code="SWIM-L3", accept_partner_makeups=True)
    elsewhere = f.ClassFactory(programme=other, min_age_months=60, max_age_months=120)
    wrong = f.SessionFactory(klass=elsewhere, local_date=date(2026, 11, 25))
    assert [c.session for c in _offered(fr)] == [fr.session]
    with scope(company=fr.home):
        check = makeup_check(credit=fr.credit, session=wrong, now=NOW)
    assert [c.rule for c in check.failed] == ["MKP-1"]
    assert "has code SWIM-L3, the credit's programme SWIM-L2" in check.failed[0].text


def test_frn_4_a_programme_without_a_code_matches_nothing_abroad(fr):
    fr.home_programme.code = ""
    fr.home_programme.save()
    assert _offered(fr) == []


# --- FRN-3: incoming restrictions ---------------------------------------------------------


def _terms(fr, **values):
    with scope(company=fr.host):
        terms = IncomingRestriction.objects.create(company=fr.host, partner=fr.home, **values)
    return terms


def test_frn_3_only_the_chosen_programmes_take_guests(fr):
    terms = _terms(fr)
    other = f.ProgrammeFactory(company=fr.host, code="SWIM-L9")
    with scope(company=fr.host):
        terms.programmes.set([other])
    assert _offered(fr) == []
    with scope(company=fr.host):
        terms.programmes.set([fr.host_programme])
    assert [c.session for c in _offered(fr)] == [fr.session]


def test_frn_3_the_guest_cap_per_session(fr):
    _terms(fr, max_guests_per_session=1)
    sibling = f.EnrolmentFactory(
        klass=fr.home_class, student__family=fr.family, student__date_of_birth=date(2020, 1, 1)
    )
    with scope(company=fr.home):
        makeup_book(
            credit=_credit(sibling), actor=f.parent_of(sibling), session=fr.session, now=NOW
        )
        check = makeup_check(credit=fr.credit, session=fr.session, now=NOW)
        assert [c.text for c in check.failed] == [
            "1 of 1 places for guests from partner branches taken."
        ]
        assert not check.only_full  # a partner's cap is not a place to watch
        with pytest.raises(DomainError, match="1 of 1 places for guests"):
            makeup_book(credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW)


def test_frn_3_how_far_ahead_a_guest_may_book_to_the_minute(fr):
    _terms(fr, max_days_ahead=4)  # the session starts Wed 25 Nov 16:00, 4 days 5 hours ahead
    assert _offered(fr) == []
    with scope(company=fr.home):
        at_the_edge = fr.session.starts_at - timedelta(days=4)
        assert makeup_check(credit=fr.credit, session=fr.session, now=at_the_edge).bookable
        late = at_the_edge - timedelta(minutes=1)
        assert not makeup_check(credit=fr.credit, session=fr.session, now=late).bookable


# --- FRN-5: every MKP rule on the host's class --------------------------------------------


def test_frn_5_the_host_class_age_range_and_capacity_decide(fr):
    fr.host_class.min_age_months = 8 * 12
    fr.host_class.save()
    assert _offered(fr) == []
    fr.host_class.min_age_months = 60
    fr.host_class.capacity = 1
    fr.host_class.save()
    f.EnrolmentFactory(klass=fr.host_class, student__date_of_birth=date(2019, 1, 1))
    with scope(company=fr.home):
        check = makeup_check(credit=fr.credit, session=fr.session, now=NOW)
    assert [c.rule for c in check.failed] == ["MKP-7"]


def test_frn_5_the_host_companys_lead_days_apply(fr):
    fr.host_class.start_date = date(2026, 11, 30)
    fr.host_class.save()
    later = f.SessionFactory(klass=fr.host_class, local_date=date(2026, 12, 2))
    fr.host.settings.makeup_lead_days = 2
    fr.host.settings.save()
    with scope(company=fr.home):
        check = makeup_check(credit=fr.credit, session=later, now=NOW)
    assert [c.rule for c in check.failed] == ["MKP-5"]
    assert "2 days before the class starts" in check.failed[0].text


def test_frn_5_booking_at_a_partner_through_the_portal(
    fr, login, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(fr.guardian.user)
    url = f"/portal/alpha/makeups/book/{fr.credit.pk}/{fr.session.pk}/"
    page = client.get(url).content.decode()
    assert "our partner branch" in page and "9 Lake St" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"note": "Missed Tuesday"})
    assert response.status_code == 302
    with scopes_disabled():
        booking = MakeupBooking.objects.get(student=fr.ava.student)
        credit = MakeupCredit.objects.get(pk=fr.credit.pk)
    assert (booking.company_id, booking.home_company_id) == (fr.host.pk, fr.home.pk)
    assert credit.state == CreditState.USED and credit.booking_id == booking.pk
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [fr.guardian.email] and "Lake Sharks" in mail.body
    assert fr.host.name in mail.body and "a partner branch" in mail.body
    assert "/portal/alpha/" in mail.body
    booked = client.get(response["Location"]).content.decode()
    assert "Make-up booked" in booked and "At our partner branch" in booked


# --- FRN-7: what each side sees -------------------------------------------------------------


def test_frn_7_the_home_family_sees_the_partner_booking_and_cancels_it(fr, login):
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    client = login(fr.guardian.user)
    home = client.get("/portal/alpha/").content.decode()
    assert f'id="makeup-{booking.pk}"' in home and "At our partner branch" in home
    response = client.post(f"/portal/alpha/makeups/{booking.pk}/cancel/", follow=True)
    assert "Your credit is back" in response.content.decode()
    with scopes_disabled():
        assert MakeupBooking.objects.get(pk=booking.pk).state == MakeupBooking.State.CANCELLED
        assert MakeupCredit.objects.get(pk=fr.credit.pk).state == CreditState.AVAILABLE


def test_day_5_partner_make_up_card_says_cancel_by_the_hosts_cut_off(fr, login):
    """The card of a make-up at a partner says until when cancelling gives the credit back,
    by the host programme's policy (48 hours), not the home one's (2 hours)."""
    with scopes_disabled():
        for programme, hours in ((fr.host_programme, 48), (fr.home_programme, 2)):
            CancellationPolicy.objects.filter(programme=programme).update(hours_before=hours)
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    home = login(fr.guardian.user).get("/portal/alpha/").content.decode()
    card = home[home.index(f'id="makeup-{booking.pk}"') :]
    card = card[: card.index("</li>")]
    assert "At our partner branch" in card
    assert "Cancel by Mon 23 Nov, 16:00 to get the credit back." in card


def test_frn_7_home_and_partner_make_ups_on_the_home_page_are_read_once(fr, login):
    """The home page lists a make-up at home and one at the partner, each with its own
    school's cut-off, from one read of the family's bookings (issue 20: the page is the
    busiest a parent opens)."""
    home_session = f.SessionFactory(
        klass=f.ClassFactory(programme=fr.home_programme, name="River Seals"),
        local_date=date(2026, 11, 26),
        local_time=time(9),
    )
    second = _credit(fr.ava)
    with scope(company=fr.home):
        away = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
        at_home = makeup_book(
            credit=second, actor=f.parent_of(second), session=home_session, now=NOW
        )
    client = login(fr.guardian.user)
    with CaptureQueriesContext(connection) as ctx:
        home = client.get("/portal/alpha/").content.decode()
    assert f'id="makeup-{away.pk}"' in home and f'id="makeup-{at_home.pk}"' in home
    assert "At our partner branch" in home and "River Seals" in home
    reads = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('SELECT "bookings_makeupbooking"."id"')
    ]
    assert len(reads) == 1, reads


def test_frn_7_another_family_cannot_cancel_it(fr, login):
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    stranger = f.GuardianFactory(family__company=fr.home)
    response = login(stranger.user).post(f"/portal/alpha/makeups/{booking.pk}/cancel/")
    assert response.status_code == 404


def test_frn_7_the_host_sees_name_age_parent_contact_and_home_branch_only(fr, world, login):
    with scope(company=fr.home):
        makeup_book(
            credit=fr.credit,
            actor=f.parent_of(fr.credit),
            session=fr.session,
            note="From River",
            now=NOW,
        )
    page = login(world.staff_b).get(f"/manage/sessions/{fr.session.pk}/").content.decode()
    assert "Ava" in page and "6 years old" in page
    assert f"Guest from {fr.home.name}" in page
    assert fr.guardian.email in page and "0400 111 222" in page
    # Nothing else of the guest's family: not its name, page, credits or balance.
    assert f"{fr.family.name} family" not in page
    assert f"/manage/families/{fr.family.pk}/" not in page
    assert "Compensation" not in page and "valid until" not in page and "due" not in page


def test_ten_1_host_staff_get_404_for_the_guest_familys_pages_with_an_approved_link(
    fr, world, login
):
    with scope(company=fr.home):
        makeup_book(credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW)
    client = login(world.owner_b)
    student = fr.ava.student
    for url in (
        f"/manage/families/{fr.family.pk}/",
        f"/manage/families/{fr.family.pk}/edit/",
        f"/manage/students/{student.pk}/edit/",
        f"/manage/parents/{fr.guardian.pk}/edit/",
        f"/manage/enrolments/{fr.ava.pk}/withdraw/",
        f"/manage/enrolments/{fr.ava.pk}/credits/new/",
        f"/manage/credits/{fr.credit.pk}/makeup/",
    ):
        assert client.get(url).status_code == 404, url


def test_ten_1_home_staff_get_404_for_the_hosts_session_page(fr, world, login):
    with scope(company=fr.home):
        makeup_book(credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW)
    assert login(world.staff_a).get(f"/manage/sessions/{fr.session.pk}/").status_code == 404


# --- the host's own actions on a guest ------------------------------------------------------


def test_crd_3_the_host_cancelling_the_session_gives_the_guests_credit_back(fr, world):
    with scope(company=fr.home):
        makeup_book(credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW)
    with scope(company=fr.host):
        session_cancel(session=fr.session, reason="Pool closed", actor=world.owner_b, now=NOW)
    with scopes_disabled():
        credit = MakeupCredit.objects.get(pk=fr.credit.pk)
    assert credit.state == CreditState.AVAILABLE


def test_mkp_10_the_host_takes_the_guests_attendance(fr, world, login):
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    client = login(world.staff_b)
    url = f"/manage/sessions/{fr.session.pk}/makeups/{booking.pk}/attendance/"
    response = client.post(url, {"state": AttendanceState.PRESENT})
    assert response.status_code in (200, 302)
    with scopes_disabled():
        assert MakeupBooking.objects.get(pk=booking.pk).attendance_state == "present"


# --- MKP-8 / FRN-3 under concurrency (PostgreSQL) --------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_frn_3_the_guest_cap_holds_under_concurrent_bookings(world):
    home, host = world.company_a, world.company_b
    programme = f.ProgrammeFactory(company=home, code="SWIM-L2")
    home_class = f.ClassFactory(programme=programme)
    host_programme = f.ProgrammeFactory(company=host, code="SWIM-L2", accept_partner_makeups=True)
    host_class = f.ClassFactory(
        programme=host_programme, capacity=10, price_per_session=Decimal("30")
    )
    session = f.SessionFactory(klass=host_class, local_date=timezone_today() + timedelta(days=3))
    _link(home, host)
    with scope(company=host):
        IncomingRestriction.objects.create(company=host, partner=home, max_guests_per_session=1)
    credits = [
        _credit(f.EnrolmentFactory(klass=home_class, student__date_of_birth=date(2020, 1, 1)))
        for _ in range(8)
    ]
    parents = {credit.pk: f.parent_of(credit) for credit in credits}
    barrier = threading.Barrier(len(credits))
    outcomes: list[str] = []

    def book(credit):
        try:
            barrier.wait()
            with scope(company=home):
                makeup_book(
                    credit=credit, actor=parents[credit.pk], session=session, now=timezone.now()
                )
            outcomes.append("booked")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(c,)) for c in credits]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("booked") == 1, outcomes
    refusals = [o for o in outcomes if o != "booked"]
    assert all("1 of 1 places for guests" in o for o in refusals), refusals
    with scopes_disabled():
        assert MakeupBooking.objects.filter(session=session).count() == 1
        used = MakeupCredit.objects.filter(pk__in=[c.pk for c in credits], state="used")
        assert used.count() == 1


def timezone_today():
    return timezone.localdate()


def test_wal_2_a_family_moves_a_partner_make_up_home_and_back_by_the_hosts_cut_off(fr, login):
    """WAL-2 across companies: the make-up at Beta moves to a home session and back from
    the portal; the deadline is the host programme's (Beta's 48 hours) while it is at Beta."""
    with scopes_disabled():
        CancellationPolicy.objects.filter(programme=fr.host_programme).update(hours_before=48)
    own = f.ClassFactory(programme=fr.home_programme, name="River Seals", min_age_months=None)
    home_session = f.SessionFactory(klass=own, local_date=date(2026, 11, 26), local_time=time(9))
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    client = login(fr.guardian.user)
    url = f"/portal/alpha/makeups/{booking.pk}/move/"
    page = client.get(url).content.decode()
    assert "until Mon 23 Nov, 16:00" in page and f'id="slot-{home_session.pk}"' in page
    response = client.post(url, {"session": home_session.pk}, follow=True)
    assert "moved to Thu 26 Nov, 09:00" in response.content.decode()
    with scopes_disabled():
        moved = MakeupBooking.objects.get(pk=booking.pk)
        assert (moved.session_id, moved.company_id) == (home_session.pk, fr.home.pk)
        assert MakeupCredit.objects.get(pk=fr.credit.pk).state == CreditState.USED
    page = client.get(url).content.decode()
    assert f'id="slot-{fr.session.pk}"' in page and "Partner branch" in page
    client.post(url, {"session": fr.session.pk})
    with scopes_disabled():
        back = MakeupBooking.objects.get(pk=booking.pk)
    assert (back.session_id, back.company_id) == (fr.session.pk, fr.host.pk)
    # Past Beta's cut-off (Mon 23 Nov 16:00) the move is refused, whatever home's policy says.
    with time_machine.travel(datetime(2026, 11, 23, 5, 0, 1, tzinfo=UTC), tick=False):
        refused = client.post(url, {"session": home_session.pk}, follow=True)
    assert "too late to move this make-up online" in refused.content.decode()
    with scopes_disabled():
        assert MakeupBooking.objects.get(pk=booking.pk).session_id == fr.session.pk
