"""After a staff action freed a place: which make-ups the watch list took (BEY-2), and how
the page says so.

The fill runs in a higher app (makeups) behind an attendance or withdrawal listener, so the
service that bookings' views call can't hand its bookings back. Every booking the fill makes
is stamped with the action's ``now`` (``booked_at``) and ``source="watch"``: the view reads
those, for the session or class it acted on, at the instant it passed down. Nothing else
books from a watch at that same instant for that same session.
"""

from datetime import datetime

from django.utils.translation import ngettext

from ..models import MakeupBooking


def bookings_from_watches(
    *, now: datetime, session_id: int | None = None, klass_id: int | None = None
) -> list[MakeupBooking]:
    """The make-ups booked from the watch list at ``now`` in one session or one class's
    sessions (one query; the student is read with the booking, also a partner's guest)."""
    bookings = MakeupBooking.objects.filter(
        source=MakeupBooking.Source.WATCH, booked_at=now, state=MakeupBooking.State.BOOKED
    )
    if session_id is not None:
        bookings = bookings.filter(session_id=session_id)
    if klass_id is not None:
        bookings = bookings.filter(session__klass_id=klass_id)
    return list(bookings.select_related("student").order_by("pk"))


def freed_places_message(bookings: list[MakeupBooking]) -> str:
    """ "The freed place went to Ava Parker from the watch list." — or "" when none did."""
    if not bookings:
        return ""
    names = ", ".join(f"{b.student.first_name} {b.student.last_name}" for b in bookings)
    return ngettext(
        "The freed place went to {names} from the watch list.",
        "The freed places went to {names} from the watch list.",
        len(bookings),
    ).format(names=names)
