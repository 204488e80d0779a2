"""Back office: the company's credits, manual credits, giving a credit to a sibling (WAL-1),
reviewing a flagged decision."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.models import Enrolment
from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required, staff_required
from programmes.models import Programme

from ..forms import CreditFilterForm, ManualCreditForm
from ..models import CreditDecision, MakeupCredit
from ..selectors.credits import credits_for_company
from ..selectors.transfers import family_enrolment, transfer_choices
from ..services import credit_add_manual, credit_transfer, decision_mark_reviewed


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


@require_http_methods(["GET", "POST"])
@staff_required
def credit_give(request: HttpRequest, credit_pk: int) -> HttpResponse:
    """WAL-1 from the family page: staff give a family's credit to a brother or sister — the
    same choices and refusals the parent sees in the portal (the service holds the rules)."""
    credit = access_object(
        MakeupCredit.objects.select_related(
            "company",
            "enrolment__student__family",
            "enrolment__klass__programme",
            "holder__student",
            "attendance__session",
        ),
        company=request.company,
        pk=credit_pk,
    )
    family = credit.enrolment.student.family
    now = timezone.now()
    if request.method == "POST":
        receiver = family_enrolment(family=family, pk=request.POST.get("enrolment", ""))
        if receiver is None:
            messages.error(request, _("Choose who gets the credit."))
        else:
            try:
                credit = credit_transfer(
                    credit=credit, to_enrolment=receiver, actor=request.user, now=now
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                expiry = (
                    date_format(timezone.localtime(credit.expires_at), "DAY_YEAR_TIME_FORMAT")
                    if credit.expires_at
                    else _("no expiry")
                )
                messages.success(
                    request,
                    _("The credit is now {name}'s ({expiry}).").format(
                        name=receiver.student.first_name, expiry=expiry
                    ),
                )
                return redirect("manage:family_detail", family_pk=family.pk)
    return render(
        request,
        "credits/credit_give.html",
        {
            "credit": credit,
            "family": family,
            "choices": transfer_choices(credit=credit, now=now, tz=request.company.tzinfo),
        },
    )


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
