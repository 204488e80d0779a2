"""Private calendar feeds (issue 9, item 6): a family's lessons and make-ups (also at partner
branches, FRN-7) and an instructor's classes, at a secret address that calendar apps fetch
without a login (TEN-1: the token is the only key; another family's lessons never show).
Ava (Parker family, Alpha) has lessons on Tue 24 Nov and Tue 1 Dec at 17:00 Sydney time;
time is frozen on Sat 21 Nov 2026."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState, CalendarFeed
from bookings.services import attendance_set_state, feed_for_family, session_cancel
from franchise.models import CompanyLink
from makeup.models import Membership
from makeups.services import makeup_book
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db


def _unfold(body: str) -> str:
    return body.replace("\r\n ", "")


def _events(body: str) -> list[str]:
    """Each VEVENT of the feed, unfolded, as one string."""
    return [chunk.split("END:VEVENT")[0] for chunk in _unfold(body).split("BEGIN:VEVENT")[1:]]


def _event(body: str, summary: str) -> str:
    found = [e for e in _events(body) if f"\r\nSUMMARY:{summary}\r\n" in e]
    assert len(found) == 1, f"{summary!r} in {[e for e in _events(body)]}"
    return found[0]


def _family_feed(family) -> CalendarFeed:
    with scope(company=family.company):
        return feed_for_family(family=family)


def _get(client, feed_or_token):
    token = getattr(feed_or_token, "token", feed_or_token)
    return client.get(f"/calendar/{token}.ics")


def _partner_makeup(pf):
    """Beta, an approved partner, hosts a make-up of Ava's on Thu 26 Nov 16:00."""
    beta = f.CompanyFactory(name="Beta Lakes", slug="beta-lakes", address="9 Lake St\r\nLakeside")
    programme = f.ProgrammeFactory(
        company=beta, code=pf.programme.code, accept_partner_makeups=True
    )
    klass = f.ClassFactory(programme=programme, name="Lake Sharks", location="Lake pool")
    session = f.SessionFactory(klass=klass, local_date=date(2026, 11, 26), local_time=time(16))
    CompanyLink.objects.create(
        inviter=pf.company,
        invitee=beta,
        invitee_email="owner@beta.example",
        state=CompanyLink.State.APPROVED,
        created_at=NOW,
    )
    with scope(company=pf.company):
        booking = makeup_book(
            credit=add_credit(pf.ava), actor=f.parent_of(pf.ava), session=session, now=NOW
        )
    assert booking.company_id == beta.pk
    return session


@pytest.fixture
def lessons(pf):
    """Ava cancels 24 Nov; the school cancels 1 Dec; 8 Dec is a plain lesson; a make-up at
    home (Wed 25 Nov, Host Sharks) and one at a partner; lessons outside the window."""
    pf.plain = f.SessionFactory(klass=pf.home, local_date=date(2026, 12, 8))
    pf.too_old = f.SessionFactory(klass=pf.home, local_date=date(2026, 10, 13))
    pf.too_far = f.SessionFactory(klass=pf.home, local_date=date(2027, 4, 6))
    with scope(company=pf.company):
        attendance_set_state(
            enrolment=pf.ava,
            session=pf.lesson,
            state=AttendanceState.CANCELLED,
            cancelled_at=NOW,
            now=NOW,
        )
        session_cancel(session=pf.next_lesson, reason="Pool closed for repairs", now=NOW)
        makeup_book(credit=pf.credit, actor=f.parent_of(pf.credit), session=pf.session, now=NOW)
    pf.partner_session = _partner_makeup(pf)
    # Another family of Alpha in the same class, with a make-up of its own.
    pf.other = f.EnrolmentFactory(
        klass=pf.home, student__first_name="Zed", student__date_of_birth=date(2020, 1, 1)
    )
    with scope(company=pf.company):
        makeup_book(
            credit=add_credit(pf.other), actor=f.parent_of(pf.other), session=pf.session, now=NOW
        )
    return pf


# --- the family feed -----------------------------------------------------------------------


