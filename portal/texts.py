"""Texts the portal shows a parent about their family's lessons."""

from django.utils.translation import gettext as _

from bookings.models import Attendance, AttendanceState
from credits.selectors.receipts import absence_receipt
from makeup.formats import local_datetime


def local_time(moment, fmt: str = "WEEKDAY_TIME_FORMAT") -> str:
    """An instant in the active time zone (the company's, on portal pages)."""
    return local_datetime(moment, fmt=fmt)


def lesson_cancelled_message(attendance: Attendance, student) -> str:
    """What the parent learns at once (BEY-1): the credit and its expiry, or why none."""
    late = attendance.state == AttendanceState.LATE_CANCELLED
    what = {"name": student.first_name, "when": local_time(attendance.session.starts_at)}
    text = (
        _("{name}'s lesson on {when} is cancelled (after the cut-off).").format(**what)
        if late
        else _("{name}'s lesson on {when} is cancelled.").format(**what)
    ) + " "
    receipt = absence_receipt(attendance)
    if receipt is None:
        return text.strip()
    if receipt.credit is not None:
        if receipt.credit.expires_at is None:
            return text + _("You'll get a make-up credit with no expiry.")
        return text + _("You'll get a make-up credit valid until {until}.").format(
            until=local_time(receipt.credit.expires_at, "j F Y, H:i")
        )
    return text + str(receipt.headline)
