"""iCalendar (RFC 5545) for a booked make-up, attached to the confirmation e-mail."""

from datetime import UTC

from django.conf import settings
from django.utils.translation import gettext as _


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    out, data = [], line.encode()
    while len(data) > 75:
        cut = 75
        while (data[cut] & 0xC0) == 0x80:  # don't split a UTF-8 character
            cut -= 1
        out.append(data[:cut].decode())
        data = b" " + data[cut:]
    out.append(data.decode())
    return "\r\n".join(out)


def makeup_ics(booking) -> str:
    session = booking.session
    klass = session.klass
    stamp = "%Y%m%dT%H%M%SZ"
    host = settings.SITE_URL.split("//")[-1].split("/")[0] or "makeup"
    location = klass.location or session.company.name
    if session.company.address:
        location = f"{location}, {session.company.address.replace(chr(10), ', ')}"
    summary = _("Make-up: {klass} ({name})").format(
        klass=klass.name, name=booking.student.first_name
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Make-up sessions//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:makeup-{booking.pk}@{host}",
        f"DTSTAMP:{booking.booked_at.astimezone(UTC).strftime(stamp)}",
        f"DTSTART:{session.starts_at.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{session.ends_at.astimezone(UTC).strftime(stamp)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(booking.note or klass.programme.name)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