def test_family_feed_has_regular_lessons_and_makeups_at_home_and_at_partners(lessons, client):
    body = _get(client, _family_feed(lessons.family)).content.decode()
    plain = _event(body, "Ava: Home Dolphins")
    assert f"UID:session-{lessons.plain.pk}-student-{lessons.ava.student_id}@" in plain
    assert "DTSTART:20261208T060000Z" in plain and "DTEND:20261208T063000Z" in plain
    assert "LOCATION:Main pool\\, Alpha Swim" in plain
    assert "STATUS:CONFIRMED" in plain
    home = _event(body, "Ava: make-up — Host Sharks")
    assert "DTSTART:20261125T050000Z" in home and "LOCATION:Lake pool\\, Alpha Swim" in home
    assert f"UID:session-{lessons.session.pk}-student-{lessons.ava.student_id}@" in home
    partner = _event(body, "Ava: make-up — Lake Sharks")
    assert "DTSTART:20261126T050000Z" in partner
    assert "LOCATION:Lake pool\\, Beta Lakes\\, 9 Lake St\\, Lakeside" in partner
    assert "partner branch" in partner
    assert len(_events(body)) == 5  # 3 lessons in the window, 2 make-ups


def test_family_feed_marks_lessons_cancelled_by_the_child_or_the_school(lessons, client):
    body = _get(client, _family_feed(lessons.family)).content.decode()
    by_child, by_school = (
        [e for e in _events(body) if f"DTSTART:{day}T060000Z" in e][0]
        for day in ("20261124", "20261201")
    )
    for event in (by_child, by_school):
        assert "SUMMARY:Cancelled: Ava: Home Dolphins" in event
        assert "STATUS:CANCELLED" in event
    assert "Ava is not coming" in by_child
    assert "Cancelled by Alpha Swim: Pool closed for repairs" in by_school


def test_family_feed_shows_nothing_of_another_family_nor_outside_the_window(lessons, client):
    body = _get(client, _family_feed(lessons.family)).content.decode()
    assert "Zed" not in body
    assert "20261013" not in body and "20270406" not in body
    other = _get(client, _family_feed(lessons.other.student.family)).content.decode()
    assert "Ava" not in other and "Lake Sharks" not in other
    assert "SUMMARY:Zed: make-up — Host Sharks" in _unfold(other)


def test_a_withdrawn_childs_later_lessons_leave_the_feed(lessons, client):
    lessons.ava.withdrawn_from = date(2026, 12, 2)
    lessons.ava.save()
    body = _get(client, _family_feed(lessons.family)).content.decode()
    assert "20261208" not in body and "20261124T060000Z" in body


def test_feed_is_valid_looking_icalendar_with_crlf_and_folded_lines(pf, client):
    pf.company.address = "1 River Rd\r\nRiverside NSW 2000\r\nAustralia"
    pf.company.save()
    pf.home.name = "Home Dolphins — Tuesday late afternoon squad for confident swimmers"
    pf.home.location = "Main pool, lanes 1 to 4 (the deep end; bring goggles and a cap)"
    pf.home.save()
    response = _get(client, _family_feed(pf.family))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["Content-Disposition"] == 'attachment; filename="alpha-calendar.ics"'
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "") and "\r" not in body.replace("\r\n", "")
    lines = body.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines), "nothing was long enough to fold"
    unfolded = _unfold(body)
    assert "LOCATION:Main pool\\, lanes 1 to 4 (the deep end\\; bring goggles and a cap)" in (
        unfolded
    )
    assert "Alpha Swim\\, 1 River Rd\\, Riverside NSW 2000\\, Australia" in unfolded
    assert unfolded.count("BEGIN:VEVENT") == unfolded.count("END:VEVENT") == 2
    for event in _events(body):
        for field in ("UID:", "DTSTAMP:", "DTSTART:", "DTEND:", "SUMMARY:"):
            assert f"\r\n{field}" in event


