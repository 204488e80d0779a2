"""The capacity lock (MKP-8): every booking, cancellation and watch of a session serialises
on the session row before counting, so two families racing for the last place get one
booking and one clear refusal. On PostgreSQL the wait is bounded by a lock timeout, which
becomes "busy, please try again"."""

from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext as _

from makeup.errors import DomainError
from makeup.shapes import Shape
from programmes.models import Session

from ..selectors.eligibility import with_occupancy

LOCK_TIMEOUT = "5s"


def lock_session(session_id: int, *, now: datetime) -> Session:
    """Lock the session row (the capacity lock); refuse politely if it stays busy. Returns
    the session with its places counted at ``now`` (an open offer holds a place, WAL-5)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("The session lock needs a transaction.")
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        if not _LOCK(session_id=session_id):
            raise Session.DoesNotExist("Session matching query does not exist.")
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
            raise DomainError(
                _("This session is busy right now: please try again in a moment."), code="busy"
            ) from error
        raise
    (session,) = _COUNTED(session_id=session_id, now=now)  # the row is locked: it is there
    return session


_LOCK = Shape(
    lambda session_id: (
        Session.objects.select_for_update().filter(pk=session_id).values_list("pk").order_by()
    )
)
_COUNTED = Shape(
    lambda session_id, now: with_occupancy(
        Session.objects.filter(pk=session_id), now=now, guests=True
    ).order_by()
)
