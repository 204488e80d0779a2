"""The family account: charges for counted attendance and payments (BAL-1)."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from makeup.dates import check_in_range
from makeup.errors import DomainError
from makeup.shapes import Shape

from ..models import Attendance, Charge, Family, Payment
from .packages import COUNTED_STATES

# The attendance's charge still standing, locked: read by every mark of a counted state.
_LIVE_CHARGE = Shape(
    lambda attendance_id: Charge.objects.select_for_update().filter(
        attendance_id=attendance_id, reversed_at__isnull=True
    )[:1]
)


def account_apply_attendance(*, attendance: Attendance, covered: bool, now: datetime) -> None:
    """BAL-1, inside attendance_set_state's transaction, after the package rule: a counted
    regular attendance (present, did not attend, cancelled late) not ``covered`` by a package
    (as ``package_apply_attendance`` answered) is charged at the enrolment's agreed price or
    the class's per-session price, dated the session's day; a correction to a state that
    doesn't count reverses the charge; setting a counted state again charges nothing more.
    A class sold only per course posts nothing."""
    live = _LIVE_CHARGE.first(attendance_id=attendance.pk)
    should = attendance.state in COUNTED_STATES and not covered
    if live is not None and not should:
        live.reversed_at = now
        live.save(update_fields=["reversed_at"])
        return
    if live is not None or not should:
        return
    enrolment, session = attendance.enrolment, attendance.session
    price = (
        enrolment.agreed_price
        if enrolment.agreed_price is not None
        else (session.klass.price_per_session)
    )
    if price is None:
        return
    day = date_format(session.local_date, "DAY_MONTH_FORMAT")
    Charge.objects.create(
        company_id=attendance.company_id,
        family_id=enrolment.student.family_id,
        attendance=attendance,
        amount=price,
        charged_on=session.local_date,
        created_at=now,
        # Stored text, in the language of the moment (DAY-4: its date through a named format).
        description=f"{session.klass.name}, {day} — "
        f"{enrolment.student.first_name} ({attendance.get_state_display().lower()})",
    )


def account_release_attendances(*, attendances: list[Attendance], now: datetime) -> None:
    """BAL-1 for many attendances moved together to a state that doesn't count (the school
    cancelling a whole session): their live charges are reversed, in one statement."""
    if any(attendance.state in COUNTED_STATES for attendance in attendances):
        raise ValueError("account_release_attendances() is for states that don't count.")
    Charge.objects.filter(
        attendance_id__in=[attendance.pk for attendance in attendances], reversed_at__isnull=True
    ).update(reversed_at=now)


@transaction.atomic
def payment_record(
    *, family: Family, amount: Decimal, method: str, paid_on: date, reference: str = "", actor=None
) -> Payment:
    """Receipt a payment to the family's account."""
    if amount <= 0:
        raise DomainError(_("A payment is more than zero."))
    if method not in Payment.Method.values:
        raise DomainError(_("Unknown payment method."))
    check_in_range(paid_on)
    return Payment.objects.create(
        company_id=family.company_id,
        family=family,
        amount=amount,
        method=method,
        paid_on=paid_on,
        reference=reference.strip()[:100],
        created_by=actor,
    )
