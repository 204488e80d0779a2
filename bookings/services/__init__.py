"""Writes of the bookings app, a module per concept: families, enrolments, attendance, make-up
guests, packages, account, feeds, the CSV import, online payments (the most used re-exported
here)."""

from ..selectors.packages import packages_with_remaining
from .attendance import (
    attendance_mark_all_present,
    attendance_set_state,
    session_cancel,
    session_mark_all_present,
    session_restore,
)
from .enrolments import AgeOutsideRange, enrolment_create, enrolment_withdraw, places_taken
from .families import (
    check_date_of_birth,
    check_portal_parent,
    family_create,
    family_create_with_members,
    family_update,
    guardian_create,
    guardian_invite,
    guardian_update,
    parent_accept_invitation,
    parent_join,
    parent_signup,
    student_create,
    student_update,
)
from .feeds import feed_for_family, feed_for_instructor, feed_reset
from .guests import makeup_set_attendance
from .packages import COUNTED_STATES, package_sell

__all__ = [
    "AgeOutsideRange",
    "makeup_set_attendance",
    "COUNTED_STATES",
    "package_sell",
    "packages_with_remaining",
    "attendance_mark_all_present",
    "attendance_set_state",
    "check_date_of_birth",
    "check_portal_parent",
    "enrolment_create",
    "enrolment_withdraw",
    "family_create",
    "family_create_with_members",
    "family_update",
    "feed_for_family",
    "feed_for_instructor",
    "feed_reset",
    "guardian_create",
    "guardian_invite",
    "guardian_update",
    "parent_accept_invitation",
    "parent_join",
    "parent_signup",
    "places_taken",
    "session_cancel",
    "session_mark_all_present",
    "session_restore",
    "student_create",
    "student_update",
]
