"""Writes of the make-up (split by concept, re-exported here): booking, moving, cancelling,
watching, applying closures."""

from .booking import makeup_book
from .cancelling import (
    MakeupCancelled,
    lesson_cancel_by_parent,
    lesson_cancel_undo,
    makeup_cancel,
    makeups_cancel_for_cancelled_session,
    makeups_cancel_for_cancelled_sessions,
)
from .closures import (
    closure_apply_request,
    closure_notify_families,
    closure_notify_restored,
    closure_reason,
    closure_removal_execute,
    closure_remove_request,
    closure_run_execute,
)
from .moving import makeup_move
from .watches import MAX_WATCHES_PER_STUDENT, watch_create, watch_end, watch_fill

__all__ = [
    "MAX_WATCHES_PER_STUDENT",
    "MakeupCancelled",
    "closure_apply_request",
    "closure_notify_families",
    "closure_notify_restored",
    "closure_reason",
    "closure_remove_request",
    "closure_removal_execute",
    "closure_run_execute",
    "lesson_cancel_by_parent",
    "lesson_cancel_undo",
    "makeup_book",
    "makeup_cancel",
    "makeup_move",
    "makeups_cancel_for_cancelled_session",
    "makeups_cancel_for_cancelled_sessions",
    "watch_create",
    "watch_end",
    "watch_fill",
]
