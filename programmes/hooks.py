"""Extension points of the programmes app for higher apps, registered in their
``AppConfig.ready()`` (dependencies point one way: programmes imports none of them)."""

_protecting_relations: list[str] = []


def register_protecting_relation(name: str) -> None:
    """A reverse relation of ``Session`` whose rows make a session "in use" (bookings:
    attendance and make-up bookings): schedule regeneration never removes such a session."""
    if name not in _protecting_relations:
        _protecting_relations.append(name)


def protecting_relations() -> list[str]:
    return list(_protecting_relations)
