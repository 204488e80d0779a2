"""The one-click "can't come" link of the lesson reminder e-mail. The signed link is the
authority (like an unsubscribe link: no login needed); the page shows the lesson and one
button, because mail scanners open links — a GET never cancels anything. The button runs
the normal client cancellation: for a regular lesson the parent's cancellation (ATT-3, the
policy decides about a credit), for a make-up the make-up cancellation (CRD-3)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_scopes import scopes_disabled

from bookings.models import Attendance, LessonReminder, MakeupBooking
from credits.selectors.reminders import cant_come_read
from makeup.errors import DomainError
from makeups.services import lesson_cancel_by_parent, makeup_cancel
from programmes.models import Session

from ..access import access_company, access_family_booking
from ..texts import lesson_cancelled_message


@require_http_methods(["GET", "POST"])
def cant_come(request: HttpRequest, company_slug: str, token: str) -> HttpResponse:
    company = access_company(request)
    reminder_id = cant_come_read(token)
    reminder = (
        LessonReminder.objects.filter(pk=reminder_id, company=company)
        .select_related("student", "enrolment", "booking")
        .first()
        if reminder_id is not None
        else None
    )
    if reminder is None:
        raise Http404
    with scopes_disabled():  # a make-up may be hosted by a partner company (FRN-5)
        session = Session.objects.select_related("klass", "company").get(pk=reminder.session_id)
    actor = request.user if request.user.is_authenticated else None
    now = timezone.now()
    done = error = ""
    if reminder.booking is not None:
        booking = access_family_booking(reminder.student.family, reminder.booking_id)
        if booking.state != MakeupBooking.State.BOOKED:
            done = _("This make-up is already cancelled.")
        elif booking.session_id != reminder.session_id:  # moved since (WAL-2)
            done = _(
                "This make-up has moved to another session since: see it on your portal's "
                "home page."
            )
    else:
        attendance = Attendance.objects.filter(
            enrolment=reminder.enrolment, session_id=session.pk
        ).first()
        if attendance is not None and attendance.state != "expected":
            done = _("This lesson is already marked “{state}”.").format(
                state=attendance.get_state_display()
            )
    if not done and session.starts_at <= now:
        done = _("This lesson has already started.")
    if request.method == "POST" and not done:
        try:
            if reminder.booking is not None:
                returned = makeup_cancel(booking=booking, actor=actor, now=now).credit_returned
                message = (
                    _("The make-up is cancelled and your credit is back.")
                    if returned
                    else _("The make-up is cancelled. It was late, so the credit stays used.")
                )
            else:
                attendance = lesson_cancel_by_parent(
                    enrolment=reminder.enrolment, session=session, actor=actor, now=now
                )
                message = lesson_cancelled_message(attendance, reminder.student)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, message)
            if actor is not None:
                return redirect("portal:home", company_slug=company.slug)
            done = message
    return render(
        request,
        "portal/cant_come.html",
        {
            "reminder": reminder,
            "session": session,
            "student": reminder.student,
            "done": done,
            "error": error,
        },
    )
