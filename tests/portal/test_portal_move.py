"""WAL-2 in the portal: a parent moves a booked make-up to another session from the home page
— the page lists where the credit can go, "Move here" moves it in one step; past the cut-off
the page shows the company's instructions; another family's make-up is never reachable; the
page costs a fixed number of queries."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import TestCase
from django_scopes import scope, scopes_disabled

from bookings.models import MakeupBooking
from credits.models import CancellationPolicy, CreditEvent, CreditState, MakeupCredit
from credits.tasks import send_lesson_reminders
from makeups.services import makeup_book
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db

SYDNEY = ZoneInfo("Australia/Sydney")


def _move_url(booking) -> str:
    return f"/portal/alpha/makeups/{booking.pk}/move/"


def _booking(pk) -> MakeupBooking:
    with scopes_disabled():
        return MakeupBooking.objects.get(pk=pk)


@pytest.fixture
def booked(pf):
    """Ava's make-up on Wed 25 Nov 16:00 (Host); Host also meets Thu 26 Nov 16:00."""
    pf.other = f.SessionFactory(klass=pf.host, local_date=date(2026, 11, 26), local_time=time(16))
    with scope(company=pf.company):
        pf.booking = makeup_book(credit=pf.credit, session=pf.session, actor=pf.user, now=NOW)
    return pf


def test_wal_2_the_home_page_offers_move_on_a_booked_make_up(booked, login):
    html = login(booked.user).get("/portal/alpha/").content.decode()
    assert f'href="{_move_url(booked.booking)}"' in html
    assert "Cancel make-up" in html


def test_wal_2_a_parent_moves_a_make_up_in_one_step(booked, login):
    client = login(booked.user)
    page = client.get(_move_url(booked.booking))
    html = page.content.decode()
    assert "Move Ava's make-up" in html
    assert f'id="slot-{booked.other.pk}"' in html
    assert f'id="slot-{booked.session.pk}"' not in html  # not where it already is
    assert f'id="slot-{booked.toddlers.pk}"' not in html  # too young: not offered
    assert "You can move it to another session until" in html
    response = client.post(_move_url(booked.booking), {"session": booked.other.pk}, follow=True)
    assert response.redirect_chain[-1][0] == "/portal/alpha/"
    assert "Ava&#x27;s make-up is moved to Thu 26 Nov, 16:00" in response.content.decode()
    booking = _booking(booked.booking.pk)
    assert booking.session_id == booked.other.pk and booking.state == MakeupBooking.State.BOOKED
    with scopes_disabled():
        credit = MakeupCredit.objects.get(pk=booked.credit.pk)
        assert credit.state == CreditState.USED and credit.booking_id == booking.pk
        event = CreditEvent.objects.get(credit=credit, kind=CreditEvent.Kind.MOVED)
    assert event.actor == booked.user


def test_wal_2_a_refused_move_says_why_and_changes_nothing(booked, login):
    f.EnrolmentFactory.create_batch(2, klass=booked.host, student__date_of_birth=date(2019, 1, 1))
    client = login(booked.user)
    html = client.get(_move_url(booked.booking)).content.decode()
    assert f'id="slot-{booked.other.pk}"' not in html  # full: not offered
    response = client.post(_move_url(booked.booking), {"session": booked.other.pk}, follow=True)
    assert "2 of 2 places taken" in response.content.decode()
    assert _booking(booked.booking.pk).session_id == booked.session.pk


def test_wal_2_after_the_cut_off_the_page_shows_the_companys_instructions(booked, login, frozen):
    with scopes_disabled():
        policy = CancellationPolicy.objects.get(programme=booked.programme)
    policy.portal_late_cancellation = "refuse"
    policy.late_cancellation_instructions = "Call us on 02 9999 0000."
    policy.save()
    cutoff = booked.session.starts_at - timedelta(hours=24)
    frozen.move_to(cutoff)  # exactly at the cut-off: still offered
    client = login(booked.user)
    assert "Move here" in client.get(_move_url(booked.booking)).content.decode()
    assert _move_url(booked.booking) in client.get("/portal/alpha/").content.decode()
    frozen.move_to(cutoff + timedelta(seconds=1))
    html = client.get(_move_url(booked.booking)).content.decode()
    assert "Call us on 02 9999 0000." in html and "Move here" not in html
    assert _move_url(booked.booking) not in client.get("/portal/alpha/").content.decode()
    response = client.post(_move_url(booked.booking), {"session": booked.other.pk}, follow=True)
    assert "Call us on 02 9999 0000." in response.content.decode()
    assert _booking(booked.booking.pk).session_id == booked.session.pk


def test_wal_2_another_familys_make_up_or_a_foreign_session_is_not_found(booked, login, world):
    stranger = f.GuardianFactory(family__company=booked.company, user__email="s@x.io").user
    other = login(stranger)
    assert other.get(_move_url(booked.booking)).status_code == 404
    assert other.post(_move_url(booked.booking), {"session": booked.other.pk}).status_code == 404
    foreign = f.SessionFactory(klass=f.ClassFactory(programme__company=world.company_b))
    client = login(booked.user)
    response = client.post(_move_url(booked.booking), {"session": foreign.pk})
    assert response.status_code == 404
    assert client.post(_move_url(booked.booking), {}).status_code == 404
    assert _booking(booked.booking.pk).session_id == booked.session.pk


def test_wal_2_a_cancelled_make_up_has_nothing_to_move(booked, login):
    client = login(booked.user)
    client.post(f"/portal/alpha/makeups/{booked.booking.pk}/cancel/")
    response = client.get(_move_url(booked.booking), follow=True)
    assert "This make-up is cancelled: there is nothing to move." in response.content.decode()


def test_wal_2_the_move_page_costs_a_fixed_number_of_queries(booked, login, page_queries):
    client = login(booked.user)
    small, _ = page_queries(client, _move_url(booked.booking))
    # Many more places to move to: four more classes, each meeting on each of ten days.
    for n in range(4):
        klass = f.ClassFactory(programme=booked.programme, min_age_months=None, name=f"C{n}")
        for day in range(10):
            f.SessionFactory(klass=klass, local_date=date(2026, 11, 22) + timedelta(days=day))
    with scope(company=booked.company):
        add_credit(booked.ava)  # another credit of the child changes nothing
    large, response = page_queries(client, _move_url(booked.booking))
    assert sum(len(offered) for _day, offered in response.context["days"]) >= 20
    assert small == large


def test_wal_2_the_old_reminders_cant_come_link_does_not_cancel_the_moved_make_up(
    booked, login, frozen
):
    """With a 2-hour cut-off the family can move a make-up after its "see you tomorrow"
    e-mail went out: that e-mail's "Can't come" is about the old session, so it no longer
    cancels the make-up, and says where to look."""
    with scopes_disabled():
        CancellationPolicy.objects.filter(programme=booked.programme).update(hours_before=2)
    frozen.move_to(datetime(2026, 11, 24, 9, 0, tzinfo=SYDNEY))
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        send_lesson_reminders()
    [reminder] = mail.outbox
    link = re.search(r"/portal/alpha/cant-come/[^/\s\"]+/", reminder.body).group(0)
    frozen.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=SYDNEY))
    client = login(booked.user)
    client.post(_move_url(booked.booking), {"session": booked.other.pk})
    assert _booking(booked.booking.pk).session_id == booked.other.pk
    page = client.post(link).content.decode()
    assert "This make-up has moved to another session since" in page
    booking = _booking(booked.booking.pk)
    assert booking.state == MakeupBooking.State.BOOKED and booking.session_id == booked.other.pk
