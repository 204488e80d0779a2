"""WAL-2 in the back office: staff move a family's booked make-up (a guest of a session) to
another session — from the family page or the session's attendance list — with every check
shown, past the family's deadline or a portal-only rule only with a reason, never past
capacity; the freed place goes to the watch list."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scope

from bookings.models import MakeupBooking
from credits.models import CreditEvent, SessionWatch
from makeups.services import makeup_book, watch_create
from tests import factories as f

from .conftest import NOW, ava_and_host, credit_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def sm(world):
    """Ava's make-up booked by her parent on Tue 24 Nov 17:00 in Host (2 places); Host also
    meets Thu 26 Nov 17:00; a class starting Sat 5 Dec is offered for make-ups from 1 Dec."""
    w = ava_and_host(world, home="Home", host="Host")
    w.other = f.SessionFactory(klass=w.host, local_date=date(2026, 11, 26))
    w.later = f.ClassFactory(
        programme=w.programme,
        name="Later class",
        start_date=date(2026, 12, 5),
        end_date=date(2027, 2, 1),
        min_age_months=None,
        max_age_months=None,
    )
    w.later_session = f.SessionFactory(
        klass=w.later, local_date=date(2026, 12, 5), local_time=time(9)
    )
    with scope(company=w.company):
        w.credit = credit_for(w.ava)
        w.booking = makeup_book(credit=w.credit, session=w.session, actor=w.parent, now=NOW)
    return w


def _url(booking) -> str:
    return reverse("manage:makeup_move", args=[booking.pk])


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _at(moment=NOW):
    return time_machine.travel(moment, tick=False)


def _booking(sm) -> MakeupBooking:
    with scope(company=sm.company):
        return MakeupBooking.objects.get(pk=sm.booking.pk)


def test_wal_2_staff_move_a_guest_from_the_family_page(world, login, sm):
    client = login(world.staff_a)
    family_url = reverse("manage:family_detail", args=[sm.family.pk])
    with _at():
        family = _html(client.get(family_url))
        assert f'href="{_url(sm.booking)}?next=' in family and "Move…" in family
        page = _html(client.get(_url(sm.booking)))
        assert "Now booked: <strong>Host</strong>, Tue 24 Nov 2026, 17:00." in page
        assert "The family can move it themselves until Mon 23 Nov 2026, 17:00." in page
        assert f'id="session-{sm.other.pk}"' in page
        assert f'id="session-{sm.session.pk}"' not in page  # where it is now
        assert "The credit moves with the make-up" in page  # the credit check, passed
        assert "! Staff only, with a reason" in page  # the later class: lead time
        response = client.post(
            _url(sm.booking),
            {"session": sm.other.pk, "family_message": "See you Thursday", "next": family_url},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == family_url
    assert "Ava&#x27;s make-up on Tue 24 Nov, 17:00 is moved to Host on Thu 26 Nov, 17:00." in (
        response.content.decode()
    )
    booking = _booking(sm)
    assert booking.session_id == sm.other.pk and booking.family_message == "See you Thursday"
    with scope(company=sm.company):
        event = CreditEvent.objects.get(credit=sm.credit, kind=CreditEvent.Kind.MOVED)
    assert event.actor == world.staff_a


def test_wal_2_staff_move_from_the_session_page_and_the_place_goes_to_a_watcher(world, login, sm):
    f.EnrolmentFactory(klass=sm.host)  # Tue is full now: the regular and Ava
    with scope(company=sm.company):
        ben = f.EnrolmentFactory(klass=sm.home, student__first_name="Ben")
        watch_create(credit=credit_for(ben), session=sm.session, actor=f.parent_of(ben), now=NOW)
    client = login(world.staff_a)
    session_url = reverse("manage:session_detail", args=[sm.session.pk])
    with _at():
        assert f'href="{_url(sm.booking)}?next=' in _html(client.get(session_url))
        response = client.post(
            _url(sm.booking), {"session": sm.other.pk, "next": session_url}, follow=True
        )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == session_url
    assert "The freed place went to Ben" in html
    with scope(company=sm.company):
        assert SessionWatch.objects.get(student=ben.student).state == SessionWatch.State.BOOKED


def test_wal_2_staff_past_the_deadline_or_the_lead_time_need_a_reason(world, login, sm):
    client = login(world.staff_a)
    late = sm.session.starts_at - timedelta(hours=3)
    with _at(late):
        page = _html(client.get(_url(sm.booking)))
        assert "The family's deadline for changes passed on Mon 23 Nov 2026, 17:00" in page
        assert "Move here with this reason" in page
        refused = _html(client.post(_url(sm.booking), {"session": sm.other.pk}))
        assert "Not moved: Past the family&#x27;s deadline for changes" in refused
        assert _booking(sm).session_id == sm.session.pk
        client.post(_url(sm.booking), {"session": sm.other.pk, "override_reason": "Mum phoned"})
    booking = _booking(sm)
    assert booking.session_id == sm.other.pk
    assert booking.override_reason.startswith("Mum phoned (overrode: Past the family")
    with _at():
        refused = _html(client.post(_url(booking), {"session": sm.later_session.pk}))
        assert "Give a reason to move past the portal&#x27;s rule" in refused
        client.post(_url(booking), {"session": sm.later_session.pk, "override_reason": "Trial"})
    assert _booking(sm).session_id == sm.later_session.pk


def test_wal_2_staff_never_move_past_capacity(world, login, sm):
    f.EnrolmentFactory.create_batch(2, klass=sm.host, start_date=date(2026, 11, 25))
    client = login(world.staff_a)
    with _at():
        page = _html(client.get(_url(sm.booking)))
        assert "Staff can't move past this rule." in page
        refused = _html(
            client.post(_url(sm.booking), {"session": sm.other.pk, "override_reason": "please"})
        )
    assert "2 of 2 places taken" in refused
    assert _booking(sm).session_id == sm.session.pk


def test_wal_2_another_companys_staff_find_nothing(world, login, sm):
    client = login(world.staff_b)
    assert client.get(_url(sm.booking)).status_code == 404
    assert client.post(_url(sm.booking), {"session": sm.other.pk}).status_code == 404
    foreign = f.SessionFactory(klass=f.ClassFactory(programme__company=world.company_b))
    response = login(world.staff_a).post(_url(sm.booking), {"session": foreign.pk})
    assert response.status_code == 404
    assert _booking(sm).session_id == sm.session.pk
