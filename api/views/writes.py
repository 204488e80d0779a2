"""API-3: the writes, each one call of the service the pages call — the same rules, locks
and refusals. A key acts for the owner who made it, as staff of the company: the history of
each change names that person, and its note says which key."""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Status

from bookings.models import AttendanceChange, Enrolment, MakeupBooking
from bookings.services import attendance_set_state
from credits.models import MakeupCredit
from makeup.tenancy import access_object
from makeups.services import lesson_cancel_by_parent, makeup_book, makeup_cancel, makeup_move
from programmes.models import Session

from .. import schemas, selectors
from ..auth import write_auth
from .reads import router

# One router with the reads: a path (``/makeups``) is one URL whatever the method.
WRITE = {"auth": write_auth, "tags": ["write"]}

REFUSALS = {404: schemas.Error, 409: schemas.Error, 422: schemas.Error, 503: schemas.Error}


def _via(request: HttpRequest, note: str = "") -> str:
    text = _("API key “{name}”").format(name=request.auth.name)
    return f"{text}: {note.strip()}"[:200] if note.strip() else text[:200]


def _session_and_enrolment(request: HttpRequest, session_id: int, enrolment_id: int):
    company = request.auth.company
    session = access_object(
        Session.objects.select_related("klass__programme", "company"),
        company=company,
        pk=session_id,
    )
    enrolment = access_object(
        Enrolment.objects.select_related("student"), company=company, pk=enrolment_id
    )
    return session, enrolment


def _attendance(request: HttpRequest, attendance) -> dict:
    row = selectors.attendance(company=request.auth.company).get(pk=attendance.pk)
    return row


def _booking(request: HttpRequest, booking: MakeupBooking):
    return selectors.makeup_bookings(company=request.auth.company).get(pk=booking.pk)


@router.put("/attendance", response={200: schemas.Attendance, **REFUSALS}, **WRITE)
def attendance_put(request: HttpRequest, data: schemas.AttendanceIn):
    """Set a student's attendance for a session, as the attendance page does (ATT-1…ATT-6).

    For a client cancellation (`cancelled` or `late_cancelled`, alike) give `cancelled_at`,
    when the client told you: the programme's policy decides whether it was on time, and the
    credit decision follows."""
    session, enrolment = _session_and_enrolment(request, data.session_id, data.enrolment_id)
    attendance = attendance_set_state(
        enrolment=enrolment,
        session=session,
        state=data.state,
        cancelled_at=data.cancelled_at,
        actor=request.auth.created_by,
        source=AttendanceChange.Source.API,
        note=_via(request, data.note),
        now=timezone.now(),
    )
    return _attendance(request, attendance)


@router.post("/client-cancellations", response={200: schemas.Attendance, **REFUSALS}, **WRITE)
def client_cancellation_post(request: HttpRequest, data: schemas.ClientCancellationIn):
    """A family can't come to an upcoming lesson: recorded as the portal's "Can't come"
    button records it — stamped now, on time or late by the policy, refused with the
    company's own instructions where late cancellations are not taken online (POL-11)."""
    session, enrolment = _session_and_enrolment(request, data.session_id, data.enrolment_id)
    attendance = lesson_cancel_by_parent(
        enrolment=enrolment,
        session=session,
        actor=request.auth.created_by,
        source=AttendanceChange.Source.API,
        note=_via(request),
        now=timezone.now(),
    )
    return _attendance(request, attendance)


@router.post("/makeups", response={201: schemas.MakeupBooking, **REFUSALS}, **WRITE)
def makeup_post(request: HttpRequest, data: schemas.MakeupBookIn):
    """Book a make-up with a credit in one of the school's sessions (MKP-1…MKP-11): the
    session is locked and every rule checked afresh; the last place goes to one booking."""
    company = request.auth.company
    credit = access_object(MakeupCredit.objects.all(), company=company, pk=data.credit_id)
    session = access_object(Session.objects.all(), company=company, pk=data.session_id)
    booking = makeup_book(
        credit=credit,
        session=session,
        actor=request.auth.created_by,
        source=MakeupBooking.Source.STAFF,
        note=_via(request, data.note),
        override_reason=data.override_reason,
        now=timezone.now(),
    )
    return Status(201, _booking(request, booking))


@router.post(
    "/makeups/{booking_id}/cancel", response={200: schemas.MakeupBooking, **REFUSALS}, **WRITE
)
def makeup_cancel_post(request: HttpRequest, booking_id: int, data: schemas.MakeupCancelIn):
    """Cancel a make-up: on time by the host programme's policy the credit comes back,
    late it stays used (CRD-3); the freed place goes to the first family watching (BEY-2)."""
    booking = access_object(
        MakeupBooking.objects.all(), company=request.auth.company, pk=booking_id
    )
    makeup_cancel(
        booking=booking,
        actor=request.auth.created_by,
        cancelled_at=data.cancelled_at,
        now=timezone.now(),
    )
    return _booking(request, booking)


@router.post(
    "/makeups/{booking_id}/move", response={200: schemas.MakeupBooking, **REFUSALS}, **WRITE
)
def makeup_move_post(request: HttpRequest, booking_id: int, data: schemas.MakeupMoveIn):
    """Move a booked make-up to another session in one step (WAL-2): the credit stays
    spent, both sessions are locked in a fixed order."""
    company = request.auth.company
    booking = access_object(MakeupBooking.objects.all(), company=company, pk=booking_id)
    session = access_object(Session.objects.all(), company=company, pk=data.session_id)
    makeup_move(
        booking=booking,
        session=session,
        actor=request.auth.created_by,
        by_staff=True,
        override_reason=data.override_reason,
        now=timezone.now(),
    )
    return _booking(request, booking)
