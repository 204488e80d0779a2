"""Back office: the class page, its one-off sessions and enrolments (enrol a student in a
class, withdraw). Thin: parse, call a service or selector, render."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required, staff_required
from programmes.models import Class
from programmes.services.sessions import session_create_one_off

from .. import hooks
from ..forms import EnrolForm, OneOffSessionForm, PeopleSearchForm, WithdrawForm
from ..models import Enrolment, Student
from ..selectors import class_page
from ..selectors.families import age_in_years
from ..selectors.search import EnrolCandidates, enrol_candidates
from ..services import AgeOutsideRange, enrolment_create, enrolment_withdraw


def _class(request: HttpRequest, class_pk: int) -> Class:
    return access_object(
        Class.objects.select_related("programme", "instructor"),
        company=request.company,
        pk=class_pk,
    )


def _candidates(
    request: HttpRequest, klass: Class, today
) -> tuple[PeopleSearchForm, EnrolCandidates]:
    """The student picker of a class (DAY-3): the search typed (``q``, ``any_age``) and the
    students it finds, of the class's ages unless asked otherwise."""
    search = PeopleSearchForm(request.GET)
    data = search.cleaned_data if search.is_valid() else {"q": "", "any_age": False}
    candidates = enrol_candidates(klass=klass, q=data["q"], today=today, any_age=data["any_age"])
    return search, candidates


@require_GET
@staff_required
def class_detail(request: HttpRequest, class_pk: int) -> HttpResponse:
    klass = _class(request, class_pk)
    today = timezone.localdate()
    context = class_page(klass=klass, today=today)
    company_extra = request.company.settings.makeup_extra_capacity
    search, candidates = _candidates(request, klass, today)
    return render(
        request,
        "bookings/class_detail.html",
        {
            "klass": klass,
            **context,
            "places_left": max(klass.capacity - len(context["enrolments"]), 0),
            "company_extra": company_extra,
            "extra_places": klass.extra_capacity(company_extra),
            "enrol_form": EnrolForm(company=request.company, klass=klass, today=today),
            "enrol_search": search,
            "candidates": candidates,
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
    values with ``confirm_age``). For a class, the student is picked from a search (DAY-3);
    with htmx, a GET answers the picker's list only."""
    now = timezone.now()
    today = timezone.localdate(now)
    form = EnrolForm(
        request.POST or None,
        company=request.company,
        klass=klass,
        student=student,
        today=today,
    )
    search = candidates = None
    if klass is not None:
        search, candidates = _candidates(request, klass, today)
        if request.method == "GET" and request.htmx:
            return render(
                request,
                "bookings/_enrol_candidates.html",
                {"candidates": candidates, "klass": klass},
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
                    day=date_format(enrolment.start_date, "DAY_FORMAT"),
                ),
            )
            return None
    chosen = form.cleaned_data.get("student") if form.is_bound and form.is_valid() else None
    if candidates is not None and chosen is not None and chosen not in candidates.students:
        chosen.age = age_in_years(chosen.date_of_birth, candidates.on)
        candidates.students.insert(0, chosen)
    return render(
        request,
        "bookings/enrol_form.html",
        {
            "form": form,
            "klass": klass,
            "student": student,
            "age_warning": age_warning,
            "enrol_search": search,
            "candidates": candidates,
            "chosen": chosen,
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
            # BEY-2, WAL-5: the places freed from that day on may have gone to the watch
            # list (booked or offered).
            notice = hooks.freed_places_notice(now=now, klass_id=enrolment.klass_id)
            if notice:
                messages.info(request, notice)
            return redirect("manage:class_detail", class_pk=enrolment.klass_id)
    return render(request, "bookings/withdraw_form.html", {"form": form, "enrolment": enrolment})
