"""iCalendar (RFC 5545), written by the maintained ``icalendar`` library: the invitation
attached to the make-up confirmation e-mail (here) and the private calendar feeds
(:mod:`portal.selectors.feeds`, which builds its events with :func:`calendar_event`).

No iCalendar text is written by hand: the library escapes every TEXT value (``\\``, ``;``,
``,`` and any line ending, a lone carriage return included) and folds lines at 75 octets, so
a name typed by staff — a class, an address, a note — can never add a property or an event
to what parents receive. Names meant as one line (a summary, a location, a calendar's name)
are also flattened to one line here; descriptions keep their line breaks.
"""

from datetime import UTC, datetime, timedelta

import icalendar
from django.conf import settings
from django.utils.translation import gettext as _

PRODID = "-//Make-up sessions//EN"


def one_line(value: str) -> str:
    """Text for a one-line field: line breaks and runs of white space become one space."""
    return " ".join(str(value).split())


def paragraphs(value: str) -> str:
    """Text that may span lines: any line ending (CRLF, CR, LF…) becomes one newline."""
    return "\n".join(str(value).splitlines())


def uid_host() -> str:
    """The right-hand side of event UIDs: this site's host name."""
    return settings.SITE_URL.split("//")[-1].split("/")[0] or "makeup"


def session_location(session) -> str:
    """Where a session takes place, on one line: the class's place, the company's name and
    its address (each line of it)."""
    company = session.company
    parts = [session.klass.location, company.name, *str(company.address).splitlines()]
    return ", ".join(one_line(part) for part in parts if part.strip())


def new_calendar(*, name: str = "", timezone: str = "", refresh: timedelta | None = None):
    """An empty VCALENDAR (``METHOD:PUBLISH``); a feed gives its name, zone and how often
    calendar apps should fetch it again."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # X- properties are not typed by the library: vText makes them escaped TEXT too.
    if name:
        calendar.add("x-wr-calname", icalendar.vText(one_line(name)))
    if timezone:
        calendar.add("x-wr-timezone", icalendar.vText(one_line(timezone)))
    if refresh is not None:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", icalendar.vDuration(refresh))
    return calendar


def calendar_event(
    *,
    uid: str,
    stamp: datetime,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    location: str,
    description: str,
    status: str = "",
    sequence: int = 0,
) -> icalendar.Event:
    """One VEVENT; times in UTC. ``sequence`` counts the event's revisions (a moved make-up
    keeps its UID with a higher sequence, so calendar apps update it in place)."""
    event = icalendar.Event()
    event.add("uid", one_line(uid))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", one_line(summary))
    event.add("location", one_line(location))
    event.add("description", paragraphs(description))
    if status:
        event.add("status", status)
    if sequence:
        event.add("sequence", sequence)
    return event


def to_ics(calendar: icalendar.Calendar) -> str:
    """The calendar as text: CRLF line endings, lines folded at 75 octets."""
    return calendar.to_ical().decode()


def makeup_ics(booking, *, stamp: datetime | None = None, sequence: int = 0) -> str:
    """The invitation for a booked make-up, attached to the confirmation e-mail — and, with
    the time of the change as ``stamp`` and its revision as ``sequence``, to the e-mail
    saying it moved (WAL-2): the same event, at its new time."""
    session = booking.session
    klass = session.klass
    calendar = new_calendar()
    calendar.add_component(
        calendar_event(
            uid=f"makeup-{booking.pk}@{uid_host()}",
            stamp=stamp or booking.booked_at,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            summary=_("Make-up: {klass} ({name})").format(
                klass=one_line(klass.name), name=one_line(booking.student.first_name)
            ),
            location=session_location(session),
            description=booking.note or klass.programme.name,
            sequence=sequence,
        )
    )
    return to_ics(calendar)
