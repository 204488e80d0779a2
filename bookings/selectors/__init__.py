"""Reads for families, rosters and attendance (split by concept, re-exported here)."""

from .attendance import RosterRow, expected_enrolments, roster_counts, session_roster
from .families import guardian_for_user, portal_companies_for_user

__all__ = [
    "RosterRow",
    "expected_enrolments",
    "guardian_for_user",
    "portal_companies_for_user",
    "roster_counts",
    "session_roster",
]

from .sessions import CalendarDay, class_page, session_calendar, sessions_with_counts  # noqa: E402

__all__ += ["CalendarDay", "class_page", "session_calendar", "sessions_with_counts"]
