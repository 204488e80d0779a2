"""Extension points of the core app: what the "Today" page lists (DAY-2).

The back office opens on Today (``makeup.views.dashboard``): what needs doing now. The core
knows nothing of sessions, credits or partners, so each higher app registers its own items in
its ``AppConfig.ready()`` with :func:`register_today_item`; the view asks :func:`today_items`
once per request with the moment it read from the clock.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .models import Role


@dataclass
class TodayRow:
    """One line under an item: a session of today, a watched session… ``flag``: it needs
    attention now; ``done``: nothing left to do for it; ``highlight``: the reader's own (the
    sessions they teach)."""

    title: str
    url: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    note: str = ""
    status: str = ""
    flag: bool = False
    done: bool = False
    highlight: bool = False


@dataclass
class TodayItem:
    """Something that may need doing: ``count`` things, behind ``url``.

        ``title`` is what shows while ``count`` is above zero (already in the count's plural),
        ``done_title`` what shows when it is zero (the item is then listed as checked); ``note`` a
    line under the title. ``tone``
        is ``"danger"`` (do it now), ``"warning"`` (waits for somebody) or ``"info"``. An item
        with ``agenda`` set is a list of the day (today's sessions): it is shown as its own
        section with its ``rows`` rather than as a line of the to-do list, and ``anchor`` is the
        section's id, which other items may link to."""

    key: str
    title: str
    count: int
    url: str
    tone: str = "warning"
    done_title: str = ""
    note: str = ""
    rows: list[TodayRow] = field(default_factory=list)
    agenda: bool = False
    anchor: str = ""

    @property
    def due(self) -> bool:
        return self.count > 0


@dataclass
class _Registration:
    fn: Callable
    role: str


_items: list[_Registration] = []


def register_today_item(fn: Callable, *, role: str = Role.STAFF) -> None:
    """``fn(*, company, user, now) -> TodayItem | list[TodayItem] | None``: what an app adds to
    the Today page, for members with at least ``role`` (an item whose page only owners may
    open is registered with ``Role.OWNER``, so nobody else sees a link they can't follow).
    ``fn`` reads a fixed number of queries whatever the data (the page's cost is the sum)."""
    if all(registration.fn is not fn for registration in _items):
        _items.append(_Registration(fn=fn, role=role))


def today_items(*, company, user, membership, now: datetime) -> list[TodayItem]:
    """Every registered item for ``membership``'s role, in registration order (the order of
    the installed apps)."""
    items: list[TodayItem] = []
    for registration in _items:
        if membership is None or not membership.has_role(registration.role):
            continue
        result = registration.fn(company=company, user=user, now=now)
        if result is None:
            continue
        items.extend(result if isinstance(result, list) else [result])
    return items


@dataclass(frozen=True)
class FamilyRecipient:
    """A parent the notification service writes to (NTF-1): ``full_name`` greets them in
    the message, ``language`` is theirs (``""``: the company's)."""

    email: str
    full_name: str
    language: str = ""


_family_recipients: list[Callable] = []


def register_family_recipients(fn: Callable[..., list[FamilyRecipient]]) -> None:
    """``fn(*, company, family_id) -> list[FamilyRecipient]``: the parents of a family with an
    e-mail address (registered by ``bookings``, which knows families)."""
    if fn not in _family_recipients:
        _family_recipients.append(fn)


def family_recipients(*, company, family_id: int) -> list[FamilyRecipient]:
    return [
        recipient
        for fn in _family_recipients
        for recipient in fn(company=company, family_id=family_id)
    ]
