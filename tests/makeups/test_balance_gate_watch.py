"""BAL-6: the balance gate holds wherever a family acts on its own — booking in the portal,
starting a watch, being booked from a watch — through the services, not only the pages.
Only staff get past it (BAL-4). The gate is one function, ``bookings.selectors.account
.balance_gate``, used by the services and the portal's payment page."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.models import MakeupBooking
from bookings.selectors.account import balance_gate
from bookings.services import attendance_set_state
from bookings.services.account import payment_record
from credits.models import CreditState, MakeupCredit, SessionWatch
from makeup.errors import DomainError
from makeups.services import makeup_book, watch_create
from tests import factories as f
from tests.makeups.conftest import ava_and_host, credit_for

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney
TODAY = date(2026, 11, 21)


@pytest.fixture
def bg(world, db):
    """The gate on (30 days). Ava of the Parker family (``world.parent_a``) has a credit;
    the host session (Tue 24 Nov, capacity 2) is full with two regulars. The clock is frozen:
    the attendance hooks fill watches at the service's ``now``."""
    w = ava_and_host(world, home="Home Dolphins", host="Host Sharks")  # AUD 25.00 a lesson
    settings = w.company.settings
    settings.balance_gate_enabled, settings.balance_gate_days = True, 30
    settings.save()
    w.r1, w.r2 = f.EnrolmentFactory.create_batch(2, klass=w.host)  # full
    with time_machine.travel(NOW, tick=False), scope(company=w.company):
        w.credit = _credit(w.ava)
        yield w


_credit = credit_for


def _owe_a_lesson(w):
    """Ava attended a lesson three days ago, not paid: AUD 25.00 due."""
    past = f.SessionFactory(klass=w.home, local_date=TODAY - timedelta(days=3))
    attendance_set_state(enrolment=w.ava, session=past, state=S.PRESENT, now=NOW)


def _pay(w, amount: str):
    payment_record(family=w.family, amount=Decimal(amount), method="card", paid_on=TODAY)


def _regular_cancels(w, enrolment):
    attendance_set_state(
        enrolment=enrolment, session=w.session, state=S.CANCELLED, cancelled_at=NOW, now=NOW
    )


def _other_family_watching(w):
    other = f.EnrolmentFactory(klass=w.home, student__first_name="Noah")
    watch = watch_create(
        credit=_credit(other),
        session=w.session,
        actor=f.parent_of(other),
        now=NOW + timedelta(minutes=5),
    )
    return other, watch


def _skipped_mails():
    return [m for m in mail.outbox if "was not booked" in m.subject]


# --- the one computation, and its boundary ------------------------------------------------


