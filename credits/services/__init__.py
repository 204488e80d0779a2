"""Writes of credits (split by concept, re-exported here): the decision chain, the credit
ledger, policies, claims, the periodic sweeps, the lesson reminders and the family wallet
(transfers, the carry-over into the next term)."""

from .carry_over import CarryOverResult, credits_carry_over
from .claims import MESSAGE_MAX, REASON_MAX, claim_approve, claim_decline, claim_submit
from .decisions import (
    PATH_FOR_STATE,
    credit_decide,
    credits_decide_many,
    decision_mark_reviewed,
    staff_path_refusal,
)
from .ledger import (
    credit_add_manual,
    credit_expiry,
    credit_move,
    credit_reinstate,
    credit_return,
    credit_revoke,
    credit_spend,
    credits_reinstate_many,
)
from .policies import policy_update
from .reminders import lessons_claim_reminders
from .sweeps import credits_claim_reminders, credits_expire_due, credits_held_for_carry_over
from .transfers import credit_transfer

__all__ = [
    "MESSAGE_MAX",
    "CarryOverResult",
    "PATH_FOR_STATE",
    "REASON_MAX",
    "claim_approve",
    "claim_decline",
    "claim_submit",
    "credit_add_manual",
    "credit_decide",
    "credit_expiry",
    "credit_move",
    "credit_reinstate",
    "credit_return",
    "credit_revoke",
    "credit_spend",
    "credit_transfer",
    "credits_carry_over",
    "credits_claim_reminders",
    "credits_decide_many",
    "credits_reinstate_many",
    "credits_expire_due",
    "credits_held_for_carry_over",
    "decision_mark_reviewed",
    "lessons_claim_reminders",
    "policy_update",
    "staff_path_refusal",
]
