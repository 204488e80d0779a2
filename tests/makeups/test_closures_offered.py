"""CLO-5: a closed day is never offered for a make-up — in the parent's search, on the staff
booking page, to a partner branch's families — and the booking and watch services refuse it;
"why isn't this session offered?" names the closure.

Ava (born 1 Jun 2020) of the Parker family (``world.parent_a``) has a credit of Swim Level 2.
Time is frozen on Sat 21 Nov 2026, 11:00 in Sydney (the companies' zone)."""

import re
from datetime import date, time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from bookings.models import Guardian, MakeupBooking
from credits.models import CreditState, MakeupCredit, SessionWatch
from franchise.selectors.partners import makeup_check, partner_candidates
from makeup.errors import DomainError
from makeups.selectors.eligibility import evaluate, makeup_candidates, with_occupancy
from makeups.selectors.staff import makeup_guest_options
from makeups.services import makeup_book, watch_create
from programmes.models import Session
from programmes.services import closure_create, closure_mark_removed
from tests import factories as f
from tests.franchise.conftest import link_companies

from .conftest import NOW, credit_for

pytestmark = pytest.mark.django_db

WEDNESDAY, THURSDAY = date(2026, 11, 25), date(2026, 11, 26)
SEARCH = "/portal/alpha/makeups/"