def test_bal_6_the_gate_is_one_function_and_zero_due_is_not_blocked(bg):
    assert not balance_gate(family=bg.family, now=NOW).blocked
    _owe_a_lesson(bg)
    gate = balance_gate(family=bg.family, now=NOW)
    assert (gate.active, gate.days, gate.due, gate.currency) == (True, 30, Decimal("25.00"), "AUD")
    assert gate.blocked
    _pay(bg, "24.99")
    assert balance_gate(family=bg.family, now=NOW).due == Decimal("0.01")
    assert balance_gate(family=bg.family, now=NOW).blocked
    _pay(bg, "0.01")
    gate = balance_gate(family=bg.family, now=NOW)
    assert gate.due == 0 and not gate.blocked  # exactly zero: up to date
    # Zero due, the family books in the portal through the service.
    bg.r1.delete()
    booking = makeup_book(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    assert booking.source == "portal"


def test_bal_6_the_gate_counts_days_in_the_companys_time_zone(bg):
    """20 Nov 14:00 UTC is already 21 Nov in Sydney: a lesson of 21 Nov counts."""
    lesson = f.SessionFactory(klass=bg.home, local_date=TODAY, local_time=datetime.min.time())
    attendance_set_state(enrolment=bg.ava, session=lesson, state=S.PRESENT, now=NOW)
    sydney_morning = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert balance_gate(family=bg.family, now=sydney_morning).due == Decimal("25.00")


def test_bal_6_a_gate_that_is_off_blocks_nobody(bg):
    _owe_a_lesson(bg)
    settings = bg.company.settings
    settings.balance_gate_enabled = False
    settings.save()
    gate = balance_gate(family=bg.family, now=NOW)
    assert not gate.active and not gate.blocked


# --- a family acting on its own -----------------------------------------------------------


def test_bal_6_a_blocked_family_cannot_start_a_watch(bg):
    _owe_a_lesson(bg)
    with pytest.raises(DomainError, match="AUD 25.00 due from the last 30 days") as refused:
        watch_create(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    assert refused.value.code == "balance_due"
    assert "before watching a full session" in refused.value.message
    assert not SessionWatch.objects.filter(session=bg.session).exists()
    _pay(bg, "25.00")  # paid: the watch starts at once
    watch = watch_create(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    assert watch.state == SessionWatch.State.ACTIVE


def test_bal_6_a_blocked_family_cannot_book_through_the_service_but_staff_can(bg):
    _owe_a_lesson(bg)
    bg.r1.delete()  # a free place
    with pytest.raises(DomainError, match="AUD 25.00 due") as refused:
        makeup_book(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    assert refused.value.code == "balance_due"
    assert MakeupCredit.objects.get(pk=bg.credit.pk).state == CreditState.AVAILABLE
    booking = makeup_book(
        credit=bg.credit, session=bg.session, actor=bg.world.staff_a, source="staff", now=NOW
    )
    assert booking.source == "staff"  # BAL-4: only staff get past the gate


def test_bal_6_reproduction_a_watcher_with_25_due_is_not_booked_when_a_regular_cancels(
    bg, django_capture_on_commit_callbacks
):
    """The reported bug: a family with AUD 25 due watched a full session and was booked when
    a regular cancelled. Now the place stays free for someone else, the watch goes on, and the
    family is told why — once, however many places pass them by."""
    watch = watch_create(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    _owe_a_lesson(bg)  # blocked after starting the watch
    with django_capture_on_commit_callbacks(execute=True):
        _regular_cancels(bg, bg.r1)
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.ACTIVE
    assert not MakeupBooking.objects.filter(session=bg.session).exists()  # nobody booked
    assert MakeupCredit.objects.get(pk=bg.credit.pk).state == CreditState.AVAILABLE
    [told] = _skipped_mails()
    assert told.to == [bg.parent.email]
    assert told.subject == "A place freed in Host Sharks, but Ava was not booked"
    assert "your account has an amount due (AUD 25.00)" in told.body
    assert "Ava is still watching the session" in told.body
    # A second place frees: still passed over, and not told twice.
    with django_capture_on_commit_callbacks(execute=True):
        _regular_cancels(bg, bg.r2)
    assert len(_skipped_mails()) == 1
    assert SessionWatch.objects.get(pk=watch.pk).state == SessionWatch.State.ACTIVE


def test_bal_6_the_freed_place_goes_past_a_blocked_watcher_to_the_next_in_line(
    bg, django_capture_on_commit_callbacks
):
    first = watch_create(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    other, second = _other_family_watching(bg)
    _owe_a_lesson(bg)
    with django_capture_on_commit_callbacks(execute=True):
        _regular_cancels(bg, bg.r1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == SessionWatch.State.ACTIVE  # keeps the watch, first in line
    assert second.state == SessionWatch.State.BOOKED
    booking = MakeupBooking.objects.get(session=bg.session)
    assert booking.student == other.student and booking.source == "watch"
    assert [m.to for m in _skipped_mails()] == [[bg.parent.email]]
    # Paid up, the first in line takes the next place that frees.
    _pay(bg, "25.00")
    _regular_cancels(bg, bg.r2)
    first.refresh_from_db()
    assert first.state == SessionWatch.State.BOOKED
    assert MakeupCredit.objects.get(pk=bg.credit.pk).state == CreditState.USED


def test_bal_6_an_up_to_date_watcher_is_booked_as_before(bg):
    watch = watch_create(credit=bg.credit, session=bg.session, actor=bg.parent, now=NOW)
    _owe_a_lesson(bg)
    _pay(bg, "25.00")  # due exactly zero
    _regular_cancels(bg, bg.r1)
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.BOOKED


# --- the portal pages use the same gate ---------------------------------------------------


def test_bal_6_the_watch_button_takes_a_blocked_parent_to_the_payment_page(bg, login):
    _owe_a_lesson(bg)
    settings = bg.company.settings
    settings.portal_payments_enabled = True
    settings.save()
    client = login(bg.parent)
    url = reverse("portal:watch_create", kwargs={"company_slug": bg.company.slug})
    response = client.post(url, {"credit": bg.credit.pk, "session": bg.session.pk})
    assert response.status_code == 302 and "/pay/?next=" in response["Location"]
    assert not SessionWatch.objects.filter(session=bg.session).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Amount due: <strong>AUD 25.00</strong>" in page  # the gate's own figure
    # Without portal payments the parent reads why on the search page.
    settings.portal_payments_enabled = False
    settings.save()
    response = client.post(url, {"credit": bg.credit.pk, "session": bg.session.pk}, follow=True)
    assert "please pay it before watching a full session" in response.content.decode()
