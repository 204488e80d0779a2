"""The parent portal's home page: /portal/<company_slug>/. The middleware has found the
company from the slug and entered its scope; a slug that names no company is a 404. The
home page leads with what matters (DAY-5): any amount due (with "Pay" and the statement), the
credits with their expiry, then each child's coming lessons, with "Can't come" on each — and
its undo while the place is still free."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookings.models import Attendance, AttendanceState, Enrolment
from bookings.selectors import family_students, guardian_for_user
from bookings.selectors.account import amount_to_pay, balance_gate
from makeup.errors import DomainError
from makeups.services import lesson_cancel_by_parent, lesson_cancel_undo
from programmes.models import Session

from ..access import access_company, access_guardian
from ..selectors.family import (
    family_absences,
    family_credits,
    family_packages,
    family_upcoming,
    family_watches,
)
from ..selectors.feeds import family_feed
from ..texts import lesson_cancelled_message, local_time


def to_home(request: HttpRequest) -> HttpResponse:
    return redirect("portal:home", company_slug=request.company.slug)


def home(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = access_company(request)
    guardian = guardian_for_user(company=company, user=request.user)
    if guardian is None:
        return render(request, "portal/welcome.html")
    now = timezone.now()
    family = guardian.family
    students = family_students(family)
    gate = balance_gate(family=family, now=now, company=company)
    return render(
        request,
        "portal/home.html",
        {
            "guardian": guardian,
            "family": family,
            "students": students,
            "gate": gate,
            "due": amount_to_pay(family=family, now=now, gate=gate),
            "can_pay": company.settings.portal_payments_enabled,
            "children": family_upcoming(family=family, students=students, now=now, company=company),
            "watches": family_watches(family=family),
            "credits": family_credits(family=family, now=now),
            "packages": family_packages(family=family, today=timezone.localdate(now)),
            "absences": family_absences(family=family, now=now),
            "feed": family_feed(company=company, family=family) if students else None,
            "now": now,
        },
    )


# --- "can't come": cancelling a lesson from the home page ----------------------------------


@require_POST
@login_required
def lesson_cancel(
    request: HttpRequest, company_slug: str, enrolment_pk: int, session_pk: int
) -> HttpResponse:
    """ "Can't come": a client cancellation stamped now, decided at once (ATT-3, POL-9);
    where the policy refuses late portal cancellations, its instructions (POL-11)."""
    family = access_guardian(request).family
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("student"), pk=enrolment_pk, student__family=family
    )
    session = get_object_or_404(
        Session.objects.select_related("klass__programme", "company"),
        pk=session_pk,
        klass_id=enrolment.klass_id,
    )
    if not enrolment.is_active_on(session.local_date):
        raise Http404
    done = (
        Attendance.objects.filter(enrolment=enrolment, session=session)
        .exclude(state=AttendanceState.EXPECTED)
        .first()
    )
    if done is not None:
        messages.info(
            request,
            _("{name}'s lesson on {when} is already marked “{state}”.").format(
                name=enrolment.student.first_name,
                when=local_time(session.starts_at),
                state=done.get_state_display(),
            ),
        )
        return to_home(request)
    try:
        attendance = lesson_cancel_by_parent(
            now=timezone.now(), enrolment=enrolment, session=session, actor=request.user
        )
    except DomainError as error:
        level = messages.WARNING if error.code == "late_refused" else messages.ERROR
        messages.add_message(request, level, error.message)
    else:
        messages.success(request, lesson_cancelled_message(attendance, enrolment.student))
    return to_home(request)


@require_POST
@login_required
def lesson_undo(
    request: HttpRequest, company_slug: str, enrolment_pk: int, session_pk: int
) -> HttpResponse:
    """DAY-5: take back a "Can't come" while the place is still free and its credit unused
    (the service holds every rule and says why when it refuses)."""
    family = access_guardian(request).family
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("student__family"), pk=enrolment_pk, student__family=family
    )
    session = get_object_or_404(Session, pk=session_pk, klass_id=enrolment.klass_id)
    try:
        lesson_cancel_undo(
            enrolment=enrolment, session=session, actor=request.user, now=timezone.now()
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("{name}'s lesson on {when} is on again: see you there.").format(
                name=enrolment.student.first_name, when=local_time(session.starts_at)
            ),
        )
    return to_home(request)
