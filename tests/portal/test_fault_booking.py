"""Fault (issue 8): the database fails in the middle of a make-up booking — after the booking
row and the credit's state were written, when the credit's "used" history row is inserted.
Nothing of the booking may stay, and the parent sees a clear message with the note kept."""

import pytest
from django.db import connection
from django.urls import reverse
from django_scopes import scopes_disabled

from bookings.models import MakeupBooking
from credits.models import CreditEvent, CreditState, MakeupCredit
from makeup.errors import BOOKING_FAILED
from makeup.models import OutboxMessage

pytestmark = pytest.mark.postgres


@pytest.fixture
def spending_fails():
    """A trigger raises when the credit's "used" event is inserted: a real database error
    in the middle of the booking transaction (the test's transaction rolls it back)."""
    table = CreditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_fail_spend() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'could not extend file (simulated disk full)'; END
            $$ LANGUAGE plpgsql
            """
        )
        cursor.execute(
            f"CREATE TRIGGER test_fail_spend BEFORE INSERT ON {table} FOR EACH ROW "  # noqa: S608
            "WHEN (NEW.kind = 'used') EXECUTE FUNCTION test_fail_spend()"
        )


def test_a_database_error_mid_booking_writes_nothing_and_says_so(pf, login, spending_fails):
    with scopes_disabled():
        events_before = CreditEvent.objects.count()
    messages_before = set(OutboxMessage.objects.values_list("key", flat=True))
    url = f"/portal/alpha/makeups/book/{pf.credit.pk}/{pf.session.pk}/"
    response = login(pf.user).post(url, {"note": "Bringing goggles"})

    assert response.status_code == 200
    page = response.content.decode()
    assert str(BOOKING_FAILED) in page
    assert "Bringing goggles" in page  # nothing the parent typed is lost
    with scopes_disabled():
        assert not MakeupBooking.objects.exists()
        credit = MakeupCredit.objects.get(pk=pf.credit.pk)
        assert credit.state == CreditState.AVAILABLE and credit.booking_id is None
        assert CreditEvent.objects.count() == events_before
    # Nobody is told of a booking that never was.
    assert set(OutboxMessage.objects.values_list("key", flat=True)) == messages_before

    # The same page works once the database does.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_fail_spend ON {CreditEvent._meta.db_table}")
    booked = login(pf.user).post(url, {"note": "Bringing goggles"})
    assert booked.status_code == 302
    with scopes_disabled():
        booking = MakeupBooking.objects.get()
    assert booking.note == "Bringing goggles"
    assert OutboxMessage.objects.filter(key=f"makeup-booked:{booking.pk}").exists()


def test_staff_booking_for_a_family_says_so_too(pf, world, login, spending_fails):
    url = reverse("manage:makeup_book", args=[pf.credit.pk])
    response = login(world.staff_a).post(url, {"session": pf.session.pk, "note": "Phoned in"})
    assert response.status_code == 200
    page = response.content.decode()
    assert str(BOOKING_FAILED) in page and "Phoned in" in page
    with scopes_disabled():
        assert not MakeupBooking.objects.exists()
        assert MakeupCredit.objects.get(pk=pf.credit.pk).state == CreditState.AVAILABLE
