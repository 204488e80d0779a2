"""How the webhooks (API-4) hear of what happens: listeners on the lower apps' hooks,
registered in :meth:`api.apps.ApiConfig.ready`, each running inside the transaction of the
change. Each first asks which endpoints want the event (one query) and builds nothing when
none does; ``data`` is the object as the API's reads show it (``/api/v1/…``)."""

import uuid
from datetime import datetime

from django_scopes import scopes_disabled

from bookings.models import PLACE_FREEING_STATES, MakeupBooking
from credits.models import MakeupCredit
from makeup.models import Company
from programmes.models import Session

from . import schemas, selectors
from .models import WebhookEvent
from .services.webhooks import (
    WebhookItem,
    webhook_endpoints,
    webhook_targets,
    webhooks_emit,
)

CREDIT_EVENTS = {
    "issued": WebhookEvent.CREDIT_ISSUED,
    "expiring": WebhookEvent.CREDIT_EXPIRING,
    "expired": WebhookEvent.CREDIT_EXPIRED,
}
MAKEUP_EVENTS = {
    "booked": WebhookEvent.MAKEUP_BOOKED,
    "cancelled": WebhookEvent.MAKEUP_CANCELLED,
    "moved": WebhookEvent.MAKEUP_MOVED,
}


def _dump(schema, row) -> dict:
    return schema.model_validate(row).model_dump(mode="json")


def credits_changed(*, event: str, credit_ids: list[int], now: datetime) -> None:
    """Credits issued, reminded of their expiry, or expired (credits' hook)."""
    kind = CREDIT_EVENTS[event]
    listening = webhook_targets(company_ids=None, event=kind)
    if not listening:
        return
    with scopes_disabled():
        owners = set(
            MakeupCredit.objects.filter(pk__in=credit_ids, company_id__in=listening)
            .order_by()
            .values_list("company_id", flat=True)
            .distinct()
        )
        targets = {company_id: listening[company_id] for company_id in owners}
        if not targets:
            return
        items = []
        for company in Company.objects.filter(pk__in=targets):
            rows = selectors.credits(company=company).filter(pk__in=credit_ids)
            items += [
                WebhookItem(
                    (company.pk,),
                    f"{kind}:{row.pk}",
                    row.pk,
                    _dump(schemas.Credit, selectors.credit_row(row)),
                )
                for row in rows
            ]
    webhooks_emit(event=kind, items=items, targets=targets, now=now)


def _bookings_data(bookings: list[MakeupBooking]) -> dict[int, dict]:
    """The bookings as ``/api/v1/makeups`` shows them to their host."""
    data: dict[int, dict] = {}
    hosts = {booking.company_id for booking in bookings}
    for company in Company.objects.filter(pk__in=hosts):
        rows = selectors.makeup_bookings(company=company).filter(
            pk__in=[booking.pk for booking in bookings]
        )
        data |= {row.pk: _dump(schemas.MakeupBooking, row) for row in rows}
    return data


def makeups_changed(*, event: str, now: datetime, **details) -> None:
    """Make-ups booked, cancelled or moved, and closures applied (makeups' hook). A make-up
    concerns its host and, for a guest of a partner branch, the guest's home school: both
    are told. A cancelled or moved make-up also releases a place (:func:`_places_released`)."""
    if event == "closure_applied":
        _closure_applied(closure=details["closure"], now=now)
        return
    kind = MAKEUP_EVENTS[event]
    bookings: list[MakeupBooking] = details["bookings"]
    with scopes_disabled():
        companies = {c for b in bookings for c in (b.company_id, b.home_company_id)}
        # Read once for this event and the place it frees (a move frees one at its old host).
        freeing = {details["from_session"].company_id} if event == "moved" else set()
        endpoints = webhook_endpoints(company_ids=companies | freeing)
        targets = webhook_targets(company_ids=companies, event=kind, endpoints=endpoints)
        if targets:
            data = _bookings_data(bookings)
            stamp = now.isoformat() if event == "moved" else ""
            items = [
                WebhookItem(
                    (booking.company_id, booking.home_company_id),
                    f"{kind}:{booking.pk}:{stamp}",
                    booking.pk,
                    data[booking.pk]
                    | ({"from_session_id": details["from_session"].pk} if event == "moved" else {}),
                )
                for booking in bookings
                if booking.pk in data
            ]
            webhooks_emit(event=kind, items=items, targets=targets, now=now)
    if event == "moved":
        _places_released(
            session_ids=[details["from_session"].pk],
            company_ids=[details["from_session"].company_id],
            cause="makeup_moved",
            now=now,
            endpoints=endpoints,
        )
    elif event == "cancelled":
        _places_released(
            session_ids=[booking.session_id for booking in bookings],
            company_ids={booking.company_id for booking in bookings},
            cause="makeup_cancelled",
            now=now,
            endpoints=endpoints,
        )


