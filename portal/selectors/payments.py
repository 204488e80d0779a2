"""What the portal's payment page asks a family to pay (BAL-5)."""

from datetime import datetime
from decimal import Decimal

from bookings.models import Family
from bookings.selectors.account import balance_gate, family_statement


def amount_due(*, family: Family, now: datetime) -> Decimal:
    """What the payment page asks for: with the balance gate active, exactly what blocks the
    family (the same computation as the services', BAL-3); else the whole balance owed."""
    gate = balance_gate(family=family, now=now)
    if gate.active:
        return gate.due
    statement = family_statement(family=family)
    return statement[-1].balance if statement else Decimal("0")
