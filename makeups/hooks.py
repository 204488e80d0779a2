"""Extension points of the makeups app for higher apps, registered in their
``AppConfig.ready()`` (makeups never imports franchise: dependencies point one way).

Without a registration the makeups app stands alone: a credit is spent only at home."""

from collections.abc import Callable

_partner_rules: Callable[..., dict] | None = None
_partner_companies: Callable[[int], list[int]] | None = None


def register_partner_rules(fn: Callable[..., dict]) -> None:
    """``fn(*, credit, sessions, now) -> {session id: [Check, ...]}`` for sessions of companies
    other than the credit's: the link, the host programme's switch, the host's restrictions
    (FRN-1…FRN-3)."""
    global _partner_rules
    _partner_rules = fn


def register_partner_companies(fn: Callable[[int], list[int]]) -> None:
    """``fn(company_id) -> [company id, ...]``: the companies with an approved link to it."""
    global _partner_companies
    _partner_companies = fn


def partner_rules(*, credit, sessions, now) -> dict | None:
    """The registered partner rules' checks, or ``None`` when no app registered them."""
    if _partner_rules is None:
        return None
    return _partner_rules(credit=credit, sessions=sessions, now=now)


def partner_companies(company_id: int) -> list[int]:
    return _partner_companies(company_id) if _partner_companies is not None else []