def _closure_applied(*, closure, now: datetime) -> None:
    kind = WebhookEvent.CLOSURE_APPLIED
    targets = webhook_targets(company_ids=[closure.company_id], event=kind)
    if not targets:
        return
    data = {
        "id": closure.pk,
        "name": closure.name,
        "first_day": closure.first_day,
        "last_day": closure.last_day,
        "start_time": closure.start_time,
        "end_time": closure.end_time,
        "applied_at": now,
    }
    key = f"{kind}:{closure.pk}:{now.isoformat()}"
    item = WebhookItem((closure.company_id,), key, closure.pk, data)
    webhooks_emit(event=kind, items=[item], targets=targets, now=now)


def _sessions_data(session_ids, *, now: datetime, upcoming: bool) -> list[tuple[int, dict]]:
    """``(company id, session as /api/v1/sessions shows it)``; with ``upcoming``, only those
    not cancelled and not started at ``now``."""
    found = []
    companies = Session.objects.filter(pk__in=session_ids).values_list("company_id", flat=True)
    for company in Company.objects.filter(pk__in=set(companies)):
        rows = selectors.sessions(company=company, now=now).filter(pk__in=session_ids)
        if upcoming:
            rows = rows.filter(cancelled_at__isnull=True, starts_at__gt=now)
        found += [
            (company.pk, _dump(schemas.Session, selectors.session_row(row)))
            for row in rows.select_related("klass")
        ]
    return found


def _places_released(
    *, session_ids, company_ids, cause: str, now: datetime, endpoints=None
) -> None:
    """A place is free again in these sessions of these companies (each upcoming, not
    cancelled): ``data`` is the session with its places, and ``cause`` says what freed it.
    ``endpoints``: those of these companies, when the caller has read them already."""
    kind = WebhookEvent.PLACE_RELEASED
    with scopes_disabled():
        targets = webhook_targets(company_ids=company_ids, event=kind, endpoints=endpoints)
        if not targets:
            return
        items = [
            WebhookItem(
                (company_id,),
                f"{kind}:{row['id']}:{uuid.uuid4().hex}",
                row["id"],
                {"session": row, "cause": cause},
            )
            for company_id, row in _sessions_data(session_ids, now=now, upcoming=True)
        ]
    webhooks_emit(event=kind, items=items, targets=targets, now=now)


def attendance_changed(*, attendance, previous_state: str, actor, now: datetime) -> None:
    """A regular who can't come releases their place (bookings' attendance hook)."""
    attendances_changed(
        attendances=[attendance],
        previous_states={attendance.pk: previous_state},
        actor=actor,
        now=now,
    )


def attendances_changed(*, attendances, previous_states: dict, actor, now: datetime) -> None:
    freed = {
        (attendance.session_id, attendance.company_id)
        for attendance in attendances
        if attendance.state in PLACE_FREEING_STATES
        and previous_states[attendance.pk] not in PLACE_FREEING_STATES
        and attendance.session.cancelled_at is None  # the school cancelled it: no place
    }
    if freed:
        _places_released(
            session_ids=sorted(session_id for session_id, _company in freed),
            company_ids={company_id for _session, company_id in freed},
            cause="regular_cancelled",
            now=now,
        )


def enrolment_withdrawn(*, enrolment, now: datetime) -> None:
    """A withdrawal releases the student's place in the class's sessions from that day."""
    if not webhook_targets(company_ids=[enrolment.company_id], event=WebhookEvent.PLACE_RELEASED):
        return
    with scopes_disabled():
        session_ids = list(
            Session.objects.filter(
                klass_id=enrolment.klass_id,
                local_date__gte=enrolment.withdrawn_from,
                starts_at__gt=now,
                cancelled_at__isnull=True,
            ).values_list("pk", flat=True)
        )
    if session_ids:
        _places_released(
            session_ids=session_ids,
            company_ids=[enrolment.company_id],
            cause="withdrawal",
            now=now,
        )


def session_cancelled(*, session, reason: str, actor, now: datetime) -> None:
    sessions_cancelled(sessions=[session], reason=reason, actor=actor, now=now)


def sessions_cancelled(*, sessions, reason: str, actor, now: datetime) -> None:
    """The school cancelled sessions (bookings' session-cancel hook; a closure's too)."""
    kind = WebhookEvent.SESSION_CANCELLED
    with scopes_disabled():
        targets = webhook_targets(company_ids={s.company_id for s in sessions}, event=kind)
        if not targets:
            return
        items = [
            WebhookItem((company_id,), f"{kind}:{row['id']}:{now.isoformat()}", row["id"], row)
            for company_id, row in _sessions_data([s.pk for s in sessions], now=now, upcoming=False)
        ]
    webhooks_emit(event=kind, items=items, targets=targets, now=now)
