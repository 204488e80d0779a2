"""Back office: the company's credits, manual credits, reviewing a flagged decision."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bookings.models import Enrolment
from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required, staff_required
from programmes.models import Programme

from ..forms import CreditFilterForm, ManualCreditForm
from ..models import CreditDecision
from ..selectors.credits import credits_for_company
from ..services.decisions import decision_mark_reviewed
from ..services.ledger import credit_add_manual


@require_GET
@staff_required
def credit_list(request: HttpRequest) -> HttpResponse:
    form = CreditFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    credits = credits_for_company(
        company=request.company,
        now=timezone.now(),
        state=data.get("state") or "",
        programme_id=data.get("programme"),
        expiring_within=data.get("expiring_within"),
    )
    page = Paginator(credits, 50).get_page(request.GET.get("page"))
    conflicts = list(
        CreditDecision.objects.filter(company=request.company, needs_attention=True)
        .select_related("attendance__session__klass", "attendance__enrolment__student", "credit")
        .order_by("-decided_at")[:50]
    )
    programmes = Programme.objects.filter(company=request.company).order_by("name")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "credits/credit_list.html",
        {
            "page": page,
            "form": form,
            "programmes": programmes,
            "filters": data,
            "query": query.urlencode(),
            "conflicts": conflicts,
            "now": timezone.now(),
        },
    )


@admin_required
def credit_add(request: HttpRequest, enrolment_pk: int) -> HttpResponse:
    """POL-8: an admin adds a credit by hand from the family page."""
    enrolment = access_object(
        Enrolment.objects.select_related("student__family", "klass__programme", "company"),
        company=request.company,
        pk=enrolment_pk,
    )
    form = ManualCreditForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            credit_add_manual(
                enrolment=enrolment, actor=request.user, now=timezone.now(), **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Credit added for {student}.").format(student=enrolment.student)
            )
            return redirect("manage:family_detail", family_pk=enrolment.student.family_id)
    return render(request, "credits/credit_add.html", {"form": form, "enrolment": enrolment})


@require_POST
@admin_required
def decision_review(request: HttpRequest, decision_pk: int) -> HttpResponse:
    """ATT-5: mark a correction that met a spent credit as reviewed."""
    decision = access_object(
        CreditDecision.objects.select_related("credit"), company=request.company, pk=decision_pk
    )
    decision_mark_reviewed(now=timezone.now(), decision=decision, actor=request.user)
    messages.success(request, _("Marked as reviewed."))
    return redirect("manage:credit_list")
