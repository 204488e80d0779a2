"""`manage.py check_invariants`: capacity, credits spent once, credit histories (moves
included, WAL-2) — it passes on consistent data and names each kind of violation."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled

from bookings.models import MakeupBooking
from credits.models import CreditEvent, CreditState, MakeupCredit
from makeups.services import makeup_book, makeup_move
from tests import factories as f

from .conftest import NOW


def _check() -> str:
    out = StringIO()
    call_command("check_invariants", stdout=out)
    return out.getvalue()


@pytest.fixture
def booked(pf):
    with scope(company=pf.company):
        return makeup_book(
            credit=pf.credit, actor=f.parent_of(pf.credit), session=pf.session, now=NOW
        )


def test_consistent_data_passes(booked):
    assert "All invariants hold." in _check()


def test_a_session_over_capacity_because_of_make_ups_is_found(pf, booked):
    f.EnrolmentFactory.create_batch(2, klass=pf.host, student__date_of_birth=date(2019, 1, 1))
    with pytest.raises(CommandError, match=f"session {pf.session.pk}: 3 taken of 2"):
        _check()


def test_a_credit_spent_twice_or_missing_is_found(pf, booked):
    with scopes_disabled():
        MakeupCredit.objects.filter(pk=pf.credit.pk).update(state=CreditState.AVAILABLE)
    with pytest.raises(CommandError, match=f"booking {booked.pk}: active but no used credit"):
        _check()
    with scopes_disabled():
        other = MakeupCredit.objects.get(pk=pf.credit.pk)
        other.pk = None
        other.save()
    with pytest.raises(CommandError, match=f"booking {booked.pk}: 2 credits"):
        _check()


def test_a_history_that_does_not_replay_to_the_state_is_found(pf, booked):
    with scopes_disabled():
        MakeupCredit.objects.filter(pk=pf.credit.pk).update(state=CreditState.EXPIRED)
    with pytest.raises(CommandError, match=f"credit {pf.credit.pk}: history ends used, state"):
        _check()


def test_wal_2_invariants_hold_after_moves_and_find_a_broken_move(pf, booked):
    """Moves back and forth keep every invariant; a "moved" event on a credit that was not
    in use, a move that freed the credit, or a booking moved to another child's enrolment is
    found."""
    other = f.SessionFactory(klass=pf.host, local_date=date(2026, 11, 26))
    with scope(company=pf.company):
        makeup_move(booking=booked, session=other, actor=pf.user, now=NOW)
        booked.refresh_from_db()
        makeup_move(booking=booked, session=pf.session, actor=pf.user, now=NOW)
    assert "All invariants hold." in _check()
    with scopes_disabled():
        moves = CreditEvent.objects.filter(credit=pf.credit, kind=CreditEvent.Kind.MOVED)
        assert moves.count() == 2
        event = moves.order_by("pk").last()
        CreditEvent.objects.filter(pk=event.pk).update(from_state=CreditState.AVAILABLE)
    with pytest.raises(CommandError, match=f"credit {pf.credit.pk}: moved from available"):
        _check()
    with scopes_disabled():
        CreditEvent.objects.filter(pk=event.pk).update(from_state=CreditState.USED)
        MakeupCredit.objects.filter(pk=pf.credit.pk).update(state=CreditState.AVAILABLE)
    with pytest.raises(CommandError, match=f"booking {booked.pk}: active but no used credit"):
        _check()
    with scopes_disabled():
        MakeupCredit.objects.filter(pk=pf.credit.pk).update(state=CreditState.USED)
        sibling = f.EnrolmentFactory(klass=pf.home, student__family=pf.family)
        MakeupBooking.objects.filter(pk=booked.pk).update(
            enrolment=sibling, student=sibling.student
        )
    with pytest.raises(CommandError, match=f"credit {pf.credit.pk}: spent on booking"):
        _check()
