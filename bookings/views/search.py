"""Back office: the one search box of the top bar (DAY-3) — a results page, and with htmx a
short list under the box while typing. Thin: parse, call the selector, render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from makeup.tenancy import staff_required

from ..forms import PeopleSearchForm
from ..selectors.search import DROPDOWN_PER_KIND, RESULTS_PER_KIND, search_people


@require_GET
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """Families, students and parents of the current company by name, e-mail or phone."""
    form = PeopleSearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    dropdown = bool(request.htmx) and request.GET.get("dropdown") == "1"
    results = search_people(
        company=request.company,
        q=q,
        today=timezone.localdate(timezone=request.company.tzinfo),
        limit=DROPDOWN_PER_KIND if dropdown else RESULTS_PER_KIND,
    )
    template = "bookings/_search_dropdown.html" if dropdown else "bookings/search.html"
    return render(request, template, {"form": form, "q": q, "results": results})