def test_family_feed_costs_the_same_queries_for_one_lesson_and_many(lessons, client):
    small = f.EnrolmentFactory(
        klass=f.ClassFactory(programme=lessons.programme),
        student__date_of_birth=date(2020, 1, 1),
    )
    f.SessionFactory(klass=small.klass, local_date=date(2026, 11, 23))
    for week in range(3, 12):
        f.SessionFactory(klass=lessons.home, local_date=date(2026, 11, 24) + timedelta(weeks=week))
    sibling = f.EnrolmentFactory(
        klass=lessons.host, student__family=lessons.family, student__date_of_birth=date(2020, 1, 1)
    )
    f.SessionFactory(klass=lessons.host, local_date=date(2026, 12, 2), local_time=time(16))
    big_feed, small_feed = _family_feed(lessons.family), _family_feed(small.student.family)
    counts = []
    for feed in (small_feed, big_feed):
        with CaptureQueriesContext(connection) as ctx:
            body = _get(client, feed).content.decode()
        counts.append(len(ctx.captured_queries))
        assert body.count("BEGIN:VEVENT") >= 1
    assert _unfold(body).count("BEGIN:VEVENT") > 10 and sibling.student.first_name in body
    assert counts[0] == counts[1], counts


def test_unknown_token_answers_404(pf, client):
    feed = _family_feed(pf.family)
    assert _get(client, "x" * 43).status_code == 404
    assert _get(client, feed.token[:-1]).status_code == 404
    assert _get(client, feed.token + "x" * 100).status_code == 404
    assert _get(client, feed).status_code == 200


# --- the portal: the link and its reset ----------------------------------------------------


def test_portal_home_offers_the_link_then_shows_it_with_webcal(pf, login):
    client = login(pf.user)
    html = client.get("/portal/alpha/").content.decode()
    assert "Add your lessons to your calendar" in html and "Get my calendar link" in html
    response = client.post("/portal/alpha/calendar/reset/")
    assert response.status_code == 302 and response["Location"] == "/portal/alpha/#calendar"
    with scopes_disabled():
        feed = CalendarFeed.objects.get(family=pf.family)
    assert len(feed.token) >= 43
    html = client.get("/portal/alpha/").content.decode()
    assert f'value="http://testserver/calendar/{feed.token}.ics"' in html
    assert f'href="webcal://testserver/calendar/{feed.token}.ics"' in html
    assert "Reset the link" in html and "old link stops working" in html


def test_reset_replaces_the_address_and_the_old_one_answers_404(pf, login):
    old = _family_feed(pf.family)
    client = login(pf.user)
    assert client.post("/portal/alpha/calendar/reset/").status_code == 302
    with scopes_disabled():
        new = CalendarFeed.objects.get(pk=old.pk)
    assert new.token != old.token and new.reset_at is not None
    html = client.get("/portal/alpha/").content.decode()
    assert new.token in html and old.token not in html
    assert "The old link no longer works" in html
    assert _get(client, old).status_code == 404
    assert _get(client, new).status_code == 200


def test_reset_needs_post_login_and_csrf(pf, login):
    feed = _family_feed(pf.family)
    url = "/portal/alpha/calendar/reset/"
    anonymous = Client()
    response = anonymous.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert login(pf.user).get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(pf.user, backend="django.contrib.auth.backends.ModelBackend")
    assert strict.post(url).status_code == 403
    with scopes_disabled():
        assert CalendarFeed.objects.get(pk=feed.pk).token == feed.token


def test_another_companys_parent_resets_only_their_own_feed(pf, world, login):
    ours = _family_feed(pf.family)
    beta_parent = f.GuardianFactory(family__company=world.company_b)
    client = login(beta_parent.user)
    assert client.post("/portal/beta/calendar/reset/").status_code == 302
    assert client.post("/portal/alpha/calendar/reset/").status_code == 404
    with scopes_disabled():
        assert CalendarFeed.objects.get(pk=ours.pk).token == ours.token
        theirs = CalendarFeed.objects.get(family=beta_parent.family)
    assert theirs.company_id == world.company_b.pk
    # A staff member of Alpha is no parent there: nothing to reset.
    assert login(world.staff_a).post("/portal/alpha/calendar/reset/").status_code == 404


# --- the instructor feed -------------------------------------------------------------------


