"""Back office: the cancellation policy page, the company's credits, manual credits."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bookings.models import Enrolment
from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required, staff_required
from programmes.models import WEEKDAYS, Programme

from .forms import CreditFilterForm, CutoffFormSet, ManualCreditForm, PolicyForm
from .models import CreditDecision, WeeklyCutoff
from .policy import policy_for
from .selectors import credits_for_company, policy_example
from .services import credit_add_manual, decision_mark_reviewed, policy_update
from .simulator import simulate_policy


@admin_required
def policy_edit(request: HttpRequest, programme_pk: int) -> HttpResponse:
    programme = access_object(Programme.objects.all(), company=request.company, pk=programme_pk)
    policy = policy_for(programme)
    existing = {c.lesson_weekday: c for c in policy.weekly_cutoffs.all()}
    initial = [
        {
            "lesson_weekday": day,
            "cutoff_weekday": existing[day].cutoff_weekday if day in existing else None,
            "cutoff_time": existing[day].cutoff_time if day in existing else None,
        }
        for day, _name in WEEKDAYS
    ]
    form = PolicyForm(request.POST or None, instance=policy)
    cutoffs = CutoffFormSet(request.POST or None, initial=initial, prefix="cutoff")
    simulation = None
    if request.method == "POST":
        if form.is_valid() and cutoffs.is_valid() and "preview" in request.POST:
            # BEY-4: try the draft on the last 12 months without saving it.
            draft = form.save(commit=False)
            draft_cutoffs = [
                WeeklyCutoff(
                    lesson_weekday=c.cleaned_data["lesson_weekday"],
                    cutoff_weekday=c.cleaned_data["cutoff_weekday"],
                    cutoff_time=c.cleaned_data["cutoff_time"],
                )
                for c in cutoffs.forms
                if c.cleaned_data.get("cutoff_weekday") is not None
                and c.cleaned_data.get("cutoff_time")
            ]
            simulation = simulate_policy(
                programme=programme, draft=draft, draft_cutoffs=draft_cutoffs, now=timezone.now()
            )
        elif form.is_valid() and cutoffs.is_valid():
            values = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                policy_update(
                    now=timezone.now(),
                    policy=policy,
                    values=values,
                    cutoffs=[c.cleaned_data for c in cutoffs.forms],
                    actor=request.user,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:
                # The form runs the same rules first; should the service still refuse, each
                # error goes on its field.
                form.add_error(None, exc)
                messages.error(
                    request, _("Nothing was saved: please correct the fields marked below.")
                )
            else:
                messages.success(
                    request,
                    _("Cancellation policy of {programme} saved.").format(programme=programme.name),
                )
                return redirect("manage:policy_edit", programme_pk=programme.pk)
        else:
            messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    if form.is_bound and not form.is_valid():
        # The example describes the saved policy: the form's instance holds rejected values
        # (an out-of-range ``hours_before`` overflowed the date arithmetic: a 500).
        policy.refresh_from_db()
    day_names = dict(WEEKDAYS)
    rows = [(day_names[f.initial["lesson_weekday"]] if f.initial else "", f) for f in cutoffs.forms]
    return render(
        request,
        "credits/policy_form.html",
        {
            "programme": programme,
            "form": form,
            "cutoffs": cutoffs,
            "cutoff_rows": rows,
            "example": policy_example(policy),
            "simulation": simulation,
        },
    )


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
