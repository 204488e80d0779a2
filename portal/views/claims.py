"""The parent's "I cancelled in time" claim on a past absence (BEY-6)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Attendance
from credits.selectors.claims import claim_refusal
from credits.selectors.receipts import absence_receipt
from credits.services.claims import claim_submit
from makeup.errors import DomainError

from ..access import access_guardian
from ..forms import ClaimForm
from ..selectors.family import absence_claims


@require_http_methods(["GET", "POST"])
@login_required
def claim_create(request: HttpRequest, company_slug: str, attendance_pk: int) -> HttpResponse:
    """The absence with its receipt (BEY-1), and the claim form — or the claim's answer.
    Another family's attendance is a 404 (TEN-1)."""
    guardian = access_guardian(request)
    attendance = get_object_or_404(
        Attendance.objects.select_related(
            "session__klass__programme", "session__company", "enrolment__student"
        ),
        pk=attendance_pk,
        company=request.company,
        enrolment__student__family=guardian.family,
    )
    claims = absence_claims(attendance=attendance)
    latest = claims[0] if claims else None
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim_submit(
                now=timezone.now(),
                attendance=attendance,
                guardian_user=request.user,
                message=form.cleaned_data["message"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Claim sent: the school will look at the times and e-mail you the answer."),
            )
            return redirect("portal:home", company_slug=request.company.slug)
        return redirect(request.path)
    return render(
        request,
        "portal/claim_create.html",
        {
            "attendance": attendance,
            "receipt": absence_receipt(attendance),
            "claims": claims,
            "latest": latest,
            "refusal": claim_refusal(
                attendance=attendance, latest_claim=latest, now=timezone.now()
            ),
            "form": form,
        },
    )
