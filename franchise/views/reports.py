"""The partner report (FRN-8, BEY-5): make-ups exchanged with each partner per month, as a
page and as CSV; for admins too (TEN-2)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from makeup.csv_export import csv_response
from makeup.tenancy import admin_required

from ..forms import ReportYearForm
from ..selectors.reports import partner_report, partner_report_totals


@require_GET
@admin_required
def report(request: HttpRequest) -> HttpResponse:
    company = request.company
    this_year = timezone.localdate().year
    form = ReportYearForm(
        request.GET if "year" in request.GET else {"year": this_year}, this_year=this_year
    )
    year = form.cleaned_data["year"] if form.is_valid() else this_year
    rows = partner_report(company, year)
    totals = partner_report_totals(company, rows)
    if request.GET.get("format") == "csv":
        return _report_csv(company, year, rows, totals)
    return render(
        request,
        "franchise/report.html",
        {"form": form, "year": year, "rows": rows, "totals": totals},
    )


def _report_csv(company, year: int, rows, totals) -> HttpResponse:
    """The partner report as CSV; partner names are another company's text, so they go
    through the shared writer (never a formula in this company's spreadsheet)."""
    header = [
        _("Partner"),
        _("Month"),
        _("Guests hosted"),
        _("Value hosted (%(currency)s)") % {"currency": company.currency},
        _("Students sent"),
        _("Value sent"),
        _("Currency of value sent"),
    ]
    lines = [
        [
            row.partner.name,
            f"{month.month:%Y-%m}",
            month.incoming,
            month.incoming_value,
            month.outgoing,
            month.outgoing_value,
            row.partner.currency,
        ]
        for row in rows
        for month in row.months
    ]
    outgoing_value = totals["outgoing_value"]
    total = [
        _("Total"),
        str(year),
        totals["incoming"],
        totals["incoming_value"],
        totals["outgoing"],
        "" if outgoing_value is None else outgoing_value,
        "" if outgoing_value is None else company.currency,
    ]
    return csv_response(f"partner-makeups-{year}.csv", [header, *lines, total])
