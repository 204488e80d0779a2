"""A session's places taken (MKP-7), kept as a column: regular students enrolled that day,
minus those who gave their place up (cancelled, or cancelled by the school), plus booked
make-up guests. The search reads the column instead of counting three tables per session.

It stays exact the way pretix keeps a quota: every write that changes one of the three counts
recounts the sessions it touched, from the rows themselves, under those sessions' row locks
and inside the writer's transaction. Whoever recounts last holds the lock and sees every
committed change before it, so concurrent writers cannot leave a stale figure. Single-row
saves and deletes recount through the receivers in ``bookings.receivers``; bulk writes call
:func:`recount_places` themselves. ``ops``' ``check_invariants`` proves the column equals the
count."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django_scopes import scopes_disabled

from makeup.shapes import Shape, UpdateShape
from programmes.models import Session

from ..models import PLACE_FREEING_STATES, Attendance, Enrolment, MakeupBooking


def row_count(queryset, group: str):
    """The number of ``queryset``'s rows per ``group`` (a field pointing at the outer row),
    as a subquery expression: 0 where there are none."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(c=Count("pk")).values("c"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def counted_places():
    """The places taken of each session of a queryset, counted from the rows (an expression
    to annotate or update with)."""
    regulars = Enrolment.objects.filter(
        klass=OuterRef("klass"), start_date__lte=OuterRef("local_date")
    ).filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=OuterRef("local_date")))
    freed = Attendance.objects.filter(session=OuterRef("pk"), state__in=PLACE_FREEING_STATES)
    guests = MakeupBooking.objects.filter(session=OuterRef("pk"), state=MakeupBooking.State.BOOKED)
    return row_count(regulars, "klass") - row_count(freed, "session") + row_count(guests, "session")


def recount_places(
    *,
    session_ids: Iterable[int] = (),
    klass_ids: Iterable[int] = (),
    company_id: int | None = None,
    locked: bool = False,
) -> None:
    """Recount the places taken of the sessions ``session_ids``, of every session of the
    classes ``klass_ids`` (an enrolment changed), or of every session of ``company_id``
    (bulk loads). Locks the sessions first (in id order, as every session lock is taken)
    unless the caller holds them already (``locked``)."""
    session_ids, klass_ids = sorted(set(session_ids)), sorted(set(klass_ids))
    if not session_ids and not klass_ids and company_id is None:
        return
    # No savepoint of its own inside the caller's transaction (two round trips on every
    # booking, cancellation and mark): a failure here fails the caller's write anyway.
    with scopes_disabled(), transaction.atomic(savepoint=False):
        if len(session_ids) == 1 and not klass_ids and company_id is None:
            # A booking's, a cancellation's or a mark's one session: compiled once.
            if not locked:
                _LOCK_ONE(session_id=session_ids[0])
            _RECOUNT_ONE(session_id=session_ids[0])
            return
        sessions = Session.objects.all()
        if company_id is not None:
            sessions = sessions.filter(company_id=company_id)
        else:
            sessions = sessions.filter(Q(pk__in=session_ids) | Q(klass_id__in=klass_ids))
        if not locked:
            list(sessions.select_for_update().order_by("pk").values_list("pk", flat=True))
        # A statement of its own after the lock: it reads every change committed before it.
        sessions.update(places_taken=counted_places())


_LOCK_ONE = Shape(
    lambda session_id: (
        Session.objects.filter(pk=session_id).select_for_update().values_list("pk", flat=True)
    )
)
_RECOUNT_ONE = UpdateShape(
    lambda session_id: (Session.objects.filter(pk=session_id), {"places_taken": counted_places()})
)
