"""Writes for programmes, classes and their sessions (split by concept, re-exported here)."""

from .classes import Slot, class_create, class_set_archived, class_update, schedule_conflicts
from .closures import (
    closure_create,
    closure_mark_removed,
    closure_update,
    closures_add_holidays,
)
from .programmes import (
    normalise_programme_code,
    programme_code_taken,
    programme_create,
    programme_set_archived,
    programme_update,
)
from .sessions import (
    GenerationResult,
    class_generate_sessions,
    session_create_one_off,
    slot_instants,
)

__all__ = [
    "GenerationResult",
    "Slot",
    "class_create",
    "class_generate_sessions",
    "class_set_archived",
    "class_update",
    "closure_create",
    "closure_mark_removed",
    "closure_update",
    "closures_add_holidays",
    "normalise_programme_code",
    "programme_code_taken",
    "programme_create",
    "programme_set_archived",
    "programme_update",
    "schedule_conflicts",
    "session_create_one_off",
    "slot_instants",
]