@pytest.fixture
def cl(world):
    """Ava's home class; Lake Sharks (Lake pool) with lessons Wed 25 Nov 16:00 and 18:00
    and Thu 26 Nov 16:00; River Rays (River pool) Wed 25 Nov 16:00 — all with room."""
    c = SimpleNamespace(world=world, company=world.company_a)
    c.programme = f.ProgrammeFactory(company=c.company, name="Swim Level 2", code="SWIM-L2")
    c.home = f.ClassFactory(programme=c.programme, name="Home Dolphins", location="Main pool")
    any_age = {"min_age_months": None, "max_age_months": None, "capacity": 2}
    c.lake = f.ClassFactory(
        programme=c.programme, name="Lake Sharks", location="Lake pool", **any_age
    )
    c.river = f.ClassFactory(
        programme=c.programme, name="River Rays", location="River pool", **any_age
    )
    with scopes_disabled():
        c.family = Guardian.objects.get(user=world.parent_a).family
    c.ava = f.EnrolmentFactory(
        klass=c.home,
        student__family=c.family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    c.closed = f.SessionFactory(klass=c.lake, local_date=WEDNESDAY, local_time=time(16))
    c.evening = f.SessionFactory(klass=c.lake, local_date=WEDNESDAY, local_time=time(18))
    c.thursday = f.SessionFactory(klass=c.lake, local_date=THURSDAY, local_time=time(16))
    c.river_session = f.SessionFactory(klass=c.river, local_date=WEDNESDAY, local_time=time(16))
    with scope(company=c.company):
        c.credit = credit_for(c.ava)
    return c


def _close(company, name="Pool maintenance", day=WEDNESDAY, **values):
    with scope(company=company):
        return closure_create(
            company=company, name=name, first_day=day, last_day=day, now=NOW, **values
        )


def _offered(cl, *, offered_only=True) -> set[int]:
    with scope(company=cl.company):
        candidates = makeup_candidates(credit=cl.credit, now=NOW, offered_only=offered_only)
    return {c.session.pk for c in candidates if c.bookable}


def _book_link(cl, session) -> str:
    return f"/portal/alpha/makeups/book/{cl.credit.pk}/{session.pk}/"


def _squashed(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def _checks(cl, session):
    with scope(company=cl.company):
        fresh = with_occupancy(Session.objects.filter(pk=session.pk)).get()
        return evaluate(student=cl.ava.student, credit=cl.credit, sessions=[fresh], now=NOW)[0]


# --- the parent's search ------------------------------------------------------------------------


def test_clo_5_the_portal_search_never_offers_a_closed_day(cl, login):
    client = login(cl.world.parent_a)
    page = client.get(SEARCH).content.decode()
    assert _book_link(cl, cl.closed) in page  # offered while the school is open
    _close(cl.company)
    page = client.get(SEARCH).content.decode()
    assert _book_link(cl, cl.closed) not in page
    assert _book_link(cl, cl.river_session) not in page  # every location
    assert _book_link(cl, cl.thursday) in page  # the next day is open
    assert "Pool maintenance" not in page  # left out, not listed as closed


def test_clo_5_a_part_day_closure_leaves_the_other_hours_offered(cl):
    _close(cl.company, start_time=time(15), end_time=time(17, 30))
    for offered_only in (True, False):
        offered = _offered(cl, offered_only=offered_only)
        assert cl.closed.pk not in offered and cl.river_session.pk not in offered
        assert {cl.evening.pk, cl.thursday.pk} <= offered


def test_clo_5_a_closure_of_one_location_leaves_the_others_offered(cl):
    _close(cl.company, locations=["Lake pool"])
    offered = _offered(cl)
    assert cl.closed.pk not in offered and cl.evening.pk not in offered
    assert {cl.river_session.pk, cl.thursday.pk} <= offered


def test_clo_5_a_closure_of_another_programme_leaves_this_one_offered(cl):
    other = f.ProgrammeFactory(company=cl.company)
    _close(cl.company, programmes=[other])
    assert cl.closed.pk in _offered(cl)
    _close(cl.company, name="Swim gala", programmes=[cl.programme])
    assert cl.closed.pk not in _offered(cl)


def test_clo_5_a_removed_closure_is_offered_again(cl):
    closure = _close(cl.company)
    assert cl.closed.pk not in _offered(cl)
    with scope(company=cl.company):
        closure_mark_removed(closure=closure, now=NOW)
    assert cl.closed.pk in _offered(cl)


def test_clo_5_another_companys_closure_closes_nothing_here(cl):
    _close(cl.world.company_b)
    assert cl.closed.pk in _offered(cl)


# --- staff: the booking list and "why isn't this session offered?" ---------------------------


def test_clo_5_the_staff_booking_list_leaves_out_a_closed_day(cl, login):
    _close(cl.company)
    client = login(cl.world.staff_a)
    url = reverse("manage:makeup_book", args=[cl.credit.pk])
    page = client.get(url).content.decode()
    assert f'id="session-{cl.thursday.pk}"' in page
    assert f'id="session-{cl.closed.pk}"' not in page
    # Chosen by hand (from a session page), it shows why nobody can book it.
    page = client.get(url, {"session": cl.closed.pk}).content.decode()
    assert "School open that day:</span> Closed: Pool maintenance" in page
    assert "(holds for everyone)" in page and "Staff can't book past this rule." in page
    response = client.post(
        url, {"session": cl.closed.pk, "override_reason": "The family asked"}, follow=True
    )
    assert "Not booked: Closed: Pool maintenance" in response.content.decode()
    with scope(company=cl.company):
        assert not MakeupBooking.objects.exists()


def test_clo_5_why_isnt_this_session_offered_names_the_closure(cl, login):
    _close(cl.company)
    client = login(cl.world.staff_a)
    url = reverse("manage:makeup_explain")
    page = _squashed(client.get(url, {"credit": cl.credit.pk, "session": cl.closed.pk}))
    assert "School open that day</th> <td>Closed: Pool maintenance</td>" in page
    assert "✗ Not offered: 1 check failed" in page
    page = _squashed(client.get(url, {"credit": cl.credit.pk, "session": cl.thursday.pk}))
    assert "School open that day</th> <td>No closure then.</td>" in page
    candidate = _checks(cl, cl.closed)
    assert [(c.rule, c.title, c.text) for c in candidate.failed] == [
        ("CLO-5", "School open that day", "Closed: Pool maintenance")
    ]
    assert not candidate.failed[0].overridable and not candidate.only_full


def test_clo_5_a_closed_session_is_no_guest_option_on_its_session_page(cl):
    _close(cl.company)
    with scope(company=cl.company):
        closed = makeup_guest_options(session=cl.closed, now=NOW)
        open_ = makeup_guest_options(session=cl.thursday, now=NOW)
    assert [(o.status, [c.text for c in o.failed]) for o in closed] == [
        ("blocked", ["Closed: Pool maintenance"])
    ]
    assert [o.status for o in open_] == ["bookable"]


# --- the services hold it ------------------------------------------------------------------------


def test_clo_5_the_booking_service_refuses_a_closed_session_whoever_books(cl):
    _close(cl.company)
    with scope(company=cl.company):
        with pytest.raises(DomainError, match="^Closed: Pool maintenance$"):
            makeup_book(
                credit=cl.credit,
                session=cl.closed,
                actor=cl.world.parent_a,
                source=MakeupBooking.Source.PORTAL,
                now=NOW,
            )
        with pytest.raises(DomainError, match="^Closed: Pool maintenance$"):
            makeup_book(
                credit=cl.credit,
                session=cl.closed,
                actor=cl.world.staff_a,
                source=MakeupBooking.Source.STAFF,
                override_reason="The family asked",
                now=NOW,
            )
        assert not MakeupBooking.objects.exists()
        assert MakeupCredit.objects.get(pk=cl.credit.pk).state == CreditState.AVAILABLE
        # The open day books as usual.
        booking = makeup_book(
            credit=cl.credit, session=cl.thursday, actor=cl.world.parent_a, now=NOW
        )
    assert booking.session == cl.thursday


def test_clo_5_a_full_closed_session_cannot_be_watched(cl):
    f.EnrolmentFactory.create_batch(2, klass=cl.lake, student__date_of_birth=date(2019, 1, 1))
    with scope(company=cl.company):
        assert _checks(cl, cl.closed).only_full  # full: it could be watched…
    _close(cl.company)
    with scope(company=cl.company):
        with pytest.raises(DomainError, match="Closed: Pool maintenance"):
            watch_create(credit=cl.credit, session=cl.closed, actor=cl.world.parent_a, now=NOW)
        assert not SessionWatch.objects.exists()


# --- a partner branch's families (FRN-5) ----------------------------------------------------------


@pytest.fixture
def partner(cl):
    """Beta, linked with Alpha, hosts SWIM-L2 guests at Lake Beta: Wed 25 and Thu 26 Nov."""
    beta = cl.world.company_b
    link_companies(cl.company, beta)
    programme = f.ProgrammeFactory(company=beta, code="SWIM-L2", accept_partner_makeups=True)
    klass = f.ClassFactory(
        programme=programme,
        name="Lake Beta",
        location="Lake pool",
        min_age_months=None,
        max_age_months=None,
    )
    return SimpleNamespace(
        company=beta,
        wednesday=f.SessionFactory(klass=klass, local_date=WEDNESDAY, local_time=time(16)),
        thursday=f.SessionFactory(klass=klass, local_date=THURSDAY, local_time=time(16)),
    )


def _partner_offered(cl) -> set[int]:
    with scope(company=cl.company):
        found = partner_candidates(credit=cl.credit, now=NOW, offered_only=True)
    return {c.session.pk for c in found if c.bookable}


def test_clo_5_a_partner_session_closed_by_its_host_is_never_offered(cl, partner, login):
    assert _partner_offered(cl) == {partner.wednesday.pk, partner.thursday.pk}
    # The family's own school closing on Thursday does not shut the partner's pool…
    _close(cl.company, name="Home pool repairs", day=THURSDAY)
    assert _partner_offered(cl) == {partner.wednesday.pk, partner.thursday.pk}
    # …the host closing on Wednesday does.
    _close(partner.company, name="Beta pool maintenance")
    assert _partner_offered(cl) == {partner.thursday.pk}
    page = login(cl.world.parent_a).get(SEARCH).content.decode()
    assert _book_link(cl, partner.thursday) in page
    assert _book_link(cl, partner.wednesday) not in page
    with scope(company=cl.company):
        check = makeup_check(credit=cl.credit, session=partner.wednesday, now=NOW)
        assert [c.text for c in check.failed] == ["Closed: Beta pool maintenance"]
        with pytest.raises(DomainError, match="Closed: Beta pool maintenance"):
            makeup_book(
                credit=cl.credit, session=partner.wednesday, actor=cl.world.parent_a, now=NOW
            )
    with scopes_disabled():
        assert not MakeupBooking.objects.exists()


# --- fixed query counts ---------------------------------------------------------------------------


def _more_closures(cl, n: int):
    others = [f.ProgrammeFactory(company=cl.company) for _ in range(3)]
    for i in range(n):
        _close(
            cl.company,
            name=f"Closure {i}",
            day=date(2026, 11, 27 + i % 3),
            programmes=others[: i % 3],
            locations=["Lake pool"] if i % 2 else [],
            start_time=time(8) if i % 4 == 0 else None,
            end_time=time(9) if i % 4 == 0 else None,
        )


def test_clo_5_pages_cost_the_same_with_1_or_20_closures(cl, login, page_queries):
    _close(cl.company)
    parent = login(cl.world.parent_a)
    few_search, _ = page_queries(parent, SEARCH)
    staff = login(cl.world.staff_a)
    book = reverse("manage:makeup_book", args=[cl.credit.pk])
    explain = f"{reverse('manage:makeup_explain')}?credit={cl.credit.pk}&session={cl.closed.pk}"
    few_staff = [page_queries(staff, url)[0] for url in (book, explain)]
    _more_closures(cl, 19)
    parent = login(cl.world.parent_a)
    many_search, response = page_queries(parent, SEARCH)
    assert _book_link(cl, cl.thursday) in response.content.decode()
    staff = login(cl.world.staff_a)
    many_staff = [page_queries(staff, url)[0] for url in (book, explain)]
    assert (many_search, many_staff) == (few_search, few_staff)


def test_clo_5_the_calendar_is_read_once_however_many_sessions(cl):
    _close(cl.company)
    _more_closures(cl, 5)

    def count(sessions) -> int:
        with scope(company=cl.company):
            fresh = list(with_occupancy(Session.objects.filter(pk__in=[s.pk for s in sessions])))
            with CaptureQueriesContext(connection) as queries:
                evaluate(student=cl.ava.student, credit=cl.credit, sessions=fresh, now=NOW)
        return len(queries.captured_queries)

    more = [f.SessionFactory(klass=cl.river, local_date=date(2026, 12, d)) for d in range(1, 11)]
    count([cl.thursday])  # the credit's own rows are read once, on first use
    assert count([cl.closed]) == count([cl.closed, cl.thursday, cl.river_session, *more])
