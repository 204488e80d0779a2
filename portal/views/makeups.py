"""Make-ups in the parent portal: finding one (MKP-9), booking it with a credit, the
booking's page, watching a full session (BEY-2), moving a booked make-up to another session
(WAL-2), and cancelling a booked make-up or a watch."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.models import MakeupBooking
from bookings.selectors import family_students
from credits.models import CreditState, MakeupCredit, SessionWatch
from franchise.selectors import partners
from makeup.datacache import cached_fragment, dep
from makeup.errors import BOOKING_FAILED, DomainError
from makeup.shapes import Shape
from makeups.selectors.moving import move_deadline
from makeups.services import (
    MAX_WATCHES_PER_STUDENT,
    makeup_book,
    makeup_cancel,
    makeup_move,
    watch_create,
    watch_end,
)
from programmes.models import Session

from ..access import (
    access_company,
    access_family_booking,
    access_family_credit,
    access_guardian,
    makeup_search_url,
)
from ..forms import MakeupBookForm, MakeupMoveForm, MakeupSearchForm
from ..selectors.family import family_credits
from ..selectors.search import makeup_search
from ..texts import local_time
from .home import to_home
from .payments import to_payment

logger = logging.getLogger(__name__)


# --- finding and booking a make-up (MKP-9) ------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _page_urls(request: HttpRequest, data, result) -> dict:
    """Links to the next and previous pages of the search, keeping the child, the credit and
    the other filters."""
    urls = {}
    for key, day in (
        ("later", getattr(result, "later_from", None)),
        ("earlier", getattr(result, "earlier_from", None)),
    ):
        if day is not None:
            params = data.copy()
            params["date_from"] = day.isoformat()
            if key == "earlier":
                params.pop("date_to", None)
            urls[key] = f"{request.path}?{params.urlencode()}"
    return urls


@require_GET
@login_required
def makeup_search_view(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Pick the child and the credit (soonest-expiring first), filter, and see the sessions
    offered: bookable ones and full ones to watch (MKP-9, BEY-2). htmx swaps the results in
    place when a filter changes; without JavaScript the form is a plain GET.

    The page body depends only on the family's and the company's data, the query and the
    minute, so it is cached under those (makeup.datacache): any write to the company's data
    retires it, and the booking re-checks every rule under the session lock anyway."""
    company = access_company(request)
    family = access_guardian(request).family
    now = timezone.now()
    template = "portal/_makeup_results.html" if request.htmx else "portal/_makeup_search_body.html"
    body = cached_fragment(
        name="makeup-search",
        company_id=company.pk,
        partners=lambda: partners.approved_partner_ids(company.pk),
        parts=[family.pk, template, request.get_full_path(), get_language()],
        render=lambda partner_ids: render_to_string(
            template, _makeup_search_context(request, company, family, now, partner_ids)
        ),
        deps=[dep("family", family.pk)],  # a roll call retires only the marked child's family
        now=now,
    )
    body = mark_safe(body)  # noqa: S308 - our own rendered template, cached as is
    if request.htmx:
        return HttpResponse(body)
    return render(request, "portal/makeup_search.html", {"body": body})


def _makeup_search_context(
    request: HttpRequest, company, family, now, partner_ids: list[int] | None = None
) -> dict:
    """Everything the search body shows; 404 for another family's child or credit."""
    credits = family_credits(family=family, now=now)
    students = family_students(family)
    student = credit = None
    notice = ""
    student_pk, credit_pk = _int(request.GET.get("student")), _int(request.GET.get("credit"))
    if student_pk is not None:
        student = next((s for s in students if s.pk == student_pk), None)
        if student is None:
            raise Http404
    if credit_pk is not None:
        credit = next((c for c in credits if c.pk == credit_pk), None)
        if credit is None:
            stale = access_family_credit(family, credit_pk)  # 404 unless it is this family's
            notice = _("That credit can't be used any more: it is spent or has expired.")
            if student is None:
                student = next(s for s in students if s.pk == stale.holder_student.pk)
        elif student is None:
            student = next(s for s in students if s.pk == credit.holder.student_id)
        elif credit.holder.student_id != student.pk:
            credit = None  # the child changed: take their soonest-expiring credit
    if student is None and credits:
        student = next(s for s in students if s.pk == credits[0].holder.student_id)
    if student is None and students:
        student = students[0]
    # Each child's credits are those they hold: earned, or given by a sibling (WAL-1).
    own = [c for c in credits if student is not None and c.holder.student_id == student.pk]
    if credit is None and own:
        credit = own[0]
    with_credits = {c.holder.student_id for c in credits}
    data = request.GET.copy()
    data["student"] = str(student.pk) if student else ""
    data["credit"] = str(credit.pk) if credit else ""
    form = MakeupSearchForm(
        data,
        students=[
            (
                s.pk,
                s.first_name
                if s.pk in with_credits
                else _("{name} (no credits)").format(name=s.first_name),
            )
            for s in students
        ],
        credits=own,
    )
    result = None
    if credit is not None and form.is_valid():
        filters = form.cleaned_data
        result = makeup_search(
            credit=credit,
            now=now,
            tz=company.tzinfo,
            date_from=filters["date_from"],
            date_to=filters["date_to"],
            weekday=filters["weekday"],
            time_of_day=filters["time_of_day"],
            company=company,
            partner_ids=partner_ids,
        )
    return {
        "company": company,
        "form": form,
        "page_urls": _page_urls(request, data, result),
        "student": student,
        "credit": credit,
        "result": result,
        "notice": notice,
        "max_watches": MAX_WATCHES_PER_STUDENT,
        "oob": bool(request.htmx),
        # Each listed session's booking page: the address up to the session's id, reversed
        # once rather than for every session of the list.
        "book_base": reverse("portal:makeup_confirm", args=[company.slug, credit.pk, 0])[:-2]
        if credit
        else "",
    }


