"""Extension points for higher apps (credits, and later packages and charges).

Dependencies point one way (bookings never imports credits), so credits registers its
functions here when Django starts (``CreditsConfig.ready``).
"""

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

_classifier: Callable[..., bool] | None = None
_attendance_listeners: list[Callable] = []


def register_cancellation_classifier(fn: Callable[..., bool]) -> None:
    """``fn(*, session, cancelled_at) -> bool``: is a client cancellation on time (POL-1)?"""
    global _classifier
    _classifier = fn


def classify_client_cancellation(*, session, cancelled_at: datetime) -> bool:
    if _classifier is None:
        raise ImproperlyConfigured("No cancellation classifier registered (is credits installed?)")
    return _classifier(session=session, cancelled_at=cancelled_at)


def register_attendance_listener(fn: Callable) -> None:
    """``fn(*, attendance, previous_state, actor, now)`` runs inside the transaction of every
    attendance change (the credit decision, package deduction, charges)."""
    if fn not in _attendance_listeners:
        _attendance_listeners.append(fn)


def attendance_changed(*, attendance, previous_state: str, actor, now: datetime) -> None:
    for fn in _attendance_listeners:
        fn(attendance=attendance, previous_state=previous_state, actor=actor, now=now)


_family_panels: list[Callable] = []


def register_family_panel(fn: Callable) -> None:
    """``fn(*, request, family, now) -> {"template": name, "context": dict}``: a section a higher
    app adds to the back office's family page (credits, packages, balance)."""
    if fn not in _family_panels:
        _family_panels.append(fn)


def family_panels(*, request, family, now: datetime) -> list[dict]:
    return [fn(request=request, family=family, now=now) for fn in _family_panels]


_withdrawal_listeners: list[Callable] = []


def register_withdrawal_listener(fn: Callable) -> None:
    """``fn(*, enrolment, now)`` runs inside the transaction of a withdrawal (places free up
    in the sessions from that day: watchers may take them)."""
    if fn not in _withdrawal_listeners:
        _withdrawal_listeners.append(fn)


def enrolment_withdrawn(*, enrolment, now) -> None:
    for fn in _withdrawal_listeners:
        fn(enrolment=enrolment, now=now)


_session_cancel_listeners: list[Callable] = []


def register_session_cancel_listener(fn: Callable) -> None:
    """``fn(*, session, reason, actor, now)`` runs inside the transaction that cancels a whole
    session (ATT-7): credits cancels the make-up guests' bookings and gives their credits
    back."""
    if fn not in _session_cancel_listeners:
        _session_cancel_listeners.append(fn)


def session_cancelled(*, session, reason: str, actor, now) -> None:
    for fn in _session_cancel_listeners:
        fn(session=session, reason=reason, actor=actor, now=now)


_session_restore_listeners: list[Callable] = []


def register_session_restore_listener(fn: Callable) -> None:
    """``fn(*, session, restored, actor, now)`` runs inside the transaction that un-cancels a
    session (CLO-6), after its students are back to expected; ``restored`` is the list of
    attendances brought back."""
    if fn not in _session_restore_listeners:
        _session_restore_listeners.append(fn)


def session_restored(*, session, restored: list, actor, now) -> None:
    for fn in _session_restore_listeners:
        fn(session=session, restored=restored, actor=actor, now=now)


_guest_contacts: Callable | None = None


def register_guest_contacts(fn: Callable) -> None:
    """``fn(*, bookings) -> {student id: [Guardian, ...]}``: the parents of make-up guests
    from partner companies, whose rows the host's scope can't read (franchise, FRN-7)."""
    global _guest_contacts
    _guest_contacts = fn


def guest_contacts(*, bookings) -> dict:
    return _guest_contacts(bookings=bookings) if _guest_contacts is not None else {}


_roster_prefetch: list[str] = []


def register_roster_prefetch(relation: str) -> None:
    """A reverse relation of ``Attendance`` a higher app records per attendance (credits: its
    decisions): the attendance view prefetches it by name, so the page stays a fixed number
    of queries."""
    if relation not in _roster_prefetch:
        _roster_prefetch.append(relation)


def roster_prefetch_relations() -> list[str]:
    return list(_roster_prefetch)
