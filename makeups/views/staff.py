"""Back office: make-ups for staff (MKP-10…MKP-12, CRD-3, BEY-2, WAL-2). Staff book a make-up
for a family — past portal-only rules with a recorded reason, never past capacity —, see why
a session is not offered, move a booked make-up to another session, cancel make-ups and stop
watches. Thin: parse, call the eligibility
function or a service, render."""

import logging

from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from bookings.models import MakeupBooking
from credits.models import CreditState, MakeupCredit, SessionWatch
from makeup.errors import BOOKING_FAILED, DomainError
from makeup.tenancy import access_object, staff_required
from programmes.models import Session
from programmes.selectors import credit_map

from ..forms import CancelForm, ExplainForm, StaffBookingForm, StaffMoveForm
from ..selectors.moving import move_deadline
from ..selectors.staff import explain_credit_choices, makeup_guest_options, staff_makeup_candidates
from ..selectors.watchfill import freed_places_notice
from ..services import makeup_book, makeup_cancel, makeup_move, watch_end

logger = logging.getLogger(__name__)


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go back to: the page the form came from, if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _credit(request: HttpRequest, credit_pk: int) -> MakeupCredit:
    return access_object(
        MakeupCredit.objects.select_related(
            "enrolment__student__family",
            "enrolment__klass__programme",
            "holder__student__family",
        ),
        company=request.company,
        pk=credit_pk,
    )


def _session(request: HttpRequest, session_pk: int) -> Session:
    return access_object(
        Session.objects.select_related("klass__programme", "klass__instructor"),
        company=request.company,
        pk=session_pk,
    )


@staff_required
def makeup_book_view(request: HttpRequest, credit_pk: int) -> HttpResponse:
    """MKP-11: staff book a make-up with one of a family's credits. Every candidate session
    shows every check; a session failing only portal-only rules (MKP-5) can be booked with a
    reason, which is stored; capacity and the other rules hold (the service says why)."""
    credit = _credit(request, credit_pk)
    family_url = reverse("manage:family_detail", args=[credit.enrolment.student.family_id])
    chosen = None
    session_id = request.POST.get("session") or request.GET.get("session")
    if session_id and str(session_id).isdigit():
        chosen = _session(request, int(session_id))
    error, posted = None, None
    if request.method == "POST":
        form = StaffBookingForm(request.POST)
        if form.is_valid() and chosen is not None:
            posted = form.cleaned_data
            error = _book(request, credit=credit, session=chosen, data=form.cleaned_data)
            if error is None:
                return redirect(_next_url(request, family_url))
        else:
            error = gettext("Choose a session, and keep the note, message and reason short.")
    now = timezone.now()
    usable = credit.is_usable(now)
    options = staff_makeup_candidates(credit=credit, now=now, session=chosen) if usable else []
    return render(
        request,
        "makeups/makeup_book.html",
        {
            "credit": credit,
            "student": credit.holder_student,
            "usable": usable,
            "options": options,
            "chosen": chosen,
            "error": error,
            "posted": posted,
            "next": _next_url(request, ""),
            "family_url": family_url,
        },
    )


def _book(
    request: HttpRequest, *, credit: MakeupCredit, session: Session, data: dict
) -> str | None:
    """Book, or return the message why not."""
    now = timezone.now()
    option = staff_makeup_candidates(credit=credit, now=now, session=session)[0]
    reason = data["override_reason"].strip()
    if option.overridden and not option.blocking and not reason:
        return gettext("Give a reason to book past the portal's rule: {checks}").format(
            checks=" ".join(c.text for c in option.overridden)
        )
    try:
        booking = makeup_book(
            credit=credit,
            session=session,
            actor=request.user,
            note=data["note"],
            family_message=data["family_message"],
            source=MakeupBooking.Source.STAFF,
            override_reason=reason,
            now=now,
        )
    except DatabaseError:
        logger.exception("Make-up booking failed in the database")
        return str(BOOKING_FAILED)  # one transaction: nothing of it was saved
    except DomainError as exc:
        return exc.message
    local = timezone.localtime(session.starts_at)
    text = (
        gettext(
            "{name} is booked into {klass} on {date} with a make-up credit (override recorded)."
        )
        if booking.override_reason
        else gettext("{name} is booked into {klass} on {date} with a make-up credit.")
    )
    messages.success(
        request,
        text.format(
            name=booking.student.first_name,
            klass=session.klass.name,
            date=date_format(local, "WEEKDAY_TIME_FORMAT"),
        ),
    )
    return None


