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
from .offers import OfferAnswer, watch_offer_accept, watch_offers_expire
from .watches import (
    MAX_WATCHES_PER_STUDENT,
    offer_lapsed_reason,
    watch_create,
    watch_credits,
    watch_end,
    watch_fill,
    watch_offer_make,
)

__all__ = [
    "MAX_WATCHES_PER_STUDENT",
    "MakeupCancelled",
    "OfferAnswer",
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
    "watch_credits",
    "watch_fill",
    "watch_offer_accept",
    "watch_offer_make",
    "watch_offers_expire",
    "offer_lapsed_reason",
]
