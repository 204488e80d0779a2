"""Reads for programmes and classes (split by concept, re-exported here)."""

from .classes import class_list, instructor_choices
from .programmes import programme_choices, programme_list

__all__ = ["class_list", "instructor_choices", "programme_choices", "programme_list"]
