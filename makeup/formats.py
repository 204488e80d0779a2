"""One way to write an instant for people: in a time zone (the company's, or the active one)
and through Django's formats, so month and day names follow the reader's language."""

from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.formats import date_format

# "Tue 24 Nov 2026, 17:00"
WITH_YEAR = "D j M Y, H:i"


def local_datetime(moment: datetime, tz: tzinfo | None = None, fmt: str = WITH_YEAR) -> str:
    """``moment`` as wall-clock time in ``tz`` (default: the active time zone)."""
    return date_format(timezone.localtime(moment, tz), fmt)
