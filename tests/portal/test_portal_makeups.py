"""The parent's make-up pages: search (MKP-1…MKP-7 through the one eligibility function),
booking (MKP-9, MKP-10), cancelling a make-up (CRD-3), "Can't come" (POL-11, BEY-1),
watching a full session (BEY-2), and the family boundary (TEN-1)."""

from datetime import date, time, timedelta

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from bookings.models import Attendance, MakeupBooking
from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from credits.models import CancellationPolicy, CreditState, MakeupCredit, SessionWatch
from makeups.services import makeup_book, watch_create
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db


def _search(client, **params):
    return client.get("/portal/alpha/makeups/", params)


def _confirm_url(credit, session):
    return f"/portal/alpha/makeups/book/{credit.pk}/{session.pk}/"


def _state(model, pk):
    with scopes_disabled():
        return model.objects.get(pk=pk)


def _book(pf, credit=None, session=None):
    with scope(company=pf.company):
        return makeup_book(
            credit=credit or pf.credit,
            actor=f.parent_of(credit or pf.credit),
            session=session or pf.session,
            now=NOW,
        )


def _fill(klass, n=2):
    return f.EnrolmentFactory.create_batch(n, klass=klass, student__date_of_birth=date(2019, 1, 1))


# --- MKP-9: who may book ------------------------------------------------------------------


def test_mkp_9_booking_needs_the_parents_own_login(pf, client, login):
    url = _confirm_url(pf.credit, pf.session)
    anonymous = client.post(url, {"note": ""})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert "next=" in anonymous["Location"]
    search = client.get("/portal/alpha/makeups/")
    assert search.status_code == 302 and "next=/portal/alpha/makeups/" in search["Location"]
    # Staff of the school are not a parent of this family: nothing to find here.
    staff = login(pf.company and f.MembershipFactory(company=pf.company).user)
    assert staff.get("/portal/alpha/makeups/").status_code == 404
    assert staff.post(url, {"note": ""}).status_code == 404
    # A parent login that was never confirmed can't book (MKP-9).
    pf.user.email_confirmed_at = None
    pf.user.save()
    client = login(pf.user)
    refused = client.post(url, {"note": ""})
    assert "Please confirm your e-mail address" in refused.content.decode()
    assert _state(MakeupCredit, pf.credit.pk).state == CreditState.AVAILABLE
    pf.user.email_confirmed_at = NOW
    pf.user.save()
    booked = client.post(url, {"note": ""})
    assert booked.status_code == 302
    assert _state(MakeupCredit, pf.credit.pk).state == CreditState.USED


def test_mkp_9_the_soonest_expiring_credit_is_chosen_first(pf, login):
    soon = add_credit(pf.ava, days=10)
    response = _search(login(pf.user))
    assert response.context["credit"] == soon
    assert response.context["student"].first_name == "Ava"
    html = response.content.decode()
    field = html[html.index('id="credit-field"') :]
    assert field.index(f'value="{soon.pk}" selected') < field.index(f'value="{pf.credit.pk}"')
    # From the home page's "Book a make-up" link, that credit is preselected.
    assert _search(login(pf.user), credit=pf.credit.pk).context["credit"] == pf.credit


# --- the search ---------------------------------------------------------------------------


def test_mkp_2_search_lists_a_bookable_session_and_hides_one_for_another_age(pf, login):
    html = _search(login(pf.user)).content.decode()
    assert "Host Sharks" in html and "Wednesday 25 November" in html
    assert "2 places left" in html and "Lake pool" in html
    assert f'href="/portal/alpha/makeups/book/{pf.credit.pk}/{pf.session.pk}/"' in html
    assert _confirm_url(pf.credit, pf.session) in html
    assert "Little Starfish" not in html  # MKP-2: Ava is 6 y 5 m, the class is for 2–4 y
    assert "Home Dolphins" not in html  # MKP-6: her own class


def test_mkp_1_and_mkp_3_sessions_failing_other_rules_are_not_shown(pf, login):
    other_programme = f.ClassFactory(programme__company=pf.company, name="Other Programme")
    f.SessionFactory(klass=other_programme, local_date=date(2026, 11, 26))
    closed = f.ClassFactory(programme=pf.programme, name="Closed Class", allow_makeups=False)
    f.SessionFactory(klass=closed, local_date=date(2026, 11, 26))
    html = _search(login(pf.user)).content.decode()
    assert "Host Sharks" in html
    assert "Other Programme" not in html and "Closed Class" not in html


