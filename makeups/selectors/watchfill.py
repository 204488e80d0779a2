"""After a staff action freed a place: what the watch list did with it (BEY-2, WAL-5) — the
make-ups booked for watchers, or the places offered to them — and how the page says so.

The fill runs behind an attendance, withdrawal or cancellation listener, so the service a
view calls can't always hand its outcome back. Every booking the fill makes is stamped with
the action's ``now`` (``booked_at``, ``source="watch"``) and every offer too
(``offered_at``): the view reads those, for the session or class it acted on, at the instant
it passed down. Nothing else books or offers from a watch at that same instant there.
Registered for the bookings app's pages (:func:`bookings.hooks.freed_places_notice`).
"""

from datetime import datetime

from django.utils.translation import ngettext

from bookings.models import MakeupBooking
from credits.models import SessionWatch
from makeup.formats import local_datetime
from makeup.shapes import Shape


def _names(rows) -> str:
    return ", ".join(f"{r.student.first_name} {r.student.last_name}" for r in rows)


# A shape per set of keys given (a session, a class's sessions): compiled once each.
_TAKEN_FROM_THE_LIST = Shape(
    lambda now, **where: (
        MakeupBooking.objects.filter(
            source=MakeupBooking.Source.WATCH,
            booked_at=now,
            state=MakeupBooking.State.BOOKED,
            **where,
        )
        .select_related("student")
        .order_by("pk")
    )
)
_OFFERED_FROM_THE_LIST = Shape(
    lambda now, **where: (
        SessionWatch.objects.filter(state=SessionWatch.State.OFFERED, offered_at=now, **where)
        .select_related("student")
        .order_by("pk")
    )
)


def freed_places_notice(
    *, now: datetime, session_id: int | None = None, klass_id: int | None = None
) -> str:
    """ "The freed place went to Ava Parker from the watch list." / "The freed place is
    offered to Ava Parker from the watch list, until Sun 22 Nov 09:00." — for what the watch
    list took at ``now`` in one session or one class's sessions; "" when it took nothing.
    Two queries (the students read along, a partner's guest too)."""
    where = {"session_id": session_id} if session_id is not None else {}
    if klass_id is not None:
        where["session__klass_id"] = klass_id
    booked = _TAKEN_FROM_THE_LIST(now=now, **where)
    offered = _OFFERED_FROM_THE_LIST(now=now, **where)
    parts = []
    if booked:
        parts.append(
            ngettext(
                "The freed place went to {names} from the watch list.",
                "The freed places went to {names} from the watch list.",
                len(booked),
            ).format(names=_names(booked))
        )
    if offered:
        until = min(w.offer_expires_at for w in offered)
        parts.append(
            ngettext(
                "The freed place is offered to {names} from the watch list, kept for them "
                "until {date}.",
                "The freed places are offered to {names} from the watch list, kept for them "
                "until {date} at least.",
                len(offered),
            ).format(names=_names(offered), date=local_datetime(until, fmt="WEEKDAY_TIME_FORMAT"))
        )
    return " ".join(parts)