@require_http_methods(["GET", "POST"])
@login_required
def makeup_confirm(
    request: HttpRequest, company_slug: str, credit_pk: int, session_pk: int
) -> HttpResponse:
    """ "Book using a make-up credit" (MKP-9, MKP-10). The booking service re-checks every
    rule under the session lock; a refusal is shown here with the note kept."""
    access_company(request)
    family = access_guardian(request).family
    credit = access_family_credit(family, credit_pk)
    # The family's company's session or an approved partner's (FRN-5), else 404.
    session = partners.makeup_session(credit=credit, session_pk=session_pk)
    if session is None:
        raise Http404
    form = MakeupBookForm(request.POST or None)
    error = code = ""
    now = timezone.now()
    if request.method == "POST" and form.is_valid():
        # The service checks who books (the family's own parent with a confirmed login,
        # MKP-9: bookings.services.check_portal_parent) and the balance gate (BAL-3).
        try:
            booking = makeup_book(
                credit=credit,
                session=session,
                actor=request.user,
                note=form.cleaned_data["note"],
                source=MakeupBooking.Source.PORTAL,
                now=now,
            )
        except DatabaseError:
            # The booking is one transaction: nothing of it was saved. Say so, keep the
            # note, and let the parent try again (makeup.errors.BOOKING_FAILED).
            logger.exception("Make-up booking failed in the database")
            error, code = str(BOOKING_FAILED), "database"
            credit.refresh_from_db()
        except DomainError as refused:
            error, code = refused.message, refused.code
            credit.refresh_from_db()
            if code == "balance_due" and request.company.settings.portal_payments_enabled:
                messages.info(request, error)  # BAL-5: to the payment page, and back
                return to_payment(request, next_url=request.get_full_path())
        else:
            return redirect(
                "portal:makeup_booked", company_slug=company_slug, booking_pk=booking.pk
            )
    candidate = partners.makeup_check(credit=credit, session=session, now=now)
    return render(
        request,
        "portal/makeup_confirm.html",
        {
            "credit": credit,
            "student": credit.holder_student,
            "session": session,
            "candidate": candidate,
            "form": form,
            "error": error,
            "code": code,
            "search_url": makeup_search_url(request, credit),
        },
    )


@require_GET
@login_required
def makeup_booked(request: HttpRequest, company_slug: str, booking_pk: int) -> HttpResponse:
    family = access_guardian(request).family
    return render(
        request, "portal/makeup_booked.html", {"booking": access_family_booking(family, booking_pk)}
    )


@require_POST
@login_required
def watch_start(request: HttpRequest, company_slug: str) -> HttpResponse:
    """Watch a full session with the chosen credit: at most two per child; when a place
    frees, the first watcher is booked automatically and e-mailed (BEY-2)."""
    access_company(request)
    family = access_guardian(request).family
    credit_pk, session_pk = _int(request.POST.get("credit")), _int(request.POST.get("session"))
    if credit_pk is None or session_pk is None:
        raise Http404
    credit = access_family_credit(family, credit_pk)
    session = get_object_or_404(Session.objects.select_related("klass"), pk=session_pk)
    student = credit.holder_student
    try:
        watch_create(credit=credit, session=session, actor=request.user, now=timezone.now())
    except DomainError as error:
        if error.code == "balance_due" and request.company.settings.portal_payments_enabled:
            messages.info(request, error.message)  # BAL-5, BAL-6: pay, then watch
            return to_payment(request, next_url=makeup_search_url(request, credit))
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "You're watching {klass} on {when} for {name}. If a place frees up, we'll "
                "book it with this credit automatically and e-mail you."
            ).format(
                klass=session.klass.name,
                when=local_time(session.starts_at),
                name=student.first_name,
            ),
        )
    return redirect(makeup_search_url(request, credit))


