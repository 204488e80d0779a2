"""Reads for families, rosters and attendance (split by concept, re-exported here)."""

from .attendance import RosterRow, expected_enrolments, roster_counts, session_roster
from .families import (
    FamilyPage,
    family_list,
    family_list_page,
    family_page,
    family_students,
    guardian_for_user,
    guardian_with_email,
    portal_companies_for_user,
)
from .sessions import CalendarDay, class_page, session_calendar, sessions_with_counts

__all__ = [
    "FamilyPage",
    "RosterRow",
    "expected_enrolments",
    "family_list",
    "family_students",
    "family_list_page",
    "family_page",
    "guardian_for_user",
    "guardian_with_email",
    "portal_companies_for_user",
    "roster_counts",
    "session_roster",
    "CalendarDay",
    "class_page",
    "session_calendar",
    "sessions_with_counts",
]
