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


_attendance_batches: dict[Callable, Callable] = {}


def register_attendance_listener(fn: Callable, *, batch: Callable | None = None) -> None:
    """``fn(*, attendance, previous_state, actor, now)`` runs inside the transaction of every
    attendance change (the credit decision, package deduction, charges). ``batch(*,
    attendances, previous_states, actor, now)``, if given, does the same for many attendances
    changed together (a whole session cancelled, ATT-7) in fewer queries; ``previous_states``
    maps each attendance's id to its state before."""
    if fn not in _attendance_listeners:
        _attendance_listeners.append(fn)
    if batch is not None:
        _attendance_batches[fn] = batch


def attendance_changed(*, attendance, previous_state: str, actor, now: datetime) -> None:
    for fn in _attendance_listeners:
        fn(attendance=attendance, previous_state=previous_state, actor=actor, now=now)


def attendances_changed(*, attendances: list, previous_states: dict, actor, now: datetime) -> None:
    """Many attendances changed in one step: each listener in turn, in its batch form where
    it has one, else once per attendance."""
    for fn in _attendance_listeners:
        batch = _attendance_batches.get(fn)
        if batch is not None:
            batch(attendances=attendances, previous_states=previous_states, actor=actor, now=now)
            continue
        for attendance in attendances:
            fn(
                attendance=attendance,
                previous_state=previous_states[attendance.pk],
                actor=actor,
                now=now,
            )


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


_freed_places_notice: Callable[..., str] | None = None


def register_freed_places_notice(fn: Callable[..., str]) -> None:
    """``fn(*, now, session_id=None, klass_id=None) -> str``: what the watch list did at
    ``now`` with the places a staff action freed in a session or a class (booked or offered
    them, BEY-2, WAL-5), for the page to say; "" when nothing."""
    global _freed_places_notice
    _freed_places_notice = fn


def freed_places_notice(*, now, session_id: int | None = None, klass_id: int | None = None) -> str:
    if _freed_places_notice is None:
        return ""
    return _freed_places_notice(now=now, session_id=session_id, klass_id=klass_id)


_session_cancel_listeners: list[Callable] = []
_session_cancel_batches: dict[Callable, Callable] = {}


def register_session_cancel_listener(fn: Callable, *, batch: Callable | None = None) -> None:
    """``fn(*, session, reason, actor, now)`` runs inside the transaction that cancels a whole
    session (ATT-7): makeups cancels the make-up guests' bookings and gives their credits
    back. ``batch(*, sessions, reason, actor, now)``, if given, does the same for several
    sessions cancelled together (a closure, CLO-7)."""
    if fn not in _session_cancel_listeners:
        _session_cancel_listeners.append(fn)
    if batch is not None:
        _session_cancel_batches[fn] = batch


def session_cancelled(*, session, reason: str, actor, now) -> None:
    sessions_cancelled(sessions=[session], reason=reason, actor=actor, now=now)


def sessions_cancelled(*, sessions: list, reason: str, actor, now) -> None:
    for fn in _session_cancel_listeners:
        batch = _session_cancel_batches.get(fn)
        if batch is not None:
            batch(sessions=sessions, reason=reason, actor=actor, now=now)
            continue
        for session in sessions:
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
    decisions): the roster reads it by name, by the session (one query per relation), so the
    attendance view stays a fixed number of queries."""
    if relation not in _roster_prefetch:
        _roster_prefetch.append(relation)


def roster_prefetch_relations() -> list[str]:
    return list(_roster_prefetch)
