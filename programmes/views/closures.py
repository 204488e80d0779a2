"""Back-office pages of the closure calendar (CLO-1): the list with the public holidays to
add, and adding or editing one closure (admins configure, TEN-2). Cancelling a closure's
lessons happens from the closure's own page (the make-up side)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.errors import DomainError
from makeup.holidays import country_choices
from makeup.models import Company
from makeup.tenancy import access_object, admin_required

from ..forms import NOTHING_SAVED, ClosureForm, HolidaysForm
from ..models import Closure
from ..selectors import (
    HOLIDAY_SPAN_DAYS,
    closure_days_text,
    closures_ahead,
    closures_past,
    holidays_ahead,
)
from ..services import closure_create, closure_update, closures_add_holidays


def _holiday_region(company: Company) -> str:
    """The country (and region) whose holidays are offered, as people read it."""
    settings = company.settings
    country = dict(country_choices()).get(settings.holiday_country, settings.holiday_country)
    if settings.holiday_subdivision:
        return f"{country}, {settings.holiday_subdivision}"
    return country


def _with_days(closures) -> list[Closure]:
    for closure in closures:
        closure.days_text = closure_days_text(closure)
    return list(closures)


@admin_required
def closure_list(request: HttpRequest) -> HttpResponse:
    """The closures not over yet, a few past ones, and the public holidays of the coming
    year to add in one step (a POST adds the ticked ones)."""
    company = request.company
    now = timezone.now()
    today = now.astimezone(company.tzinfo).date()
    holidays = holidays_ahead(company, today=today)
    form = HolidaysForm(request.POST or None, holidays=holidays)
    if request.method == "POST":
        if form.is_valid():
            try:
                added = closures_add_holidays(
                    company=company, days=form.chosen(), actor=request.user, now=now
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    ngettext(
                        "{count} public holiday added to the closures.",
                        "{count} public holidays added to the closures.",
                        len(added),
                    ).format(count=len(added)),
                )
                return redirect("manage:closures")
        else:
            messages.error(request, " ".join(form.errors.get("days", [NOTHING_SAVED])))
    ticked = set(form["days"].value() or []) if form.is_bound else set()
    return render(
        request,
        "programmes/closure_list.html",
        {
            "closures": _with_days(closures_ahead(company, today=today)),
            "past_closures": _with_days(closures_past(company, today=today)),
            "holidays": holidays,
            "holiday_region": _holiday_region(company),
            "holiday_span_days": HOLIDAY_SPAN_DAYS,
            "ticked": ticked,
        },
    )


def _closure_form_page(request: HttpRequest, closure: Closure | None) -> HttpResponse:
    company = request.company
    form = ClosureForm(request.POST or None, company=company, closure=closure)
    now = timezone.now()
    applied = closure is not None and closure.cancelled_sessions.exists()
    if request.method == "POST":
        if form.is_valid():
            values = form.closure_values()
            try:
                if closure is None:
                    saved = closure_create(company=company, actor=request.user, now=now, **values)
                else:
                    saved = closure_update(closure=closure, now=now, **values)
            except DomainError as error:
                form.add_error(None, error.message)
                messages.error(request, _("Nothing was saved."))
            else:
                text = _("Closure {name} added.") if closure is None else _("Closure {name} saved.")
                messages.success(request, text.format(name=saved.name))
                if closure is None:  # straight to its page: what applying it would do
                    return redirect("manage:closure_detail", closure_pk=saved.pk)
                return redirect("manage:closures")
        else:
            messages.error(request, NOTHING_SAVED)
    today = now.astimezone(company.tzinfo).date()
    return render(
        request,
        "programmes/closure_form.html",
        {
            "form": form,
            "closure": closure,
            "title": closure.name if closure else _("New closure"),
            "applied": applied,
            "is_over": closure is not None and closure.last_day < today,
            "days_text": closure_days_text(closure) if closure else "",
        },
    )


@admin_required
def closure_new(request: HttpRequest) -> HttpResponse:
    return _closure_form_page(request, None)


@admin_required
def closure_edit(request: HttpRequest, closure_pk: int) -> HttpResponse:
    closure = access_object(
        Closure.objects.filter(removed_at__isnull=True).prefetch_related("programmes"),
        company=request.company,
        pk=closure_pk,
    )
    return _closure_form_page(request, closure)
