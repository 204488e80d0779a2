"""The parent portal: /portal/<company_slug>/… The middleware has found the company from
the slug and entered its scope; a slug that names no company is a 404."""

import hashlib
import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_scopes import scopes_disabled

from bookings.models import Attendance, AttendanceState, Enrolment, Family, MakeupBooking
from bookings.payments import (
    PaymentRequest,
    TestProvider,
    get_provider,
    payment_record_online,
    test_payments_on,
)
from bookings.selectors import guardian_for_user, portal_companies_for_user
from bookings.selectors.account import balance_gate, family_statement
from bookings.services import parent_join, parent_signup
from credits.models import CreditState, MakeupCredit, SessionWatch
from franchise.selectors import partners
from makeup import outbox, ratelimit
from makeup.datacache import cached_fragment
from makeup.errors import BOOKING_FAILED, DomainError
from makeup.tenancy import memberships_for_user
from makeups.services import (
    MAX_WATCHES_PER_STUDENT,
    lesson_cancel_by_parent,
    makeup_book,
    makeup_cancel,
    watch_create,
    watch_end,
)
from programmes.models import Session

from .access import (
    access_company,
    access_family_booking,
    access_family_credit,
    access_guardian,
    makeup_search_url,
)
from .forms import MakeupBookForm, MakeupSearchForm, ResendConfirmationForm, SignupForm
from .selectors import (
    family_absences,
    family_credits,
    family_packages,
    family_upcoming,
    family_watches,
    makeup_search,
)
from .texts import lesson_cancelled_message, local_time

logger = logging.getLogger(__name__)


def landing(request: HttpRequest) -> HttpResponse:
    """Where login sends everyone: staff to the back office, parents to their portal."""
    if not request.user.is_authenticated:
        return redirect("login")
    if memberships_for_user(request.user):
        return redirect("manage:dashboard")
    companies = portal_companies_for_user(request.user)
    if len(companies) == 1:
        return redirect("portal:home", company_slug=companies[0].slug)
    return render(request, "portal/landing.html", {"companies": companies})


def _home(request: HttpRequest) -> HttpResponse:
    return redirect("portal:home", company_slug=request.company.slug)


