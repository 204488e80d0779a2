"""The owners' audit log (issue 8): one list, newest first, of who changed attendance,
credits, policies, settings and partner links (read by
:func:`portal.selectors.audit.audit_lines`)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from makeup.tenancy import owner_required

from ..selectors.audit import AREAS, audit_lines


@owner_required
def audit_log(request: HttpRequest) -> HttpResponse:
    area = request.GET.get("area", "")
    if area not in AREAS:
        area = ""
    return render(
        request,
        "portal/audit_log.html",
        {
            "lines": audit_lines(request.company, area),
            "areas": [(key, str(label)) for key, label in AREAS.items()],
            "area": area,
        },
    )
