"""Reads for programmes and classes (split by concept, re-exported here)."""

from .classes import class_list, instructor_choices
from .closures import (
    ClosureCalendar,
    closed_sessions_q,
    closure_list,
    closure_sessions,
    closure_sessions_q,
    closure_windows,
    closures_between,
)
from .programmes import (
    MapEntry,
    accepting_programme_ids,
    credit_map,
    programme_choices,
    programme_list,
)

__all__ = [
    "ClosureCalendar",
    "MapEntry",
    "accepting_programme_ids",
    "class_list",
    "closed_sessions_q",
    "closure_list",
    "closure_sessions",
    "closure_sessions_q",
    "closure_windows",
    "closures_between",
    "credit_map",
    "instructor_choices",
    "programme_choices",
    "programme_list",
]
