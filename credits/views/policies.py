"""Back office: a programme's cancellation policy page, with the simulator (BEY-4)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from makeup.errors import DomainError
from makeup.tenancy import access_object, admin_required
from programmes.models import WEEKDAYS, Programme

from ..forms import CutoffFormSet, PolicyForm
from ..models import WeeklyCutoff
from ..selectors.policies import policy_example, policy_for
from ..selectors.simulator import simulate_policy
from ..services.policies import policy_update


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
