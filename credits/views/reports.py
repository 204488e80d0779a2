"""Back office: reports (admins), on screen and as CSV."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from makeup.csv_export import csv_response
from makeup.tenancy import admin_required

from ..forms import PeriodForm
from ..selectors.reports import closure_costs, instructor_pay, makeup_liability


def _csv(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    return csv_response(filename, [header, *rows])


@require_GET
@admin_required
def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "credits/reports.html")


@require_GET
@admin_required
def pay_report(request: HttpRequest) -> HttpResponse:
    """PKG-3: paid attendances per instructor and period, make-ups apart."""
    today = timezone.localdate()
    form = PeriodForm(request.GET or {"first": today.replace(day=1), "last": today})
    rows = []
    if form.is_valid():
        rows = instructor_pay(
            company=request.company,
            first=form.cleaned_data["first"],
            last=form.cleaned_data["last"],
        )
        if request.GET.get("format") == "csv":
            first, last = form.cleaned_data["first"], form.cleaned_data["last"]
            return _csv(
                f"instructor-pay-{first}-{last}.csv",
                [_("Instructor"), _("Paid attendances"), _("Make-up attendances (not paid)")],
                [[r.instructor, r.paid, r.makeups] for r in rows]
                + [[_("Total"), sum(r.paid for r in rows), sum(r.makeups for r in rows)]],
            )
    return render(
        request,
        "credits/pay_report.html",
        {
            "form": form,
            "rows": rows,
            "total_paid": sum(r.paid for r in rows),
            "total_makeups": sum(r.makeups for r in rows),
        },
    )


@require_GET
@admin_required
def liability_report(request: HttpRequest) -> HttpResponse:
    """BEY-5: unused credits valued at the price of one session, with expiries ahead; those
    of a class with no such price are counted apart, not valued. The credits closures caused
    are shown apart too: their share of each row, and what each closure cost."""
    now = timezone.now()
    rows = makeup_liability(company=request.company, now=now)
    totals = {
        "credits": sum(r.credits for r in rows),
        "value": sum(r.value for r in rows),
        "expiring_7": sum(r.expiring_7 for r in rows),
        "expiring_30": sum(r.expiring_30 for r in rows),
        "expiring_90": sum(r.expiring_90 for r in rows),
        "unpriced": sum(r.unpriced for r in rows),
        "closure_credits": sum(r.closure_credits for r in rows),
        "closure_value": sum(r.closure_value for r in rows),
    }
    if request.GET.get("format") == "csv":
        return _csv(
            f"makeup-liability-{timezone.localdate()}.csv",
            [
                _("Programme"),
                _("Location"),
                _("Unused credits"),
                _("Value ({currency})").format(currency=request.company.currency),
                _("Expiring in 7 days"),
                _("Expiring in 30 days"),
                _("Expiring in 90 days"),
                _("Unused credits with no per-session price (not valued)"),
                _("Unused credits from closures"),
                _("Their value ({currency})").format(currency=request.company.currency),
            ],
            [
                [
                    r.programme,
                    r.location,
                    r.credits,
                    r.value,
                    r.expiring_7,
                    r.expiring_30,
                    r.expiring_90,
                    r.unpriced,
                    r.closure_credits,
                    r.closure_value,
                ]
                for r in rows
            ]
            + [
                [
                    _("Total"),
                    "",
                    totals["credits"],
                    totals["value"],
                    totals["expiring_7"],
                    totals["expiring_30"],
                    totals["expiring_90"],
                    totals["unpriced"],
                    totals["closure_credits"],
                    totals["closure_value"],
                ]
            ],
        )
    return render(
        request,
        "credits/liability_report.html",
        {
            "rows": rows,
            "totals": totals,
            "closures": closure_costs(company=request.company, now=now),
        },
    )
