"""Make-up guests on the host's roster: their attendance, taken like a regular's (MKP-10)."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from makeup.errors import DomainError

from ..models import AttendanceState, MakeupAttendanceChange, MakeupBooking

MAKEUP_ATTENDANCE_STATES = {
    AttendanceState.EXPECTED,
    AttendanceState.PRESENT,
    AttendanceState.NO_SHOW,
}


@transaction.atomic
def makeup_set_attendance(
    *, booking: MakeupBooking, state: str, now: datetime, actor=None
) -> MakeupBooking:
    """MKP-10: the host takes a make-up guest's attendance like any other, every change kept
    (ATT-6). The credit stays
    used whatever happens (a no-show keeps it used, CRD-3), and a make-up never deducts from
    a package (PKG-2)."""
    if state not in MAKEUP_ATTENDANCE_STATES:
        raise DomainError(_("A make-up guest is present, did not attend, or still expected."))
    booking = MakeupBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.state != MakeupBooking.State.BOOKED:
        raise DomainError(_("This make-up was cancelled."))
    if booking.attendance_state == state:
        return booking
    MakeupAttendanceChange.objects.create(
        company_id=booking.company_id,
        booking=booking,
        from_state=booking.attendance_state,
        to_state=state,
        changed_at=now,
        changed_by=actor,
    )
    booking.attendance_state = state
    booking.save(update_fields=["attendance_state"])
    return booking
