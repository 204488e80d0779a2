"""Writes for families, enrolments and attendance (split by concept, re-exported here)."""

from .attendance import attendance_mark_all_present, attendance_set_state, session_cancel
from .enrolments import AgeOutsideRange, enrolment_create, enrolment_withdraw, places_taken
from .families import parent_join, parent_signup

__all__ = [
    "AgeOutsideRange",
    "attendance_mark_all_present",
    "attendance_set_state",
    "enrolment_create",
    "enrolment_withdraw",
    "parent_join",
    "parent_signup",
    "places_taken",
    "session_cancel",
]
