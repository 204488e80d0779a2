"""Back office: the session calendar, a session's attendance view, the class page and
enrolments. Thin: parse, call a service or selector, render."""

from datetime import timedelta

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from makeup.errors import DomainError
from makeup.models import Membership
from makeup.tenancy import access_object, admin_required, staff_required
from programmes.models import Class, Programme, Session
from programmes.services.sessions import session_create_one_off

from .models import AttendanceState, Enrolment, MakeupBooking, Student
from .selectors import class_page, session_calendar
from .selectors.attendance import (
    attendance_counts,
    roster_counts,
    session_guest_states,
    session_makeup_guests,
    session_regular_states,
    session_roster,
)
from .services import (
    AgeOutsideRange,
    attendance_mark_all_present,
    attendance_set_state,
    enrolment_create,
    enrolment_withdraw,
    makeup_set_attendance,
    session_cancel,
)
from .session_forms import (
    AttendanceForm,
    EnrolForm,
    OneOffSessionForm,
    SessionCancelForm,
    WeekForm,
    WithdrawForm,
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


def _session(request: HttpRequest, session_pk: int) -> Session:
    return access_object(
        Session.objects.select_related("klass__programme", "klass__instructor", "cancelled_by"),
        company=request.company,
        pk=session_pk,
    )


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
    enrolment = access_object(
        Enrolment.objects.select_related("student"),
        company=request.company,
        pk=enrolment_pk,
        klass_id=session.klass_id,
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
            "bookings/_makeup_row_update.html",
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
        with transaction.atomic():
            count = attendance_mark_all_present(
                now=timezone.now(), session=session, actor=request.user
            )
            for guest in session_makeup_guests(session):
                if guest.attendance_state == AttendanceState.EXPECTED:
                    makeup_set_attendance(
                        now=timezone.now(),
                        booking=guest,
                        state=AttendanceState.PRESENT,
                        actor=request.user,
                    )
                    count += 1
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "{count} student(s) marked present.", "{count} student(s) marked present.", count
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
                "Session cancelled; {count} student(s) marked “cancelled by us”.",
                "Session cancelled; {count} student(s) marked “cancelled by us”.",
                count,
            ).format(count=count),
        )
    return redirect("manage:session_detail", session_pk=session.pk)


def _class(request: HttpRequest, class_pk: int) -> Class:
    return access_object(
        Class.objects.select_related("programme", "instructor"),
        company=request.company,
        pk=class_pk,
    )


@require_GET
@staff_required
def class_detail(request: HttpRequest, class_pk: int) -> HttpResponse:
    klass = _class(request, class_pk)
    today = timezone.localdate()
    context = class_page(klass=klass, today=today)
    return render(
        request,
        "bookings/class_detail.html",
        {
            "klass": klass,
            **context,
            "places_left": max(klass.capacity - len(context["enrolments"]), 0),
            "enrol_form": EnrolForm(company=request.company, klass=klass, today=today),
            "one_off_form": OneOffSessionForm(today=today),
        },
    )


@admin_required
def session_create_one_off_view(request: HttpRequest, class_pk: int) -> HttpResponse:
    klass = _class(request, class_pk)
    now = timezone.now()
    form = OneOffSessionForm(request.POST or None, today=timezone.localdate(now))
    if request.method == "POST" and form.is_valid():
        try:
            session = session_create_one_off(klass=klass, **form.cleaned_data, now=now)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("One-off session added."))
            return redirect("manage:session_detail", session_pk=session.pk)
    return render(request, "bookings/one_off_form.html", {"klass": klass, "form": form})


def _enrol(request: HttpRequest, *, klass: Class | None, student: Student | None):
    """The enrol form for a fixed class or a fixed student. Returns ``None`` once enrolled.
    An age outside the class's range asks for confirmation (the page re-posts the same
    values with ``confirm_age``)."""
    now = timezone.now()
    form = EnrolForm(
        request.POST or None,
        company=request.company,
        klass=klass,
        student=student,
        today=timezone.localdate(now),
    )
    age_warning = None
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = enrolment_create(
                klass=klass or form.cleaned_data["klass"],
                student=student or form.cleaned_data["student"],
                start_date=form.cleaned_data["start_date"],
                actor=request.user,
                confirm_age=form.cleaned_data["confirm_age"],
            )
        except AgeOutsideRange as exc:
            age_warning = exc.message
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("{student} is enrolled in {klass} from {day}.").format(
                    student=enrolment.student,
                    klass=enrolment.klass.name,
                    day=date_format(enrolment.start_date, "j M Y"),
                ),
            )
            return None
    return render(
        request,
        "bookings/enrol_form.html",
        {
            "form": form,
            "klass": klass,
            "student": student,
            "age_warning": age_warning,
        },
    )


@staff_required
def class_enrol(request: HttpRequest, class_pk: int) -> HttpResponse:
    klass = _class(request, class_pk)
    response = _enrol(request, klass=klass, student=None)
    return response or redirect("manage:class_detail", class_pk=klass.pk)


@staff_required
def enrol_student(request: HttpRequest, student_pk: int) -> HttpResponse:
    student = access_object(
        Student.objects.select_related("family"), company=request.company, pk=student_pk
    )
    response = _enrol(request, klass=None, student=student)
    return response or redirect("manage:family_detail", family_pk=student.family_id)


@staff_required
def enrolment_withdraw_view(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    enrolment = access_object(
        Enrolment.objects.select_related("student__family", "klass"),
        company=request.company,
        pk=enrolment_pk,
    )
    now = timezone.now()
    form = WithdrawForm(request.POST or None, initial={"withdrawn_from": timezone.localdate(now)})
    if request.method == "POST" and form.is_valid():
        try:
            enrolment_withdraw(
                enrolment=enrolment,
                now=now,
                actor=request.user,
                withdrawn_from=form.cleaned_data["withdrawn_from"],
            )
        except DomainError as exc:
            form.add_error("withdrawn_from", exc.message)
        else:
            messages.success(
                request,
                _("{student} withdrawn from {klass}.").format(
                    student=enrolment.student, klass=enrolment.klass.name
                ),
            )
            return redirect("manage:class_detail", class_pk=enrolment.klass_id)
    return render(request, "bookings/withdraw_form.html", {"form": form, "enrolment": enrolment})
