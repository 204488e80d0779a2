"""Writes of the make-up (split by concept, re-exported here): booking, moving, cancelling,
watching."""

from .booking import makeup_book
from .cancelling import (
    MakeupCancelled,
    lesson_cancel_by_parent,
    lesson_cancel_undo,
    makeup_cancel,
    makeups_cancel_for_cancelled_session,
)
from .moving import makeup_move
from .watches import MAX_WATCHES_PER_STUDENT, watch_create, watch_end, watch_fill

__all__ = [
    "MAX_WATCHES_PER_STUDENT",
    "MakeupCancelled",
    "lesson_cancel_by_parent",
    "lesson_cancel_undo",
    "makeup_book",
    "makeup_cancel",
    "makeup_move",
    "makeups_cancel_for_cancelled_session",
    "watch_create",
    "watch_end",
    "watch_fill",
]
