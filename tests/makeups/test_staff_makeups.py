"""Make-ups for staff through the back office: booking for a family with every check shown
and portal-only rules overridden with a reason (MKP-11), "why isn't this session offered?"
(MKP-12), cancelling (CRD-3), the family page's make-ups and watches (BEY-2)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from bookings.models import MakeupBooking
from credits.models import CreditState, MakeupCredit, SessionWatch
from credits.services import credit_add_manual
from makeups.selectors.eligibility import evaluate, with_occupancy
from makeups.services import makeup_book, watch_create
from programmes.models import Session
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


class Setup:
    pass


@pytest.fixture
def mk(world):
    """Ava (born 1 Jun 2020) of the Smith family is enrolled in a home class and holds a
    credit; a host class of the same programme (ages 5–8, capacity 2) has a session on
    Tue 24 Nov 17:00; a class starting Sat 28 Nov is offered for make-ups from Tue 24 Nov."""
    s = Setup()
    s.company = world.company_a
    s.programme = f.ProgrammeFactory(company=s.company, name="Swim Level 2")
    s.home = f.ClassFactory(programme=s.programme, name="Home class")
    s.host = f.ClassFactory(
        programme=s.programme,
        name="Host class",
        capacity=2,
        min_age_months=60,
        max_age_months=8 * 12 + 11,
    )
    s.family = f.FamilyFactory(company=s.company, name="Smith")
    s.ava = f.EnrolmentFactory(
        klass=s.home,
        student__family=s.family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    s.session = f.SessionFactory(klass=s.host)
    s.future = f.ClassFactory(
        programme=s.programme,
        name="Future class",
        start_date=date(2026, 11, 28),
        end_date=date(2027, 2, 1),
        min_age_months=None,
        max_age_months=None,
    )
    s.future_session = f.SessionFactory(
        klass=s.future, local_date=date(2026, 11, 28), local_time=time(9)
    )
    with scope(company=s.company):
        s.credit = _credit(s.ava)
    return s


def _credit(enrolment):
    return credit_add_manual(
        enrolment=enrolment, reason="test", actor=None, valid_days=30, now=NOW - timedelta(days=1)
    )


def _at(moment=NOW):
    return time_machine.travel(moment, tick=False)


def _book_url(mk, session=None):
    url = reverse("manage:makeup_book", args=[mk.credit.pk])
    return f"{url}?session={session.pk}" if session else url


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- MKP-11: booking for a family ---------------------------------------------------------


def test_mkp_11_staff_book_from_the_family_page_with_a_note(world, login, mk):
    client = login(world.staff_a)  # staff may book make-ups (TEN-2)
    with _at():
        family = _html(client.get(reverse("manage:family_detail", args=[mk.family.pk])))
        assert f'href="{_book_url(mk)}">Book a make-up</a>' in family
        page = _html(client.get(_book_url(mk)))
        # Every candidate session with every check, passed and failed.
        assert "Host class" in page and "Future class" in page
        assert "✓ Bookable" in page and "! Staff only, with a reason" in page
        assert "Ava will be 6 y 5 m on 24 Nov; the class is for 5y–8y 11m." in page
        assert "0 of 2 places taken (2 + 0 for make-ups)." in page
        assert "10 of 10 checks passed" in page
        assert "Offered for make-ups from Tue 24 Nov 2026, 00:00" in page
        assert "(staff may book past it with a reason)" in page
        response = client.post(
            _book_url(mk),
            {"session": mk.session.pk, "note": "Make-up for missed lesson 30/10"},
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:family_detail", args=[mk.family.pk])
    with scope(company=mk.company):
        booking = MakeupBooking.objects.get(session=mk.session)
    assert booking.source == "staff" and booking.booked_by == world.staff_a
    assert booking.note == "Make-up for missed lesson 30/10" and booking.override_reason == ""
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.USED and mk.credit.booking == booking


def test_mkp_11_an_override_needs_a_reason_which_is_stored_and_shown(world, login, mk):
    client = login(world.staff_a)
    with _at():
        page = _html(client.get(_book_url(mk, mk.future_session)))
        assert "Checking one session" in page and "Book with this reason" in page
        refused = _html(client.post(_book_url(mk), {"session": mk.future_session.pk}))
        assert "Give a reason to book past the portal&#x27;s rule: Offered for make-ups" in refused
        with scope(company=mk.company):
            assert not MakeupBooking.objects.exists()
        response = client.post(
            _book_url(mk),
            {
                "session": mk.future_session.pk,
                "note": "Catch-up before the holidays",
                "override_reason": "Family moving away; agreed with the owner",
            },
        )
        assert response.status_code == 302
        with scope(company=mk.company):
            booking = MakeupBooking.objects.get(session=mk.future_session)
        assert booking.override_reason.startswith("Family moving away; agreed with the owner")
        assert (
            "overrode: Offered for make-ups from Tue 24 Nov 2026, 00:00" in booking.override_reason
        )
        session_page = _html(
            client.get(reverse("manage:session_detail", args=[mk.future_session.pk]))
        )
        family_page = _html(client.get(reverse("manage:family_detail", args=[mk.family.pk])))
    for html in (session_page, family_page):
        assert "Family moving away; agreed with the owner" in html
        assert "Catch-up before the holidays" in html


def test_mkp_11_capacity_is_never_overridden(world, login, mk):
    f.EnrolmentFactory.create_batch(2, klass=mk.host)  # 2 of 2: full
    client = login(world.staff_a)
    with _at():
        page = _html(client.get(_book_url(mk, mk.session)))
        assert "✗ Not bookable" in page and "2 of 2 places taken" in page
        assert "(holds for everyone)" in page
        assert 'name="override_reason"' not in page  # no booking form for it
        refused = _html(
            client.post(
                _book_url(mk),
                {"session": mk.session.pk, "override_reason": "Please squeeze her in"},
            )
        )
    assert "Not booked: 2 of 2 places taken (2 + 0 for make-ups)." in refused  # the service's
    with scope(company=mk.company):
        assert not MakeupBooking.objects.exists()
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.AVAILABLE


def test_mkp_11_another_companys_session_is_not_found(world, login, mk):
    foreign = f.SessionFactory(klass__programme__company=world.company_b)
    client = login(world.staff_a)
    with _at():
        assert client.post(_book_url(mk), {"session": foreign.pk}).status_code == 404
        assert client.get(_book_url(mk, foreign)).status_code == 404


def test_mkp_11_a_used_credit_offers_nothing(world, login, mk):
    with scope(company=mk.company):
        makeup_book(credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW)
    with _at():
        page = _html(login(world.staff_a).get(_book_url(mk)))
    assert "This credit is used: it can't be spent on a make-up." in page
    assert "Book this make-up" not in page


def test_mkp_11_book_a_guest_from_the_session_page(world, login, mk):
    too_young = f.EnrolmentFactory(
        klass=mk.home, student__first_name="Tiny", student__date_of_birth=date(2022, 1, 1)
    )
    other_programme = f.EnrolmentFactory(
        klass__programme__company=mk.company, student__first_name="Elsewhere"
    )
    regular = f.EnrolmentFactory(klass=mk.host, student__first_name="Regular")
    with scope(company=mk.company):
        _credit(too_young)
        _credit(too_young)
        _credit(other_programme)
        _credit(regular)
    client = login(world.staff_a)
    with _at():
        session_page = _html(client.get(reverse("manage:session_detail", args=[mk.session.pk])))
        url = reverse("manage:makeup_guest_new", args=[mk.session.pk])
        assert f'href="{url}">Book a make-up guest</a>' in session_page
        page = _html(client.get(url))
    assert "Elsewhere" not in page  # a credit of another programme doesn't fit
    assert "Regular" not in page  # already in the session
    assert page.index("Ava") < page.index("Tiny")  # bookable first
    assert "Tiny will be 4 y 10 m on 24 Nov" in page and "+ 1 more credit" in page
    assert f"{reverse('manage:makeup_book', args=[mk.credit.pk])}?session={mk.session.pk}" in page


def test_mkp_11_guest_picker_costs_a_fixed_number_of_queries(world, login, mk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(world.staff_a)
    url = reverse("manage:makeup_guest_new", args=[mk.session.pk])

    def count():
        with _at(), CaptureQueriesContext(connection) as ctx:
            _html(client.get(url))
        return len(ctx.captured_queries)

    few = count()
    with scope(company=mk.company):
        for _ in range(8):
            _credit(f.EnrolmentFactory(klass=mk.home, student__date_of_birth=date(2019, 1, 1)))
    assert count() == few


# --- MKP-12: why isn't this session offered? ----------------------------------------------


def _explain(client, **params):
    with _at():
        return client.get(reverse("manage:makeup_explain"), params)


def test_mkp_12_every_check_with_its_figures_passed_and_failed(world, login, mk):
    f.EnrolmentFactory.create_batch(2, klass=mk.host)  # full
    client = login(world.staff_a)
    html = _html(_explain(client, credit=mk.credit.pk, session=mk.session.pk))
    with scope(company=mk.company):
        session = with_occupancy(Session.objects.filter(pk=mk.session.pk)).get()
        checks = evaluate(student=mk.ava.student, credit=mk.credit, sessions=[session], now=NOW)[
            0
        ].checks
    # Exactly the portal's checks, each with its text.
    assert [c.rule for c in checks] == [
        "CRD-1",
        "CRD-4",
        "MKP-1",
        "MKP-2",
        "MKP-3",
        "MKP-4",
        "MKP-5",
        "MKP-6",
        "CLO-5",
        "MKP-7",
    ]
    for check in checks:
        assert check.text in html.replace("&#x27;", "'")
    assert html.count("✓ Passed") == 9 and html.count("✗ Failed") == 1
    assert "✗ Not offered: 1 check failed" in html
    assert "Ava will be 6 y 5 m on 24 Nov; the class is for 5y–8y 11m." in html  # ages
    assert "2 of 2 places taken (2 + 0 for make-ups)." in html  # places
    assert "The credit is available until Sun 20 Dec 2026, 11:00." in html  # dates
    assert "Starts Tue 24 Nov 2026, 17:00, before the credit expires." in html


def test_mkp_12_a_lead_time_failure_can_be_booked_by_staff(world, login, mk):
    html = _html(_explain(login(world.staff_a), credit=mk.credit.pk, session=mk.future_session.pk))
    assert "! Not offered in the portal: 1 check failed. Staff may still book it" in html
    assert f"{_book_url(mk, mk.future_session)}" in html


def test_mkp_12_staff_pick_the_credit_and_the_session(world, login, mk):
    client = login(world.staff_a)
    html = _html(_explain(client, session=mk.session.pk))  # from the session page's link
    assert f'href="?credit={mk.credit.pk}&amp;session={mk.session.pk}">Ava' in html
    html = _html(_explain(client, credit=mk.credit.pk, date="2026-11-24"))
    assert f"?credit={mk.credit.pk}&amp;session={mk.session.pk}" in html
    assert "Host class" in html


def test_day_3_the_credit_picker_is_a_search(world, login, mk, page_queries):
    """The credits to explain are found by the student's name (with a typo, without
    accents); only usable credits are listed, the session's programme first; with htmx the
    list alone answers, and the page costs the same with more credits."""
    with scope(company=mk.company):
        zofie = f.EnrolmentFactory(
            klass=f.ClassFactory(programme__company=mk.company),
            student__first_name="Žofie",
            student__last_name="Dvořáková",
        )
        other_programme = credit_add_manual(
            enrolment=zofie, reason="test", actor=None, valid_days=30, now=NOW
        )
        spent = credit_add_manual(
            enrolment=zofie, reason="test", actor=None, valid_days=30, now=NOW
        )
        MakeupCredit.objects.filter(pk=spent.pk).update(state=CreditState.USED)
    client = login(world.staff_a)
    with _at():
        html = _html(client.get(reverse("manage:makeup_explain"), {"session": mk.session.pk}))
        assert html.index(f"?credit={mk.credit.pk}&amp;") < html.index(
            f"?credit={other_programme.pk}&amp;"
        )
        assert f"?credit={spent.pk}&amp;" not in html
        for typed in ("zofie", "Dvorakova", "dvorakvoa"):
            html = _html(
                client.get(
                    reverse("manage:makeup_explain"),
                    {"credit_q": typed, "session": mk.session.pk},
                )
            )
            assert f"?credit={other_programme.pk}&amp;session={mk.session.pk}" in html, typed
            assert f"?credit={mk.credit.pk}&amp;" not in html, typed
        part = _html(
            client.get(
                reverse("manage:makeup_explain"),
                {"credit_q": "ava"},
                headers={"HX-Request": "true"},
            )
        )
        assert "<html" not in part and f"?credit={mk.credit.pk}" in part
        url = reverse("manage:makeup_explain") + "?credit_q=dvorakova"
        few, _ = page_queries(client, url)
        with scope(company=mk.company):
            for _ in range(5):
                credit_add_manual(
                    enrolment=zofie, reason="test", actor=None, valid_days=30, now=NOW
                )
        many, _ = page_queries(client, url)
    assert few == many


def test_ten_1_explain_answers_404_for_another_companys_credit_or_session(world, login, mk):
    client = login(world.staff_b)
    assert _explain(client, credit=mk.credit.pk).status_code == 404
    assert _explain(client, session=mk.session.pk).status_code == 404


def test_ten_2_parents_stay_out_of_staff_make_up_pages(world, login, mk):
    client = login(world.parent_a)
    assert client.get(_book_url(mk)).status_code == 403
    assert _explain(client).status_code == 403


# --- CRD-3: staff cancel ------------------------------------------------------------------


def _cancel(client, booking, **data):
    return client.post(reverse("manage:makeup_cancel", args=[booking.pk]), data, follow=True)


def test_crd_3_staff_cancel_on_time_returns_the_credit(world, login, mk):
    with scope(company=mk.company):
        booking = makeup_book(
            credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
        )
    client = login(world.staff_a)
    session_url = reverse("manage:session_detail", args=[mk.session.pk])
    with _at():
        assert "Cancel this make-up…" in _html(client.get(session_url))
        response = _cancel(client, booking, next=session_url)
    assert response.redirect_chain[-1][0] == session_url
    assert "On time: the credit is available again." in response.content.decode()
    mk.credit.refresh_from_db()
    booking.refresh_from_db()
    assert mk.credit.state == CreditState.AVAILABLE and booking.state == "cancelled"
    assert booking.cancelled_by == world.staff_a


def test_crd_3_staff_cancel_late_keeps_the_credit_used(world, login, mk):
    with scope(company=mk.company):
        booking = makeup_book(
            credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
        )
    client = login(world.staff_a)
    with _at(mk.session.starts_at - timedelta(hours=2)):
        response = _cancel(client, booking)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("manage:family_detail", args=[mk.family.pk])
    assert "Cancelled late: the credit stays used" in html
    assert "late: credit stayed used" in html  # the family page's past make-ups
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.USED


def test_crd_3_the_time_the_family_told_us_decides(world, login, mk):
    """Staff enter the cancellation the day after the family phoned on time."""
    with scope(company=mk.company):
        booking = makeup_book(
            credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
        )
    client = login(world.staff_a)
    with _at(mk.session.starts_at - timedelta(hours=2)):
        response = _cancel(client, booking, cancelled_at="2026-11-22T10:00")  # Sydney time
    assert "the credit is available again" in response.content.decode()
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.AVAILABLE


def test_crd_3_a_started_make_up_cannot_be_cancelled(world, login, mk):
    with scope(company=mk.company):
        booking = makeup_book(
            credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
        )
    with _at(mk.session.starts_at + timedelta(minutes=5)):
        response = _cancel(login(world.staff_a), booking)
    assert "already started" in response.content.decode()
    booking.refresh_from_db()
    assert booking.state == "booked"


# --- the family page: make-ups and watches -------------------------------------------------


def test_family_page_lists_make_ups_upcoming_and_past(world, login, mk):
    from bookings.services import makeup_set_attendance

    past_session = f.SessionFactory(klass=mk.host, local_date=date(2026, 11, 17))
    with scope(company=mk.company):
        earlier = makeup_book(
            credit=_credit(mk.ava),
            actor=f.parent_of(mk.ava),
            session=past_session,
            note="Last week's catch-up",
            now=datetime(2026, 11, 10, tzinfo=UTC),
        )
        makeup_set_attendance(now=timezone.now(), booking=earlier, state="present")
        makeup_book(
            credit=mk.credit,
            actor=f.parent_of(mk.credit),
            session=mk.session,
            note="Next week's",
            now=NOW,
        )
    with _at():
        html = _html(login(world.staff_a).get(reverse("manage:family_detail", args=[mk.family.pk])))
    assert html.index("Next week&#x27;s") < html.index("Last week&#x27;s catch-up")
    assert "Upcoming" in html and "✓ Present" in html
    assert "Cancel make-up" in html


def test_bey_2_family_page_lists_watches_and_staff_stop_one(world, login, mk):
    f.EnrolmentFactory.create_batch(2, klass=mk.host)  # full
    with scope(company=mk.company):
        watch = watch_create(
            credit=mk.credit, actor=f.parent_of(mk.credit), session=mk.session, now=NOW
        )
    client = login(world.staff_a)
    family_url = reverse("manage:family_detail", args=[mk.family.pk])
    with _at():
        html = _html(client.get(family_url))
        assert "Watched full sessions" in html and "Stop watching" in html
        response = client.post(reverse("manage:watch_stop", args=[watch.pk]), follow=True)
    assert response.redirect_chain[-1][0] == family_url
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.ENDED and "(staff)" in watch.end_reason
    mk.credit.refresh_from_db()
    assert mk.credit.state == CreditState.AVAILABLE
