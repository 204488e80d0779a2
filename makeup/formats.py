"""One way to write an instant for people: in a time zone (the company's, or the active one)
and through Django's formats, so month and day names follow the reader's language. ``fmt`` is
a named format of ``makeup/locale_formats/<language>/formats.py`` (DAY-4), e.g.
"DAY_FORMAT", or one of Django's own ("DATE_FORMAT")."""

from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.formats import date_format

# "Tue 24 Nov 2026, 17:00"; in Czech "út 24. listopadu 2026, 17:00".
WITH_YEAR = "WEEKDAY_YEAR_TIME_FORMAT"


def local_datetime(moment: datetime, tz: tzinfo | None = None, fmt: str = WITH_YEAR) -> str:
    """``moment`` as wall-clock time in ``tz`` (default: the active time zone)."""
    return date_format(timezone.localtime(moment, tz), fmt)