@pytest.fixture
def teaching(pf, world):
    """staff_a teaches Home Dolphins and Evening Seals at Alpha; Host Sharks has another
    instructor; a Beta class also names staff_a (data from elsewhere must not leak in)."""
    pf.home.instructor = world.staff_a
    pf.home.save()
    pf.seals = f.ClassFactory(
        programme=pf.programme, name="Evening Seals", instructor=world.staff_a
    )
    pf.seals_session = f.SessionFactory(klass=pf.seals, local_date=date(2026, 11, 23))
    pf.host.instructor = world.admin_a
    pf.host.save()
    beta_class = f.ClassFactory(
        programme__company=world.company_b, name="Beta Otters", instructor=world.staff_a
    )
    f.SessionFactory(klass=beta_class, local_date=date(2026, 11, 23))
    with scope(company=pf.company):
        session_cancel(session=pf.next_lesson, reason="Pool closed", now=NOW)
    return pf


def test_instructor_feed_has_only_their_classes_sessions_in_that_company(teaching, world, login):
    client = login(world.staff_a)
    assert "Get my calendar link" in client.get("/manage/my-calendar/").content.decode()
    assert client.post("/manage/my-calendar/reset/").status_code == 302
    with scopes_disabled():
        feed = CalendarFeed.objects.get(user=world.staff_a)
    assert feed.company_id == world.company_a.pk and feed.family_id is None
    page = client.get("/manage/my-calendar/").content.decode()
    assert f"http://testserver/calendar/{feed.token}.ics" in page
    assert f"webcal://testserver/calendar/{feed.token}.ics" in page
    assert "Evening Seals" in page and "Host Sharks" not in page
    body = _unfold(_get(Client(), feed).content.decode())
    summaries = sorted(line for line in body.split("\r\n") if line.startswith("SUMMARY:"))
    assert summaries == [
        "SUMMARY:Cancelled: Home Dolphins",
        "SUMMARY:Evening Seals",
        "SUMMARY:Home Dolphins",
    ]
    assert f"UID:session-{teaching.seals_session.pk}@" in body
    assert "Beta Otters" not in body and "Host Sharks" not in body
    cancelled = _event(body, "Cancelled: Home Dolphins")
    assert "STATUS:CANCELLED" in cancelled and "Pool closed" in cancelled
    assert "LOCATION:Main pool\\, Alpha Swim" in _event(body, "Home Dolphins")


def test_instructor_reset_and_leaving_the_company_end_the_old_address(teaching, world, login):
    client = login(world.staff_a)
    client.post("/manage/my-calendar/reset/")
    with scopes_disabled():
        first = CalendarFeed.objects.get(user=world.staff_a)
    assert client.get("/manage/my-calendar/reset/").status_code == 405
    client.post("/manage/my-calendar/reset/")
    with scopes_disabled():
        second = CalendarFeed.objects.get(user=world.staff_a)
    assert second.pk == first.pk and second.token != first.token
    assert _get(client, first).status_code == 404
    assert _get(client, second).status_code == 200
    Membership.objects.filter(user=world.staff_a, company=world.company_a).delete()
    assert _get(client, second).status_code == 404


def test_my_calendar_is_for_staff_only(teaching, world, login):
    assert Client().get("/manage/my-calendar/").status_code == 302
    assert login(world.parent_a).get("/manage/my-calendar/").status_code == 403
    assert login(world.staff_b).get("/manage/my-calendar/").status_code == 200
    client = login(world.staff_b)
    client.post("/manage/my-calendar/reset/")
    with scopes_disabled():
        feed = CalendarFeed.objects.get(user=world.staff_b)
    assert feed.company_id == world.company_b.pk
    assert "BEGIN:VEVENT" not in _get(client, feed).content.decode()


def test_instructor_feed_costs_the_same_queries_for_one_session_and_many(teaching, world, login):
    one = f.MembershipFactory(company=world.company_a).user
    f.SessionFactory(
        klass=f.ClassFactory(programme=teaching.programme, instructor=one),
        local_date=date(2026, 11, 23),
    )
    for week in range(3, 12):
        f.SessionFactory(klass=teaching.home, local_date=date(2026, 11, 24) + timedelta(weeks=week))
    counts = []
    for user in (one, world.staff_a):
        login(user).post("/manage/my-calendar/reset/")
        with scopes_disabled():
            feed = CalendarFeed.objects.get(user=user)
        with CaptureQueriesContext(connection) as ctx:
            assert _get(Client(), feed).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
