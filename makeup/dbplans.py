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

psycopg also forgets every prepared statement of the connection (``DEALLOCATE ALL``) when a
transaction or a savepoint is rolled back — which every refused write does: a booking
refused under its lock, a mark that lost a race. Each statement is then run unprepared five
times and planned for its values five more before PostgreSQL settles on one plan, and
planning the portal's wider reads costs 10–20 ms each (a credit read with its enrolment,
child, class, programme, holder and lesson: 13 ms to plan, 0.2 ms to run). After one refusal
the next ten bookings of that worker paid it again. PostgreSQL keeps prepared statements
across a rollback (they belong to the session, not the transaction); psycopg forgets them
in case the rollback undid a table or type they were planned against, which this
application never changes while it runs — its schema changes only in migrations, whose
DROP and ALTER still make psycopg forget them. ``DATABASE_KEEP_PREPARED_ON_ROLLBACK``
(default on) keeps them (:class:`_KeptAcrossRollbacks`).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from psycopg._preparing import PrepareManager  # psycopg's own record: see the class


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


class _KeptAcrossRollbacks(PrepareManager):
    """psycopg's record of a connection's prepared statements, not forgotten on a rollback.

    psycopg (3.3) forgets them all in two places: ``Connection.rollback()`` calls
    :meth:`clear`, and a statement whose status is ``ROLLBACK`` (a savepoint rolled back),
    ``DROP``, ``ALTER``, ``DISCARD ALL`` or ``DEALLOCATE ALL`` goes through
    :meth:`_should_discard`. Here only the last four still clear them. This is psycopg's
    internal class, pinned in requirements.lock; ``tests/makeup/test_dbplans.py`` fails if
    an upgrade changes what it does."""

    _discarding = False

    def clear(self) -> bool:
        return super().clear() if self._discarding else False  # a rollback: keep them

    def _should_discard(self, prep, results: Sequence) -> bool:
        if any((result.command_status or b"").startswith(b"ROLLBACK") for result in results):
            return False
        self._discarding = True
        try:
            return super()._should_discard(prep, results)
        finally:
            self._discarding = False


def size_the_prepared_cache(sender, connection, **kwargs) -> None:
    """``connection_created``: keep up to ``DATABASE_PREPARED_MAX`` statements prepared
    (about 75 KB of the PostgreSQL backend's memory each, measured), across rollbacks
    unless ``DATABASE_KEEP_PREPARED_ON_ROLLBACK`` is off."""
    if connection.vendor != "postgresql":
        return
    raw = connection.connection
    if settings.DATABASE_KEEP_PREPARED_ON_ROLLBACK and type(raw._prepared) is PrepareManager:
        kept = _KeptAcrossRollbacks()
        kept.__dict__.update(raw._prepared.__dict__)  # what the connection has counted so far
        raw._prepared = kept
    raw.prepared_max = settings.DATABASE_PREPARED_MAX