@require_GET
@staff_required
def makeup_guest_new(request: HttpRequest, session_pk: int) -> HttpResponse:
    """MKP-11 from the session page: pick a student with a usable credit of the session's
    programme; each shows whether this session is bookable for them, and why not."""
    session = _session(request, session_pk)
    return render(
        request,
        "makeups/makeup_guest_new.html",
        {"session": session, "options": makeup_guest_options(session=session, now=timezone.now())},
    )


@require_GET
@staff_required
def makeup_explain(request: HttpRequest) -> HttpResponse:
    """MKP-12 "Why isn't this session offered?": staff pick a credit (a student) and a session
    and see every eligibility check, passed or failed, with its figures — the same checks the
    portal runs — and the programmes whose credits the session's programme also accepts
    (WAL-3). The credit is found by the student's name (DAY-3); with htmx the picker's list
    follows the typing."""
    form = ExplainForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    credit = _credit(request, data["credit"]) if data.get("credit") else None
    session = _session(request, data["session"]) if data.get("session") else None
    now = timezone.now()
    result = None
    if credit is not None and session is not None:
        result = staff_makeup_candidates(credit=credit, now=now, session=session)[0]
    level_map = None
    if session is not None:
        programme_id = session.klass.programme_id
        level_map = credit_map(programme_ids={programme_id}).get(programme_id, [])
    day = data.get("date") or (session.local_date if session else timezone.localdate())
    day_sessions = []
    if session is None:
        day_sessions = list(
            Session.objects.filter(company=request.company, local_date=day)
            .select_related("klass__programme")
            .order_by("starts_at", "pk")
        )
    choices = None
    credit_q = data.get("credit_q") or ""
    if credit is None:
        choices = explain_credit_choices(
            company=request.company,
            programme_id=session.klass.programme_id if session else None,
            now=now,
            q=credit_q,
        )
        if request.htmx and "credit_q" in request.GET:
            # The picker's search as you type: only its list.
            return render(
                request,
                "makeups/_explain_credit_choices.html",
                {"choices": choices, "session": session, "credit_q": credit_q},
            )
    return render(
        request,
        "makeups/makeup_explain.html",
        {
            "credit": credit,
            "session": session,
            "result": result,
            "choices": choices,
            "credit_q": credit_q,
            "day": day,
            "day_sessions": day_sessions,
            "level_map": level_map,
        },
    )


@staff_required
def makeup_move_view(request: HttpRequest, booking_pk: int) -> HttpResponse:
    """WAL-2 for staff: move one of the company's families' booked make-ups to another
    session of the company. Every candidate shows every check, the credit counted as free
    for its own move; past a portal-only rule (MKP-5) or the family's deadline for changes
    staff move with a reason, which is kept; capacity holds for everyone (the service says
    why it refuses)."""
    booking = access_object(
        MakeupBooking.objects.select_related(
            "student__family", "session__klass__programme", "session__company"
        ),
        company=request.company,
        home_company=request.company,
        pk=booking_pk,
    )
    family_url = reverse("manage:family_detail", args=[booking.student.family_id])
    credit = (
        MakeupCredit.objects.filter(booking=booking, state=CreditState.USED)
        .select_related("enrolment__student__family", "enrolment__klass__programme")
        .first()
    )
    now = timezone.now()
    if booking.state != MakeupBooking.State.BOOKED or credit is None:
        messages.info(request, gettext("This make-up is cancelled: there is nothing to move."))
        return redirect(_next_url(request, family_url))
    deadline = move_deadline(booking.session)
    late = deadline.passed(now)
    error, posted = None, None
    if request.method == "POST":
        form = StaffMoveForm(request.POST)
        if form.is_valid():
            posted = form.cleaned_data
            chosen = _session(request, posted["session"])
            error = _move(request, booking=booking, credit=credit, session=chosen, data=posted)
            if error is None:
                return redirect(_next_url(request, family_url))
        else:
            error = gettext("Choose a session, and keep the message and reason short.")
    options = [
        option
        for option in staff_makeup_candidates(credit=credit, now=now, moving=booking)
        if option.session.pk != booking.session_id
    ]
    return render(
        request,
        "makeups/makeup_move.html",
        {
            "booking": booking,
            "credit": credit,
            "student": booking.student,
            "deadline": deadline,
            "late": late,
            "options": options,
            "error": error,
            "posted": posted,
            "next": _next_url(request, ""),
            "family_url": family_url,
        },
    )


