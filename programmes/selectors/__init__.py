"""Reads for programmes and classes (split by concept, re-exported here)."""

from .classes import class_list, instructor_choices
from .closures import (
    HOLIDAY_SPAN_DAYS,
    ClosureCalendar,
    HolidayRow,
    closed_sessions_q,
    closure_calendars,
    closure_days_text,
    closure_list,
    closure_location_choices,
    closure_sessions,
    closure_sessions_q,
    closure_windows,
    closures_ahead,
    closures_between,
    closures_for_sessions,
    closures_past,
    holidays_ahead,
    next_closure,
)
from .programmes import programme_choices, programme_list

__all__ = [
    "HOLIDAY_SPAN_DAYS",
    "ClosureCalendar",
    "HolidayRow",
    "class_list",
    "closed_sessions_q",
    "closure_calendars",
    "closure_days_text",
    "closure_list",
    "closure_location_choices",
    "closure_sessions",
    "closure_sessions_q",
    "closure_windows",
    "closures_ahead",
    "closures_between",
    "closures_for_sessions",
    "closures_past",
    "holidays_ahead",
    "instructor_choices",
    "next_closure",
    "programme_choices",
    "programme_list",
]
