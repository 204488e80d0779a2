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


_event_listeners: list[Callable] = []


def register_event_listener(fn: Callable) -> None:
    """``fn(*, event, bookings, now, **details)`` runs inside the transaction of a make-up's
    change — ``event`` "booked", "cancelled" (``bookings`` as they are now) or "moved" (with
    ``from_session``, the session it left) — and ``fn(*, event="closure_applied", closure,
    now)`` inside the one that marks a closure applied: the API's webhooks tell the company's
    own systems (API-4)."""
    if fn not in _event_listeners:
        _event_listeners.append(fn)


def makeups_announce(*, event: str, now, **details) -> None:
    for fn in _event_listeners:
        fn(event=event, now=now, **details)