def _move(
    request: HttpRequest,
    *,
    booking: MakeupBooking,
    credit: MakeupCredit,
    session: Session,
    data: dict,
) -> str | None:
    """Move, or return the message why not."""
    now = timezone.now()
    option = staff_makeup_candidates(credit=credit, now=now, session=session, moving=booking)[0]
    reason = data["override_reason"].strip()
    if option.overridden and not option.blocking and not reason:
        return gettext("Give a reason to move past the portal's rule: {checks}").format(
            checks=" ".join(c.text for c in option.overridden)
        )
    was, was_session_id = booking.session.starts_at, booking.session_id
    try:
        moved = makeup_move(
            booking=booking,
            session=session,
            actor=request.user,
            now=now,
            by_staff=True,
            override_reason=reason,
            family_message=data["family_message"],
        )
    except DatabaseError:
        logger.exception("Make-up move failed in the database")
        return gettext("The make-up could not be moved just now: nothing changed. Try again.")
    except DomainError as exc:
        return exc.message
    notice = freed_places_notice(now=now, session_id=was_session_id)
    if notice:  # the old session's freed place: booked or offered to a watcher
        messages.info(request, notice)
    messages.success(
        request,
        gettext("{name}'s make-up on {was} is moved to {klass} on {date}.").format(
            name=moved.student.first_name,
            was=date_format(timezone.localtime(was), "WEEKDAY_TIME_FORMAT"),
            klass=session.klass.name,
            date=date_format(timezone.localtime(session.starts_at), "WEEKDAY_TIME_FORMAT"),
        ),
    )
    return None


@require_POST
@staff_required
def makeup_cancel_view(request: HttpRequest, booking_pk: int) -> HttpResponse:
    """Staff cancel a make-up (from the session page or the family page). On time by the host
    programme's policy the credit comes back; late, it stays used (CRD-3). The time the family
    told us may be given (default now)."""
    booking = access_object(
        MakeupBooking.objects.select_related("student", "session__klass"),
        company=request.company,
        pk=booking_pk,
    )
    back = _next_url(request, reverse("manage:family_detail", args=[booking.student.family_id]))
    form = CancelForm(request.POST)
    now = timezone.now()
    if not form.is_valid():
        errors = form.errors.get("cancelled_at") or [
            gettext("Give the time the family told us: not in the future.")
        ]
        messages.error(request, " ".join(errors))
        return redirect(back)
    told = form.cleaned_data.get("cancelled_at")
    try:
        result = makeup_cancel(booking=booking, actor=request.user, now=now, cancelled_at=told)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    local = timezone.localtime(booking.session.starts_at)
    values = {"name": booking.student.first_name, "date": date_format(local, "WEEKDAY_TIME_FORMAT")}
    notice = freed_places_notice(now=now, session_id=booking.session_id)
    if notice:
        messages.info(request, notice)
    if result.credit_returned:
        messages.success(
            request,
            gettext(
                "{name}'s make-up on {date} is cancelled. On time: the credit is available again."
            ).format(**values),
        )
    else:
        messages.warning(
            request,
            gettext(
                "{name}'s make-up on {date} is cancelled. Cancelled late: the credit stays used "
                "(cancellation policy)."
            ).format(**values),
        )
    return redirect(back)


@require_POST
@staff_required
def watch_stop(request: HttpRequest, watch_pk: int) -> HttpResponse:
    """BEY-2: stop watching a full session (the credit stays available)."""
    watch = access_object(
        SessionWatch.objects.select_related("student"), company=request.company, pk=watch_pk
    )
    who = request.user.get_full_name() or request.user.email
    watch = watch_end(
        now=timezone.now(), watch=watch, reason=gettext("Stopped by {who} (staff)").format(who=who)
    )
    messages.success(
        request,
        gettext("{name} no longer watches that session.").format(name=watch.student.first_name),
    )
    return redirect(
        _next_url(request, reverse("manage:family_detail", args=[watch.student.family_id]))
    )
