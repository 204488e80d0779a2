"""Back office: the session calendar and a session's attendance view (regulars and make-up
guests). Thin: parse, call a service or selector, render."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from makeup.errors import DomainError
from makeup.models import Membership
from makeup.shapes import Shape
from makeup.tenancy import access_object, access_one, staff_required
from programmes.models import Programme, Session

from .. import hooks
from ..forms import AttendanceForm, SessionCancelForm, WeekForm
from ..models import Enrolment, MakeupBooking
from ..selectors import session_calendar
from ..selectors.attendance import (
    attendance_counts,
    roster_counts,
    session_guest_states,
    session_makeup_guests,
    session_regular_states,
    session_roster,
)
from ..services import (
    attendance_set_state,
    makeup_set_attendance,
    session_cancel,
    session_mark_all_present,
)


@require_GET
@staff_required
def calendar(request: HttpRequest) -> HttpResponse:
    form = WeekForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    day = data.get("date") or today
    view = data.get("view") or "week"
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    span = 7 if view == "week" else 1
    days = session_calendar(
        company=request.company,
        first=first,
        days=span,
        programme_id=data.get("programme"),
        instructor_id=data.get("instructor"),
    )
    programmes = Programme.objects.filter(company=request.company, archived_at__isnull=True)
    instructors = (
        Membership.objects.filter(company=request.company)
        .select_related("user")
        .order_by("user__full_name")
    )
    return render(
        request,
        "bookings/session_calendar.html",
        {
            "days": days,
            "view": view,
            "day": day,
            "today": today,
            "previous": first - timedelta(days=span),
            "next": first + timedelta(days=span),
            "programmes": programmes,
            "instructors": instructors,
            "filters": data,
        },
    )


_SESSION = Shape(
    lambda company_id, pk: (
        Session.objects.filter(company_id=company_id, pk=pk)
        .select_related("klass__programme", "klass__instructor", "cancelled_by")
        .order_by()[:1]
    )
)
_ENROLMENT = Shape(
    lambda company_id, pk, klass_id: (
        Enrolment.objects.filter(company_id=company_id, pk=pk, klass_id=klass_id)
        .select_related("student")
        .order_by()[:1]
    )
)


def _session(request: HttpRequest, session_pk: int) -> Session:
    return access_one(_SESSION, company=request.company, pk=session_pk)


@require_GET
@staff_required
def session_detail(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = _session(request, session_pk)
    rows = session_roster(session)
    guests = session_makeup_guests(session)
    return render(
        request,
        "bookings/session_detail.html",
        {
            "session": session,
            "rows": rows,
            "guests": guests,
            "counts": roster_counts(rows, guests),
            "cancel_form": SessionCancelForm(),
            "now_local": timezone.localtime(),
        },
    )


@require_POST
@staff_required
def attendance_set(request: HttpRequest, session_pk: int, enrolment_pk: int) -> HttpResponse:
    """One click on the attendance view; htmx swaps the student's row in place."""
    session = _session(request, session_pk)
    enrolment = access_one(
        _ENROLMENT, company=request.company, pk=enrolment_pk, klass_id=session.klass_id
    )
    form = AttendanceForm(request.POST)
    error = None
    now = timezone.now()
    if form.is_valid():
        try:
            attendance_set_state(
                enrolment=enrolment,
                session=session,
                state=form.cleaned_data["state"],
                cancelled_at=form.cleaned_data.get("cancelled_at"),
                actor=request.user,
                now=now,
            )
        except DomainError as exc:
            error = exc.message
        else:
            # BEY-2, WAL-5: a cancellation that freed a place the watch list took or was
            # offered — say so, and reload the page (a new make-up guest may be on it), with
            # the notice on top.
            notice = hooks.freed_places_notice(now=now, session_id=session.pk)
            if notice:
                messages.info(request, notice)
                if request.htmx:
                    return HttpResponseClientRefresh()
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if request.htmx:
        rows = session_roster(session)
        row = next((r for r in rows if r.enrolment.pk == enrolment.pk), None)
        if row is None:  # withdrawn meanwhile
            return HttpResponse(status=204)
        # DAY-1: the row and, out of band, the session's counts line, both read afresh.
        return render(
            request,
            "bookings/_attendance_row_update.html",
            {
                "session": session,
                "row": row,
                "error": error,
                "counts": attendance_counts([r.state for r in rows], session_guest_states(session)),
                "now_local": timezone.localtime(now),
            },
        )
    if error:
        messages.error(request, error)
    return redirect("manage:session_detail", session_pk=session.pk)


@require_POST
@staff_required
def makeup_attendance_set(request: HttpRequest, session_pk: int, booking_pk: int) -> HttpResponse:
    """MKP-10: a make-up guest's attendance, one click like the regulars; htmx swaps the row.
    The service refuses any state but present, did not attend and expected."""
    session = _session(request, session_pk)
    booking = access_object(
        MakeupBooking.objects.all(), company=request.company, pk=booking_pk, session_id=session.pk
    )
    error = None
    try:
        makeup_set_attendance(
            now=timezone.now(),
            booking=booking,
            state=request.POST.get("state", ""),
            actor=request.user,
        )
    except DomainError as exc:
        error = exc.message
    if request.htmx:
        guests = session_makeup_guests(session)
        guest = next((g for g in guests if g.pk == booking.pk), None)
        if guest is None:  # cancelled meanwhile
            return HttpResponse(status=204)
        # DAY-1: the row and, out of band, the session's counts line, both read afresh.
        return render(
            request,
            "bookings/_attendance_row_update.html",
            {
                "session": session,
                "guest": guest,
                "error": error,
                "counts": attendance_counts(
                    session_regular_states(session), [g.attendance_state for g in guests]
                ),
                "now_local": timezone.localtime(),
            },
        )
    if error:
        messages.error(request, error)
    return redirect("manage:session_detail", session_pk=session.pk)


@require_POST
@staff_required
def session_all_present(request: HttpRequest, session_pk: int) -> HttpResponse:
    """Every regular and make-up guest still expected becomes present (MKP-10: guests are
    marked like any other)."""
    session = _session(request, session_pk)
    try:
        count = session_mark_all_present(now=timezone.now(), session=session, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "{count} student marked present.", "{count} students marked present.", count
            ).format(count=count),
        )
    return redirect("manage:session_detail", session_pk=session.pk)


@require_POST
@staff_required
def session_cancel_view(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = _session(request, session_pk)
    form = SessionCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the session is cancelled (parents see it)."))
        return redirect("manage:session_detail", session_pk=session.pk)
    try:
        count = session_cancel(
            now=timezone.now(),
            session=session,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "Session cancelled; {count} student marked “cancelled by us”.",
                "Session cancelled; {count} students marked “cancelled by us”.",
                count,
            ).format(count=count),
        )
    return redirect("manage:session_detail", session_pk=session.pk)
