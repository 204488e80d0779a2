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
