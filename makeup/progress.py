"""How far a long task has got, for the page that follows it (htmx polls it).

A task that runs in one transaction (the CSV import: all rows or none) cannot show its
progress in the database: its writes are invisible until it commits. So progress goes to the
cache alias ``progress`` (``settings.CACHES``), which the web processes and the workers share:
Redis when ``REDIS_URL`` is set, else files in ``var/cache/progress`` (one machine, as
``make run``). Losing it loses only the figure on the page, never the task's work.
"""

from collections.abc import Callable

from django.core.cache import caches

ALIAS = "progress"
#: Kept this long after the last update (a task that died leaves no figure for ever).
TIMEOUT = 6 * 60 * 60
#: At most this many cache writes per task (one every 0.5 % of the rows).
UPDATES = 200


def progress_set(key: str, *, done: int, total: int) -> None:
    caches[ALIAS].set(key, (done, total), TIMEOUT)


def progress_get(key: str) -> tuple[int, int] | None:
    """``(done, total)``, or ``None`` before the task has started."""
    value = caches[ALIAS].get(key)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def progress_clear(key: str) -> None:
    caches[ALIAS].delete(key)


def progress_reporter(key: str, *, total: int) -> Callable[[int], None]:
    """A callback ``report(done)`` for a task's loop: it writes to the cache at the start,
    about :data:`UPDATES` times on the way and at the end, not on every item."""
    step = max(1, total // UPDATES)
    progress_set(key, done=0, total=total)

    def report(done: int) -> None:
        if done % step == 0 or done >= total:
            progress_set(key, done=done, total=total)

    return report