# --- moving a booked make-up to another session (WAL-2) ------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def booking_move(request: HttpRequest, company_slug: str, booking_pk: int) -> HttpResponse:
    """WAL-2: the sessions a booked make-up can move to — those its credit could book now,
    at home and at partner branches, without the one it is in — each with "Move here". The
    service moves it in one step and holds every rule (the cut-off, places, the credit);
    past the cut-off the page shows the company's instructions instead. A fixed number of
    queries."""
    company = access_company(request)
    family = access_guardian(request).family
    booking = access_family_booking(family, booking_pk)
    credit = (
        MakeupCredit.objects.filter(booking=booking, state=CreditState.USED)
        .select_related("enrolment__student", "enrolment__klass__programme")
        .first()
    )
    if booking.state != MakeupBooking.State.BOOKED or credit is None:
        messages.info(request, _("This make-up is cancelled: there is nothing to move."))
        return to_home(request)
    form = MakeupMoveForm(request.POST if request.method == "POST" else request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()
    if request.method == "POST":
        session = (
            partners.makeup_session(credit=credit, session_pk=data["session"])
            if data.get("session")
            else None
        )
        if session is None:
            raise Http404
        try:
            moved = makeup_move(booking=booking, session=session, actor=request.user, now=now)
        except DatabaseError:
            logger.exception("Make-up move failed in the database")
            messages.error(
                request,
                _(
                    "We could not move this make-up just now: nothing changed. Please try "
                    "again in a moment."
                ),
            )
        except DomainError as refused:
            level = messages.WARNING if refused.code == "late_refused" else messages.ERROR
            messages.add_message(request, level, refused.message)
        else:
            messages.success(
                request,
                _("{name}'s make-up is moved to {when}. We've e-mailed you the new time.").format(
                    name=moved.student.first_name, when=local_time(session.starts_at)
                ),
            )
            return to_home(request)
        return redirect(request.get_full_path())
    deadline = move_deadline(booking.session)
    result = days = None
    if not deadline.passed(now):
        result = makeup_search(
            credit=credit,
            now=now,
            tz=company.tzinfo,
            date_from=data.get("date_from"),
            moving=booking,
        )
        days = [
            (day.day, offered)
            for day in result.days
            if (
                offered := [
                    c for c in day.candidates if c.bookable and c.session.pk != booking.session_id
                ]
            )
        ]
    return render(
        request,
        "portal/makeup_move.html",
        {
            "booking": booking,
            "credit": credit,
            "student": booking.student,
            "deadline": deadline,
            "late": deadline.passed(now),
            "days": days,
            "result": result,
            "page_urls": _page_urls(request, request.GET.copy(), result) if result else {},
        },
    )


# --- cancelling a booked make-up, stopping a watch -----------------------------------------


@require_POST
@login_required
def booking_cancel(request: HttpRequest, company_slug: str, booking_pk: int) -> HttpResponse:
    """Cancel a booked make-up: on time the credit comes back, late it stays used (CRD-3)."""
    family = access_guardian(request).family
    booking = access_family_booking(family, booking_pk)
    credit = _CREDIT_SPENT_ON.first(booking_id=booking.pk)
    what = _("{name}'s make-up on {when} is cancelled.").format(
        name=booking.student.first_name, when=local_time(booking.session.starts_at)
    )
    try:
        returned = makeup_cancel(
            booking=booking, actor=request.user, now=timezone.now()
        ).credit_returned
    except DomainError as error:
        messages.error(request, error.message)
        return to_home(request)
    if not returned or credit is None:
        messages.warning(request, what + " " + _("Cancelled late: the credit stays used."))
        return to_home(request)
    credit.refresh_from_db()
    if credit.state == CreditState.EXPIRED:
        messages.info(
            request, what + " " + _("Your credit came back, but it has expired meanwhile.")
        )
    elif credit.expires_at is None:
        messages.success(request, what + " " + _("Your credit is back, with no expiry."))
    else:
        messages.success(
            request,
            what
            + " "
            + _("Your credit is back, valid until {until}.").format(
                until=local_time(credit.expires_at, "j F Y, H:i")
            ),
        )
    return to_home(request)


@require_POST
@login_required
def watch_stop(request: HttpRequest, company_slug: str, watch_pk: int) -> HttpResponse:
    family = access_guardian(request).family
    watch = get_object_or_404(
        SessionWatch.objects.select_related("session__klass", "student"),
        pk=watch_pk,
        student__family=family,
    )
    watch_end(now=timezone.now(), watch=watch, reason=_("Stopped by the parent"))
    messages.info(
        request,
        _("You're no longer watching {klass} on {when} for {name}.").format(
            klass=watch.session.klass.name,
            when=local_time(watch.session.starts_at),
            name=watch.student.first_name,
        ),
    )
    return to_home(request)


_CREDIT_SPENT_ON = Shape(lambda booking_id: MakeupCredit.objects.filter(booking_id=booking_id)[:1])
