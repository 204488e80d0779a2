"""Extension points of the programmes app for higher apps, registered in their
``AppConfig.ready()`` (dependencies point one way: programmes imports none of them)."""

from collections.abc import Callable

_protecting_relations: list[str] = []
_programme_created: list[Callable] = []
_sessions_created: list[Callable] = []


def register_protecting_relation(name: str) -> None:
    """A reverse relation of ``Session`` whose rows make a session "in use" (bookings:
    attendance and make-up bookings): schedule regeneration never removes such a session."""
    if name not in _protecting_relations:
        _protecting_relations.append(name)


def protecting_relations() -> list[str]:
    return list(_protecting_relations)


def register_programme_created(fn: Callable) -> None:
    """``fn(*, programme)`` runs inside the transaction that created ``programme`` through
    :func:`programmes.services.programme_create` (credits adds its default cancellation
    policy)."""
    if fn not in _programme_created:
        _programme_created.append(fn)


def programme_created(*, programme) -> None:
    for fn in _programme_created:
        fn(programme=programme)


def register_sessions_created(fn: Callable) -> None:
    """``fn(*, session_ids)`` runs inside the transaction that generated new sessions in
    bulk (no signals are sent): bookings counts their places taken."""
    if fn not in _sessions_created:
        _sessions_created.append(fn)


def sessions_created(*, session_ids: list[int]) -> None:
    for fn in _sessions_created:
        fn(session_ids=session_ids)
