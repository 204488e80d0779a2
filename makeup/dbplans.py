"""Prepared statements and the few queries that must not use them (PostgreSQL).

A query run a few times on a connection is kept prepared (``DATABASE_PREPARE_THRESHOLD``,
config/settings.py): PostgreSQL then plans it once, for any values. That suits the
look-ups by id that most pages make, whose plan is the same whatever the values. It does
not suit a query whose best plan depends on its values: the make-up search reads a date
range's sessions soonest first and stops at a page; planned for the actual range,
PostgreSQL walks the index and stops after the page, while a plan made for any range reads
the whole range and sorts it (6.7 ms instead of 0.9 ms in a company of 20,000 sessions).
The back office's people search is another: how many rows a typed word matches decides
whether the trigram index pays.

psycopg keeps at most 100 statements per connection (prepared or still being counted),
least recently used first out. A worker serving every page runs more shapes than that: the
ones counted were pushed out before their fifth run and prepared ones were dropped and made
again, so the busy queries were planned anew on most runs. ``DATABASE_PREPARED_MAX``
(default 500) sizes that cache when a connection opens.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection


@contextmanager
def planned_for_its_values() -> Iterator[None]:
    """Run the queries inside unprepared: each planned for its own values."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    saved = raw.prepare_threshold
    raw.prepare_threshold = None  # psycopg: neither prepare nor use a prepared statement
    try:
        yield
    finally:
        raw.prepare_threshold = saved


def size_the_prepared_cache(sender, connection, **kwargs) -> None:
    """``connection_created``: keep up to ``DATABASE_PREPARED_MAX`` statements prepared
    (about 75 KB of the PostgreSQL backend's memory each, measured)."""
    if connection.vendor == "postgresql":
        connection.connection.prepared_max = settings.DATABASE_PREPARED_MAX