def home(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = access_company(request)
    guardian = guardian_for_user(company=company, user=request.user)
    if guardian is None:
        return render(request, "portal/welcome.html")
    now = timezone.now()
    family = guardian.family
    students = list(family.students.all())
    return render(
        request,
        "portal/home.html",
        {
            "guardian": guardian,
            "family": family,
            "students": students,
            "children": family_upcoming(family=family, students=students, now=now),
            "watches": family_watches(family=family),
            "credits": family_credits(family=family, now=now),
            "packages": family_packages(family=family, today=timezone.localdate(now)),
            "absences": family_absences(family=family, now=now),
            "now": now,
        },
    )


# --- cancelling a lesson and a make-up from the home page ---------------------------------


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
        return _home(request)
    try:
        attendance = lesson_cancel_by_parent(
            now=timezone.now(), enrolment=enrolment, session=session, actor=request.user
        )
    except DomainError as error:
        level = messages.WARNING if error.code == "late_refused" else messages.ERROR
        messages.add_message(request, level, error.message)
    else:
        messages.success(request, lesson_cancelled_message(attendance, enrolment.student))
    return _home(request)


@require_POST
@login_required
def booking_cancel(request: HttpRequest, company_slug: str, booking_pk: int) -> HttpResponse:
    """Cancel a booked make-up: on time the credit comes back, late it stays used (CRD-3)."""
    family = access_guardian(request).family
    booking = access_family_booking(family, booking_pk)
    credit = MakeupCredit.objects.filter(booking=booking).first()
    what = _("{name}'s make-up on {when} is cancelled.").format(
        name=booking.student.first_name, when=local_time(booking.session.starts_at)
    )
    try:
        returned = makeup_cancel(booking=booking, actor=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
        return _home(request)
    if not returned or credit is None:
        messages.warning(request, what + " " + _("Cancelled late: the credit stays used."))
        return _home(request)
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
    return _home(request)


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
    return _home(request)


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
        company_ids=[company.pk, *partners.approved_partner_ids(company.pk)],
        parts=[family.pk, template, request.get_full_path(), get_language()],
        render=lambda: render_to_string(
            template, _makeup_search_context(request, company, family, now)
        ),
        now=now,
    )
    body = mark_safe(body)  # noqa: S308 - our own rendered template, cached as is
    if request.htmx:
        return HttpResponse(body)
    return render(request, "portal/makeup_search.html", {"body": body})


def _makeup_search_context(request: HttpRequest, company, family, now) -> dict:
    """Everything the search body shows; 404 for another family's child or credit."""
    credits = family_credits(family=family, now=now)
    students = list(family.students.all())
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
                student = next(s for s in students if s.pk == stale.enrolment.student_id)
        elif student is None:
            student = next(s for s in students if s.pk == credit.enrolment.student_id)
        elif credit.enrolment.student_id != student.pk:
            credit = None  # the child changed: take their soonest-expiring credit
    if student is None and credits:
        student = next(s for s in students if s.pk == credits[0].enrolment.student_id)
    if student is None and students:
        student = students[0]
    own = [c for c in credits if student is not None and c.enrolment.student_id == student.pk]
    if credit is None and own:
        credit = own[0]
    with_credits = {c.enrolment.student_id for c in credits}
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
                return _to_payment(request, next_url=request.get_full_path())
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
            "student": credit.enrolment.student,
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
    student = credit.enrolment.student
    try:
        watch_create(credit=credit, session=session, actor=request.user, now=timezone.now())
    except DomainError as error:
        if error.code == "balance_due" and request.company.settings.portal_payments_enabled:
            messages.info(request, error.message)  # BAL-5, BAL-6: pay, then watch
            return _to_payment(request, next_url=makeup_search_url(request, credit))
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


def signup(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = access_company(request)
    if request.user.is_authenticated:
        return redirect("portal:home", company_slug=company.slug)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ratelimit.limit_email_request(
            request, action="signup", email=form.cleaned_data["email"], now=timezone.now()
        )
        parent_signup(
            now=timezone.now(),
            company=company,
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            full_name=form.cleaned_data["full_name"],
        )
        # The same answer whether or not the address already had a login.
        return render(request, "portal/signup_done.html", {"email": form.cleaned_data["email"]})
    return render(request, "portal/signup.html", {"form": form})


@require_POST
@login_required
def join(request: HttpRequest, company_slug: str) -> HttpResponse:
    company = access_company(request)
    try:
        parent_join(company=company, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Welcome to {company}'s portal.").format(company=company.name))
    return redirect("portal:home", company_slug=company.slug)


def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """Ask for a new sign-up link. The answer never says whether the address has a login,
    and the request does the same work either way: the worker looks the login up."""
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        ratelimit.limit_email_request(
            request, action="confirmation", email=email, now=timezone.now()
        )
        outbox.enqueue("portal.tasks.resend_email_confirmation", email)
        messages.info(
            request,
            _("If that address has an account waiting for confirmation, a new link is on its way."),
        )
        return redirect("login")
    return render(request, "registration/resend_confirmation.html", {"form": form})


# --- Payments (BAL-5) ----------------------------------------------------------------------


def _to_payment(request: HttpRequest, *, next_url: str) -> HttpResponse:
    """The payment page, coming back to ``next_url`` once paid (BAL-5)."""
    return redirect(
        reverse("portal:pay", kwargs={"company_slug": request.company.slug})
        + "?"
        + urlencode({"next": next_url})
    )


def _amount_due(company, family, now) -> Decimal:
    """What the payment page asks for: with the balance gate active, exactly what blocks the
    family (the same computation as the services', BAL-3); else the whole balance owed."""
    gate = balance_gate(family=family, now=now)
    if gate.active:
        return gate.due
    statement = family_statement(family=family)
    return statement[-1].balance if statement else Decimal("0")


@login_required
def pay(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The payment page: the amount due and "Pay now" through the configured provider. A
    parent refused a make-up by the balance check is sent here, and back after paying."""
    company = access_company(request)
    family = access_guardian(request).family
    if not company.settings.portal_payments_enabled:
        raise Http404
    due = _amount_due(company, family, timezone.now())
    next_url = request.GET.get("next") or request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    back = next_url or reverse("portal:home", kwargs={"company_slug": company.slug})
    provider = get_provider()
    if request.method == "POST" and due > 0 and provider is not None:
        target = provider.start(
            PaymentRequest(
                family=family,
                amount=due,
                currency=company.currency,
                success_url=request.build_absolute_uri(back),
                cancel_url=request.build_absolute_uri(request.get_full_path()),
            )
        )
        return redirect(target)
    return render(
        request,
        "portal/pay.html",
        {
            "due": due,
            "next": next_url,
            "back": back,
            "online": provider is not None,
            "test_payments": isinstance(provider, TestProvider),
        },
    )


@login_required
def pay_test(request: HttpRequest, company_slug: str, token: str) -> HttpResponse:
    """The built-in test provider's page: "Pay" records the payment at once. Only while the
    test provider is the configured one: a link signed earlier pays nothing afterwards."""
    if not test_payments_on():
        raise Http404
    company = access_company(request)
    family = access_guardian(request).family
    try:
        data = TestProvider.read(token)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:home", company_slug=company.slug)
    if data["f"] != family.pk:
        raise Http404
    amount = Decimal(data["a"])
    if request.method == "POST":
        reference = "test-" + hashlib.sha256(token.encode()).hexdigest()[:24]
        payment_record_online(
            family=family, amount=amount, provider_reference=reference, paid_on=timezone.localdate()
        )
        messages.success(
            request,
            _("Thank you: {currency} {amount} paid.").format(
                currency=company.currency, amount=f"{amount:.2f}"
            ),
        )
        return redirect(data["n"])
    return render(request, "portal/pay_test.html", {"amount": amount})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe reports a completed Checkout session; the signature is checked and the payment
    recorded once however often the event arrives."""
    from django.conf import settings as django_settings

    if django_settings.PAYMENT_PROVIDER != "stripe":
        raise Http404
    provider = get_provider()
    try:
        event = provider.verify(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            now=timezone.now().timestamp(),
        )
    except DomainError:
        return HttpResponse(status=400)
    if event.get("type") != "checkout.session.completed":
        return HttpResponse(status=204)
    session = event["data"]["object"]
    metadata = session.get("metadata") or {}
    with scopes_disabled():  # the webhook has no company in its URL: the metadata names it
        family = Family.objects.filter(
            pk=metadata.get("family_id"), company_id=metadata.get("company_id")
        ).first()
        if family is None:
            return HttpResponse(status=204)
        payment_record_online(
            family=family,
            amount=Decimal(session["amount_total"]) / 100,
            provider_reference=f"stripe-{session['id']}",
            paid_on=timezone.localdate(),
        )
    return HttpResponse(status=200)
