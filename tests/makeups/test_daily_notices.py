"""What families and staff are told about make-ups in daily use: the "make-up cancelled"
e-mail (the credit back or kept, CRD-3; the school cancelled the session, ATT-7), a staff
booking's internal note kept out of the confirmation e-mail with a separate message to the
family (MKP-11), and staff told on the page when a place they freed went to a watcher
(BEY-2)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from bookings.models import MakeupBooking
from bookings.services import session_cancel
from credits.models import CreditState, MakeupCredit, SessionWatch
from makeup.errors import DomainError
from makeup.models import CompanySettings
from makeups.services import makeup_book, makeup_cancel, watch_create
from tests import factories as f
from tests.makeups.conftest import ava_and_host, credit_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture
def dn(world):
    """Ava of the Parker family (``world.parent_a``) holds a credit; the host session (Tue
    24 Nov, 2 places) is empty."""
    w = ava_and_host(world, home="Home Dolphins", host="Host Sharks")
    with scope(company=w.company):
        w.credit = credit_for(w.ava)
    return w


def _html(message) -> str:
    return message.alternatives[0][0]


def _book_ava(dn, *, actor=None, **kwargs) -> MakeupBooking:
    with scope(company=dn.company):
        return makeup_book(
            credit=dn.credit, session=dn.session, actor=actor or dn.parent, now=NOW, **kwargs
        )


# --- the "make-up cancelled" e-mail ------------------------------------------------------


def test_crd_3_cancelling_a_makeup_on_time_emails_the_family_that_the_credit_is_back(
    dn, django_capture_on_commit_callbacks
):
    booking = _book_ava(dn)
    with django_capture_on_commit_callbacks(execute=True), scope(company=dn.company):
        result = makeup_cancel(booking=booking, actor=dn.parent, now=NOW)
    assert result.credit_returned and result.filled == []
    [sent] = mail.outbox
    assert sent.to == [dn.parent.email]
    assert sent.subject == "Make-up cancelled: Ava, Host Sharks"
    for body in (sent.body, _html(sent)):
        assert "make-up lesson is cancelled" in body
        assert "The make-up credit is back: use it for a make-up lesson that starts by" in body
        assert "Book another make-up in the portal" in body
        assert "CRD-" not in body and "stays used" not in body


def test_crd_3_cancelling_a_makeup_late_emails_that_the_credit_stays_used(
    dn, django_capture_on_commit_callbacks
):
    booking = _book_ava(dn)
    late = dn.session.starts_at - timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True), scope(company=dn.company):
        assert makeup_cancel(booking=booking, now=late).credit_returned is False
    [sent] = mail.outbox
    for body in (sent.body, _html(sent)):
        assert "make-up lesson is cancelled" in body
        assert "after the deadline in the cancellation policy" in body
        assert "the make-up credit stays used" in body
        assert "credit is back" not in body
    # Cancelling again is refused: one e-mail per booking.
    with (
        django_capture_on_commit_callbacks(execute=True),
        scope(company=dn.company),
        pytest.raises(DomainError, match="already cancelled"),
    ):
        makeup_cancel(booking=booking, now=late)
    assert len(mail.outbox) == 1


def test_att_7_the_school_cancelling_the_session_emails_each_makeup_guest_credit_back(
    dn, django_capture_on_commit_callbacks
):
    booking = _book_ava(dn)
    with django_capture_on_commit_callbacks(execute=True), scope(company=dn.company):
        session_cancel(
            session=dn.session, reason="Pool closed for repairs", actor=dn.world.staff_a, now=NOW
        )
    booking.refresh_from_db()
    assert booking.state == MakeupBooking.State.CANCELLED
    [sent] = mail.outbox
    assert sent.subject == "Make-up cancelled: Ava, Host Sharks"
    for body in (sent.body, _html(sent)):
        assert "We have cancelled this session" in body
        assert "Why: Pool closed for repairs" in body
        assert "The make-up credit is back" in body


# --- the staff note stays internal -------------------------------------------------------


def test_mkp_11_a_staff_bookings_note_is_not_emailed_its_message_to_the_family_is(
    dn, login, django_capture_on_commit_callbacks
):
    client = login(dn.world.staff_a)
    page = client.get(reverse("manage:makeup_book", args=[dn.credit.pk])).content.decode()
    assert "Message to the family" in page and "Staff note" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("manage:makeup_book", args=[dn.credit.pk]),
            {
                "session": dn.session.pk,
                "note": "mum phoned Friday",
                "family_message": "Bring goggles, the pool is cold.",
            },
        )
    assert response.status_code == 302
    with scopes_disabled():
        booking = MakeupBooking.objects.get(session=dn.session)
    assert booking.source == "staff" and booking.note == "mum phoned Friday"
    assert booking.family_message == "Bring goggles, the pool is cold."
    [sent] = mail.outbox
    for body in (sent.body, _html(sent)):
        assert "mum phoned" not in body
        assert "Message from us: Bring goggles, the pool is cold." in body
    # The note is still where staff read it.
    roster = client.get(reverse("manage:session_detail", args=[dn.session.pk]))
    assert "mum phoned Friday" in roster.content.decode()


def test_mkp_11_a_staff_booking_without_a_message_emails_no_note_at_all(
    dn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _book_ava(dn, actor=dn.world.staff_a, note="Owes for October", source="staff")
    [sent] = mail.outbox
    assert "Owes for October" not in sent.body and "Owes for October" not in _html(sent)
    assert "Message from us" not in sent.body


def test_mkp_10_a_parents_own_portal_note_is_shown_back_to_them(
    dn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _book_ava(dn, note="Make-up for missed lesson 17/11")
    [sent] = mail.outbox
    for body in (sent.body, _html(sent)):
        assert "Your note: Make-up for missed lesson 17/11" in body


# --- staff are told when a freed place went to a watcher ---------------------------------


@pytest.fixture
def full(dn):
    """The host session is full with two regulars; Noah of another family watches it."""
    dn.r1, dn.r2 = f.EnrolmentFactory.create_batch(2, klass=dn.host)
    dn.noah = f.EnrolmentFactory(
        klass=dn.home, student__first_name="Noah", student__last_name="Quinn"
    )
    with scope(company=dn.company):
        dn.watch = watch_create(
            credit=credit_for(dn.noah), session=dn.session, actor=f.parent_of(dn.noah), now=NOW
        )
    return dn


NOTICE = "The freed place went to Noah Quinn from the watch list."


def _watch_booked(w) -> bool:
    with scopes_disabled():
        return SessionWatch.objects.get(pk=w.watch.pk).state == SessionWatch.State.BOOKED


def test_bey_2_a_regulars_cancellation_tells_staff_the_place_went_to_the_watcher(full, login):
    client = login(full.world.staff_a)
    url = reverse("manage:attendance_set", args=[full.session.pk, full.r1.pk])
    response = client.post(url, {"state": "client_cancelled"}, HTTP_HX_REQUEST="true")
    assert _watch_booked(full)
    # The page has a new make-up guest: htmx reloads it, with the notice on top.
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    page = client.get(reverse("manage:session_detail", args=[full.session.pk])).content.decode()
    assert NOTICE in page and "Noah" in page
    # Without htmx: the same notice after the redirect.
    url = reverse("manage:attendance_set", args=[full.session.pk, full.r1.pk])
    response = client.post(url, {"state": "present"}, follow=True)
    assert NOTICE not in response.content.decode()  # nothing freed this time


def test_bey_2_no_watcher_no_notice_and_the_row_updates_in_place(dn, login):
    f.EnrolmentFactory.create_batch(2, klass=dn.host)
    regular = f.EnrolmentFactory(klass=dn.host)
    client = login(dn.world.staff_a)
    url = reverse("manage:attendance_set", args=[dn.session.pk, regular.pk])
    response = client.post(url, {"state": "client_cancelled"}, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response and "attendance-row" in response.content.decode()
    page = client.get(reverse("manage:session_detail", args=[dn.session.pk])).content.decode()
    assert "from the watch list" not in page


def test_bey_2_cancelling_a_makeup_tells_staff_the_place_went_to_the_watcher(full, login):
    with scope(company=full.company):
        full.r2.delete()  # Ava takes the second place: full again
    booking = _book_ava(full)
    client = login(full.world.staff_a)
    session_url = reverse("manage:session_detail", args=[full.session.pk])
    response = client.post(
        reverse("manage:makeup_cancel", args=[booking.pk]), {"next": session_url}, follow=True
    )
    assert response.redirect_chain[-1][0] == session_url
    page = response.content.decode()
    assert NOTICE in page and "the credit is available again" in page
    assert _watch_booked(full)
    with scopes_disabled():
        assert MakeupCredit.objects.get(pk=full.credit.pk).state == CreditState.AVAILABLE


def test_bey_2_withdrawing_a_regular_tells_staff_the_place_went_to_the_watcher(full, login):
    client = login(full.world.staff_a)
    response = client.post(
        reverse("manage:enrolment_withdraw", args=[full.r1.pk]),
        {"withdrawn_from": full.session.local_date.isoformat()},
        follow=True,
    )
    page = response.content.decode()
    assert "withdrawn from Host Sharks" in page and NOTICE in page
    assert _watch_booked(full)


def test_wal_5_in_offer_mode_staff_are_told_the_freed_place_is_offered(full, login):
    settings = full.company.settings
    settings.watch_mode = CompanySettings.WatchMode.OFFER
    settings.save()
    client = login(full.world.staff_a)
    url = reverse("manage:attendance_set", args=[full.session.pk, full.r1.pk])
    response = client.post(url, {"state": "client_cancelled"}, follow=True)
    page = response.content.decode()
    with scopes_disabled():
        watch = SessionWatch.objects.get(pk=full.watch.pk)
    assert watch.state == SessionWatch.State.OFFERED
    assert "The freed place is offered to Noah Quinn from the watch list, kept for them" in page
    assert NOTICE not in page  # nothing was booked
    # The family page shows the offer with its end.
    family = client.get(reverse("manage:family_detail", args=[full.noah.student.family_id]))
    assert "a freed place is offered to them until" in family.content.decode()
