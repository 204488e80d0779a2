"""Extension points of the credits app for higher apps, registered in their
``AppConfig.ready()`` (credits never imports makeups: dependencies point one way).

Without a registration the credits app stands alone: the expiry reminder names no sessions."""

from collections.abc import Callable

_expiry_offers: Callable[..., list[dict]] | None = None


def register_expiry_offers(fn: Callable[..., list[dict]]) -> None:
    """``fn(*, company, credit, now) -> [{"session", "places_left", "url"}, ...]``: the
    bookable sessions the "credit expiring" e-mail offers, each with a link that books it
    (BEY-3)."""
    global _expiry_offers
    _expiry_offers = fn


def expiry_offers(*, company, credit, now) -> list[dict]:
    """The registered offers for ``credit``, or none when no app registered them."""
    if _expiry_offers is None:
        return []
    return _expiry_offers(company=company, credit=credit, now=now)


_event_listeners: list[Callable] = []


def register_event_listener(fn: Callable) -> None:
    """``fn(*, event, credit_ids, now)`` runs inside the transaction that issued credits
    (``event`` "issued"), claimed their "expiring soon" reminders ("expiring") or expired
    them ("expired") — the API's webhooks tell the company's own systems (API-4)."""
    if fn not in _event_listeners:
        _event_listeners.append(fn)


# A listener reads the credits by id: a sweep may expire a hundred thousand at once, and
# PostgreSQL takes at most 65,535 values in one statement (prepared statements send the
# values apart from the SQL), so listeners hear of them this many at a time.
ANNOUNCE_BATCH = 5000


def credits_announce(*, event: str, credit_ids: list[int], now) -> None:
    credit_ids = list(credit_ids)
    for start in range(0, len(credit_ids), ANNOUNCE_BATCH):
        batch = credit_ids[start : start + ANNOUNCE_BATCH]
        for fn in _event_listeners:
            fn(event=event, credit_ids=batch, now=now)


def has_event_listeners() -> bool:
    return bool(_event_listeners)
