"""Back office: parents' "I cancelled in time" claims (BEY-6). Any staff role decides them:
staff take and correct attendance (TEN-2)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bookings.models import AttendanceChange
from makeup.errors import DomainError
from makeup.tenancy import access_object, staff_required

from ..forms import DeclineForm
from ..models import AbsenceClaim
from ..selectors.claims import claims_for_company
from ..selectors.receipts import absence_receipt
from ..services.claims import claim_approve, claim_decline


@require_GET
@staff_required
def claim_list(request: HttpRequest) -> HttpResponse:
    claims = claims_for_company(company=request.company)
    page = Paginator(claims, 50).get_page(request.GET.get("page"))
    return render(request, "credits/claim_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@staff_required
def claim_detail(request: HttpRequest, claim_pk: int) -> HttpResponse:
    claim = access_object(
        AbsenceClaim.objects.select_related(
            "attendance__session__klass__programme",
            "attendance__session__company",
            "attendance__enrolment__student",
            "claimed_by",
            "decided_by",
        ),
        company=request.company,
        pk=claim_pk,
    )
    form = DeclineForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                claim_approve(now=timezone.now(), claim=claim, actor=request.user)
                messages.success(
                    request,
                    _(
                        "Claim approved: the lesson now counts as cancelled on time and the "
                        "family is e-mailed."
                    ),
                )
                return redirect("manage:claim_detail", claim_pk=claim.pk)
            if action == "decline":
                form = DeclineForm(request.POST)
                if form.is_valid():
                    claim_decline(
                        now=timezone.now(),
                        claim=claim,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    messages.success(request, _("Claim declined: the family is e-mailed."))
                    return redirect("manage:claim_detail", claim_pk=claim.pk)
            else:
                messages.error(request, _("Choose Approve or Decline."))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("manage:claim_detail", claim_pk=claim.pk)
    attendance = claim.attendance
    history = (
        AttendanceChange.objects.filter(attendance=attendance)
        .select_related("changed_by")
        .order_by("changed_at", "pk")
    )
    others = (
        AbsenceClaim.objects.filter(attendance=attendance)
        .exclude(pk=claim.pk)
        .select_related("decided_by")
        .order_by("-claimed_at", "-pk")
    )
    return render(
        request,
        "credits/claim_detail.html",
        {
            "claim": claim,
            "attendance": attendance,
            "receipt": absence_receipt(attendance),
            "history": history,
            "others": others,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )
