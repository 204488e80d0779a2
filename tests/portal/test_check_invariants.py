"""`manage.py check_invariants`: capacity, credits spent once, credit histories — it passes on
consistent data and names each kind of violation."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scope, scopes_disabled

from credits.models import CreditState, MakeupCredit
from makeups.services import makeup_book
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
