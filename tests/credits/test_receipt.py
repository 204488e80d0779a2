"""BEY-1: the receipt of an absence — on time or late with the cut-off instant, the path,
the caps with their figures, the validity, or why there is no credit."""

from datetime import date, timedelta

import pytest
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from credits.models import CancellationPolicy
from credits.selectors.receipts import absence_receipt
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_bey_1_receipt_of_an_issued_credit_with_cut_off_caps_and_expiry(world):
    klass = f.ClassFactory(programme__company=world.company_a)
    enrolment = f.EnrolmentFactory(klass=klass)
    session = f.SessionFactory(klass=klass)  # Tue 24 Nov 2026 17:00 Sydney
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=klass.programme)
        policy.on_time_outstanding_cap, policy.window_credits, policy.window_days = 2, 3, 90
        policy.save()
        told = session.starts_at - timedelta(days=3)
        a = attendance_set_state(
            enrolment=enrolment, session=session, state=S.CANCELLED, cancelled_at=told, now=told
        )
        receipt = absence_receipt(a)
    assert receipt.headline == "Make-up credit issued"
    assert receipt.lines == [
        "You told us on Sat 21 Nov 2026, 17:00: on time (the cut-off was Mon 23 Nov 2026, 17:00).",
        "Counted as: client cancelled on time.",
        "Unused credits of this kind before it: 0 of at most 2.",
        "Credits in the 90 days before: 0 of at most 3.",
        "Make-up credit valid until Mon 21 Dec 2026, 17:00.",
    ]


def test_bey_1_receipt_says_why_there_is_no_credit(world):
    klass = f.ClassFactory(programme__company=world.company_a, start_date=date(2026, 10, 1))
    enrolment = f.EnrolmentFactory(klass=klass)
    session = f.SessionFactory(klass=klass)
    with scope(company=world.company_a):
        told = session.starts_at - timedelta(hours=2)
        a = attendance_set_state(
            enrolment=enrolment, session=session, state=S.CANCELLED, cancelled_at=told, now=told
        )
        receipt = absence_receipt(a)
    assert receipt.headline == "No credit: cancelled after the cut-off (23 Nov 2026, 17:00)."
    assert receipt.lines[0] == (
        "You told us on Tue 24 Nov 2026, 15:00: late (the cut-off was Mon 23 Nov 2026, 17:00)."
    )
    assert receipt.credit is None