def test_search_filters_by_dates_weekday_and_time_of_day_in_local_time(pf, login):
    morning = f.SessionFactory(klass=pf.host, local_date=date(2026, 11, 26), local_time=time(9))
    evening = f.SessionFactory(klass=pf.host, local_date=date(2026, 11, 27), local_time=time(17))
    client = login(pf.user)

    def listed(**params):
        result = _search(client, **params).context["result"]
        return [c.session.pk for d in result.days for c in d.candidates]

    assert listed() == [pf.session.pk, morning.pk, evening.pk]
    assert listed(time_of_day="morning") == [morning.pk]
    assert listed(time_of_day="afternoon") == [pf.session.pk]  # 16:00 local (05:00 UTC)
    assert listed(time_of_day="evening") == [evening.pk]  # 17:00 is evening
    assert listed(weekday="3") == [morning.pk]  # Thursday
    assert listed(date_from="2026-11-26", date_to="2026-11-26") == [morning.pk]
    bad = _search(client, date_from="2026-11-27", date_to="2026-11-26")
    assert "The end date is before the start date" in bad.content.decode()


def test_search_updates_in_place_with_htmx_and_works_without(pf, login):
    client = login(pf.user)
    full_page = _search(client, weekday="2").content.decode()
    assert "<html" in full_page and 'hx-get="/portal/alpha/makeups/"' in full_page
    partial = client.get("/portal/alpha/makeups/", {"weekday": "2"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and 'id="makeup-results"' in html
    assert "Host Sharks" in html
    assert 'id="credit-field" hx-swap-oob="true"' in html  # the credit list follows the child


def test_search_pages_by_two_weeks_up_to_the_credits_expiry(pf, login):
    later = f.SessionFactory(klass=pf.host, local_date=date(2026, 12, 9), local_time=time(16))
    client = login(pf.user)
    first = _search(client)
    assert first.context["result"].end == date(2026, 12, 4)
    assert "Later sessions" in first.content.decode()
    assert f"slot-{later.pk}" not in first.content.decode()
    url = first.context["page_urls"]["later"]
    assert "date_from=2026-12-05" in url and f"credit={pf.credit.pk}" in url
    second = client.get(url)
    html = second.content.decode()
    assert f'id="slot-{later.pk}"' in html and "Earlier sessions" in html
    # The credit expires on Sun 20 Dec: the last page ends there.
    third = client.get(second.context["page_urls"]["later"])
    assert third.context["result"].end == date(2026, 12, 20)
    assert "later" not in third.context["page_urls"]


def test_home_links_each_credit_to_the_search_with_it_chosen(pf, login):
    html = login(pf.user).get("/portal/alpha/").content.decode()
    assert f'href="/portal/alpha/makeups/?credit={pf.credit.pk}"' in html


def test_search_with_a_spent_credit_says_so_and_offers_the_next_one(pf, login):
    _book(pf)
    other = add_credit(pf.ava, days=20)
    response = _search(login(pf.user), credit=pf.credit.pk)
    assert "That credit can&#x27;t be used any more" in response.content.decode()
    assert response.context["credit"] == other


def test_search_for_a_child_without_credits_says_so(pf, login):
    noah = f.StudentFactory(family=pf.family, first_name="Noah")
    html = _search(login(pf.user), student=noah.pk).content.decode()
    assert "Noah has no make-up credits to use right now" in html
    assert "Noah (no credits)" in html


# --- booking ------------------------------------------------------------------------------


def test_mkp_10_booking_spends_the_credit_keeps_the_note_and_emails_an_ics(
    pf, login, django_capture_on_commit_callbacks
):
    client = login(pf.user)
    page = client.get(_confirm_url(pf.credit, pf.session)).content.decode()
    assert "Book using a make-up credit" in page and "Wednesday 25 November 2026, 16:00" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _confirm_url(pf.credit, pf.session), {"note": "Make-up for missed lesson 17/11"}
        )
    assert response.status_code == 302
    with scopes_disabled():
        booking = MakeupBooking.objects.get(session=pf.session)
    assert response["Location"] == f"/portal/alpha/makeups/{booking.pk}/"
    assert booking.note == "Make-up for missed lesson 17/11"
    assert booking.source == "portal" and booking.booked_by == pf.user
    credit = _state(MakeupCredit, pf.credit.pk)
    assert credit.state == CreditState.USED and credit.booking_id == booking.pk
    assert len(mail.outbox) == 1
    assert [a[0] for a in mail.outbox[0].attachments] == ["make-up.ics"]
    assert "BEGIN:VCALENDAR" in mail.outbox[0].attachments[0][1]
    done = client.get(response["Location"]).content.decode()
    assert "We've e-mailed you a confirmation with a calendar invitation" in done
    home = client.get("/portal/alpha/").content.decode()
    assert f'id="makeup-{booking.pk}"' in home and "Make-up" in home and "Host Sharks" in home


def test_mkp_10_a_note_longer_than_200_characters_is_refused_and_kept(pf, login):
    response = login(pf.user).post(_confirm_url(pf.credit, pf.session), {"note": "x" * 201})
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert _state(MakeupCredit, pf.credit.pk).state == CreditState.AVAILABLE


def test_mkp_6_refusal_is_shown_and_nothing_is_lost(pf, login):
    _book(pf)
    second = add_credit(pf.ava)
    response = login(pf.user).post(_confirm_url(second, pf.session), {"note": "Keep me"})
    html = response.content.decode()
    assert response.status_code == 200 and "Not booked." in html
    assert "Ava is already in this session." in html
    assert _state(MakeupCredit, second.pk).state == CreditState.AVAILABLE
    # A session that has started is refused the same way.
    started = f.SessionFactory(klass=pf.host, local_date=date(2026, 11, 21), local_time=time(9))
    html = login(pf.user).post(_confirm_url(second, started), {"note": "Keep me"}).content
    assert b"Not booked." in html and b"The session has already started." in html
    assert b"See other sessions" in html


def test_mkp_8_busy_please_try_again_keeps_the_form(pf, login, monkeypatch):
    from makeup.errors import DomainError

    def busy(**kwargs):
        raise DomainError(
            "This session is busy right now: please try again in a moment.", code="busy"
        )

    monkeypatch.setattr("portal.views.makeups.makeup_book", busy)
    html = login(pf.user).post(_confirm_url(pf.credit, pf.session), {"note": "Keep me"})
    html = html.content.decode()
    assert "please try again in a moment" in html and "Nothing was booked or spent" in html
    assert 'value="Keep me"' in html and "Book using a make-up credit" in html


def test_mkp_7_full_session_offers_a_watch(pf, login):
    _fill(pf.host)
    client = login(pf.user)
    html = _search(client).content.decode()
    assert "Host Sharks" in html and "Full" in html
    assert "Watch for a free place" in html and "at most 2 per child" in html
    assert ">Book</a>" not in html
    # The watch button leads to the confirmation page, which offers the watch, not a booking.
    assert f'href="{_confirm_url(pf.credit, pf.session)}">Watch for a free place' in html
    page = client.get(_confirm_url(pf.credit, pf.session)).content.decode()
    assert "This session is full now" in page and "Book using a make-up credit" not in page
    assert 'action="/portal/alpha/watches/"' in page


def test_mkp_8_a_session_that_filled_meanwhile_is_refused_clearly(pf, login):
    client = login(pf.user)
    assert b"Book using a make-up credit" in client.get(_confirm_url(pf.credit, pf.session)).content
    _fill(pf.host)  # two other families took the places meanwhile
    html = client.post(_confirm_url(pf.credit, pf.session), {"note": "n"}).content.decode()
    assert "Not booked." in html and "2 of 2 places taken" in html
    assert "Watch for a free place" in html
    assert _state(MakeupCredit, pf.credit.pk).state == CreditState.AVAILABLE


# --- BEY-2: watching ----------------------------------------------------------------------


def test_bey_2_watch_from_the_portal(pf, login, django_capture_on_commit_callbacks):
    regulars = _fill(pf.host)
    later = [
        f.SessionFactory(klass=pf.host, local_date=pf.session.local_date + timedelta(weeks=w))
        for w in (1, 2)
    ]
    client = login(pf.user)
    response = client.post(
        "/portal/alpha/watches/", {"credit": pf.credit.pk, "session": pf.session.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/portal/alpha/makeups/?credit={pf.credit.pk}"
    with scopes_disabled():
        watch = SessionWatch.objects.get(session=pf.session, student=pf.ava.student)
    assert watch.state == SessionWatch.State.ACTIVE and watch.created_by == pf.user
    followed = client.get(response["Location"])
    assert "You&#x27;re watching Host Sharks" in followed.content.decode()
    assert "Watching" in followed.content.decode()
    client.post("/portal/alpha/watches/", {"credit": pf.credit.pk, "session": later[0].pk})
    third = client.post(
        "/portal/alpha/watches/", {"credit": pf.credit.pk, "session": later[1].pk}, follow=True
    )
    assert "Ava already watches 2 sessions: stop one first." in third.content.decode()
    home = client.get("/portal/alpha/").content.decode()
    assert "Watching for a free place" in home and f'id="watch-{watch.pk}"' in home
    # A regular cancels: Ava is booked automatically and the family is e-mailed.
    with scope(company=pf.company), django_capture_on_commit_callbacks(execute=True):
        attendance_set_state(
            enrolment=regulars[0],
            session=pf.session,
            state=S.CANCELLED,
            cancelled_at=NOW,
            now=NOW,
        )
    assert _state(SessionWatch, watch.pk).state == SessionWatch.State.BOOKED
    assert mail.outbox and mail.outbox[-1].attachments
    # Stop watching the other one.
    with scopes_disabled():
        other = SessionWatch.objects.get(session=later[0])
    stopped = client.post(f"/portal/alpha/watches/{other.pk}/stop/", follow=True)
    assert "no longer watching" in stopped.content.decode()
    other = _state(SessionWatch, other.pk)
    assert other.state == SessionWatch.State.ENDED and other.end_reason == "Stopped by the parent"


# --- CRD-3: cancelling a make-up ----------------------------------------------------------


def test_crd_3_cancel_makeup_on_time_in_the_portal(pf, login):
    booking = _book(pf)
    client = login(pf.user)
    home = client.get("/portal/alpha/").content.decode()
    assert "Cancel make-up" in home and "to get the credit back" in home
    response = client.post(f"/portal/alpha/makeups/{booking.pk}/cancel/", follow=True)
    html = response.content.decode()
    assert "Your credit is back, valid until 20 December 2026, 11:00" in html
    assert _state(MakeupCredit, pf.credit.pk).state == CreditState.AVAILABLE
    assert _state(MakeupBooking, booking.pk).state == MakeupBooking.State.CANCELLED


def test_crd_3_cancel_makeup_late_in_the_portal_keeps_the_credit_used(pf, login, frozen):
    booking = _book(pf)
    frozen.move_to(pf.session.starts_at - timedelta(hours=2))
    html = (
        login(pf.user)
        .post(f"/portal/alpha/makeups/{booking.pk}/cancel/", follow=True)
        .content.decode()
    )
    assert "Cancelled late: the credit stays used" in html
    assert _state(MakeupCredit, pf.credit.pk).state == CreditState.USED


# --- "Can't come": POL-11 and the receipt (BEY-1) ------------------------------------------


def _cant_come(client, pf, session):
    return client.post(f"/portal/alpha/lessons/{pf.ava.pk}/{session.pk}/cancel/", follow=True)


def _attendance(pf, session):
    with scopes_disabled():
        return Attendance.objects.filter(enrolment=pf.ava, session=session).first()


def test_pol_11_cant_come_on_time_gives_a_credit_shown_at_once(pf, login):
    client = login(pf.user)
    home = client.get("/portal/alpha/").content.decode()
    row = f'id="lesson-{pf.ava.pk}-{pf.lesson.pk}"'
    assert row in home and "Can't come" in home
    assert "On time if cancelled by Mon 23 Nov, 17:00" in home
    html = _cant_come(client, pf, pf.lesson).content.decode()
    # On time: 30 days from the cancellation (Sat 21 Nov 11:00 Sydney).
    assert "You&#x27;ll get a make-up credit valid until 21 December 2026, 11:00" in html
    assert _attendance(pf, pf.lesson).state == S.CANCELLED
    assert "Cancelled (on time)" in html and "Make-up credit issued" in html
    # A second tap changes nothing.
    again = _cant_come(client, pf, pf.lesson).content.decode()
    assert "already marked" in again
    assert _attendance(pf, pf.lesson).state == S.CANCELLED


def test_pol_11_cant_come_late_is_taken_without_a_credit(pf, login, frozen):
    frozen.move_to(pf.lesson.starts_at - timedelta(hours=2))
    html = _cant_come(login(pf.user), pf, pf.lesson).content.decode()
    assert "is cancelled (after the cut-off)." in html
    assert "No credit: cancelled after the cut-off" in html
    assert _attendance(pf, pf.lesson).state == S.LATE_CANCELLED


def test_pol_9_late_cancellation_corrected_to_present_leaves_no_stale_receipt(
    pf, login, frozen, world
):
    """The parent cancels late (no credit); staff correct the lesson to present: the home
    page no longer says "No credit: cancelled after the cut-off" for it."""
    frozen.move_to(pf.lesson.starts_at - timedelta(hours=2))
    client = login(pf.user)
    _cant_come(client, pf, pf.lesson)
    home = client.get("/portal/alpha/").content.decode()
    assert "No credit: cancelled after the cut-off" in home
    with scope(company=pf.company):
        attendance_set_state(
            enrolment=pf.ava,
            session=pf.lesson,
            state=S.PRESENT,
            actor=world.staff_a,
            now=pf.lesson.starts_at - timedelta(hours=1),
        )
    home = client.get("/portal/alpha/").content.decode()
    assert f'id="lesson-{pf.ava.pk}-{pf.lesson.pk}"' in home
    assert "No credit: cancelled after the cut-off" not in home


def test_pol_11_cant_come_late_refused_shows_the_companys_instructions(pf, login, frozen):
    with scope(company=pf.company):
        CancellationPolicy.objects.filter(programme=pf.programme).update(
            portal_late_cancellation="refuse",
            late_cancellation_instructions="Call us on 02 9999 0000.",
        )
    frozen.move_to(pf.lesson.starts_at - timedelta(hours=2))
    html = _cant_come(login(pf.user), pf, pf.lesson).content.decode()
    assert "Call us on 02 9999 0000." in html
    assert _attendance(pf, pf.lesson) is None  # still expected


# --- TEN-1: another family's ids ----------------------------------------------------------


@pytest.fixture
def other(pf):
    """Another family of the same company, with a credit, a booking and a watch."""
    guardian = f.GuardianFactory(family__company=pf.company, user__email="other@x.io")
    enrolment = f.EnrolmentFactory(
        klass=pf.home, student__family=guardian.family, student__date_of_birth=date(2020, 1, 1)
    )
    credit = add_credit(enrolment)
    spent = add_credit(enrolment)
    with scope(company=pf.company):
        booking = makeup_book(credit=spent, actor=f.parent_of(spent), session=pf.session, now=NOW)
    return enrolment, credit, booking


def test_ten_1_parent_cannot_book_with_another_familys_credit(pf, other, login):
    _, credit, _ = other
    client = login(pf.user)
    assert client.get(_confirm_url(credit, pf.session)).status_code == 404
    assert client.post(_confirm_url(credit, pf.session), {"note": ""}).status_code == 404
    assert _search(client, credit=credit.pk).status_code == 404
    assert _search(client, student=credit.enrolment.student_id).status_code == 404
    watch = client.post("/portal/alpha/watches/", {"credit": credit.pk, "session": pf.session.pk})
    assert watch.status_code == 404
    assert _state(MakeupCredit, credit.pk).state == CreditState.AVAILABLE


def test_ten_1_parent_cannot_cancel_another_familys_booking(pf, other, login):
    enrolment, _, booking = other
    client = login(pf.user)
    assert client.post(f"/portal/alpha/makeups/{booking.pk}/cancel/").status_code == 404
    assert client.get(f"/portal/alpha/makeups/{booking.pk}/").status_code == 404
    assert _state(MakeupBooking, booking.pk).state == MakeupBooking.State.BOOKED
    lesson = f"/portal/alpha/lessons/{enrolment.pk}/{pf.lesson.pk}/cancel/"
    assert client.post(lesson).status_code == 404
    with scopes_disabled():
        assert not Attendance.objects.filter(enrolment=enrolment).exists()


def test_ten_1_ids_of_another_company_or_class_are_404(pf, world, login):
    foreign = f.SessionFactory(klass__programme__company=world.company_b)
    client = login(pf.user)
    assert client.get(_confirm_url(pf.credit, foreign)).status_code == 404
    # Ava's enrolment with a session of another class.
    assert (
        client.post(f"/portal/alpha/lessons/{pf.ava.pk}/{pf.session.pk}/cancel/").status_code == 404
    )
    # The same parent's login in company B's portal is no family there.
    assert client.get("/portal/beta/makeups/").status_code == 404
    with scope(company=pf.company):
        watch = watch_create(
            credit=pf.credit, actor=f.parent_of(pf.credit), session=_full_session(pf), now=NOW
        )
    outsider = login(f.GuardianFactory(family__company=pf.company).user)
    assert outsider.post(f"/portal/alpha/watches/{watch.pk}/stop/").status_code == 404
    assert _state(SessionWatch, watch.pk).state == SessionWatch.State.ACTIVE


def _full_session(pf):
    session = f.SessionFactory(klass=pf.host, local_date=date(2026, 12, 2), local_time=time(16))
    _fill(pf.host)
    return session
