"""CRD-3 (spend, return on an on-time make-up cancellation) and CRD-4 (never spent past
expiry, make-up no later than expiry)."""

from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from credits.models import CreditEvent, CreditState
from credits.services import credit_add_manual, credit_return, credit_spend
from makeup.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


@pytest.fixture
def ctx(world):
    klass = f.ClassFactory(programme__company=world.company_a)
    enrolment = f.EnrolmentFactory(klass=klass)
    host = f.SessionFactory(klass=f.ClassFactory(programme=klass.programme))  # 24 Nov 06:00 UTC
    with scope(company=world.company_a):
        credit = credit_add_manual(
            enrolment=enrolment, reason="test", actor=None, valid_days=10, now=NOW
        )
        yield credit, host


def test_crd_3_spending_makes_a_credit_used_with_history(ctx):
    credit, host = ctx
    credit_spend(credit=credit, session=host, now=NOW)
    credit.refresh_from_db()
    assert credit.state == CreditState.USED
    assert list(CreditEvent.objects.filter(credit=credit).values_list("kind", flat=True)) == [
        "issued",
        "used",
    ]
    with pytest.raises(DomainError, match="used"):
        credit_spend(credit=credit, session=host, now=NOW)


def test_crd_3_on_time_make_up_cancellation_returns_the_credit_with_its_expiry(ctx):
    credit, host = ctx
    expiry = credit.expires_at
    credit_spend(credit=credit, session=host, now=NOW)
    # The host programme's default policy: on time until 24 h before; exactly then counts.
    assert (
        credit_return(
            credit=credit, session=host, cancelled_at=host.starts_at - timedelta(hours=24), now=NOW
        )
        is True
    )
    credit.refresh_from_db()
    assert (credit.state, credit.expires_at) == (CreditState.AVAILABLE, expiry)


def test_crd_3_late_make_up_cancellation_keeps_the_credit_used(ctx):
    credit, host = ctx
    credit_spend(credit=credit, session=host, now=NOW)
    late = host.starts_at - timedelta(hours=24) + timedelta(seconds=1)
    assert credit_return(credit=credit, session=host, cancelled_at=late, now=NOW) is False
    credit.refresh_from_db()
    assert credit.state == CreditState.USED


def test_crd_4_a_credit_past_expiry_can_never_be_spent_even_before_the_sweep(ctx):
    credit, host = ctx
    with pytest.raises(DomainError, match="expired"):
        credit_spend(credit=credit, session=host, now=credit.expires_at)  # the instant itself
    credit.refresh_from_db()
    assert credit.state == CreditState.AVAILABLE  # not swept yet, still not spendable
    credit_spend(credit=credit, session=host, now=credit.expires_at - timedelta(seconds=1))


def test_crd_4_the_make_up_must_start_no_later_than_the_expiry(world, ctx):
    credit, host = ctx
    later = f.SessionFactory(klass=host.klass, local_date=host.local_date + timedelta(days=14))
    with pytest.raises(DomainError, match="valid for lessons starting by"):
        credit_spend(credit=credit, session=later, now=NOW)
