"""Writes of the franchise (split by concept, re-exported here): company links and their
invitations (FRN-1), each company's terms for incoming make-ups from a partner (FRN-3)."""

from .links import (
    check_owner,
    invite_max_age_days,
    is_owner,
    link_approve,
    link_decline,
    link_end,
    link_from_token,
    link_invitation_token,
    link_invite,
    live_link_between,
)
from .restrictions import restriction_update

__all__ = [
    "check_owner",
    "invite_max_age_days",
    "is_owner",
    "link_approve",
    "link_decline",
    "link_end",
    "link_from_token",
    "link_invitation_token",
    "link_invite",
    "live_link_between",
    "restriction_update",
]
