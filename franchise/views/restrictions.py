"""Incoming restrictions (FRN-3): an owner's terms for the make-ups of one partner's families
(TEN-2)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from makeup.errors import DomainError
from makeup.tenancy import owner_required

from ..forms import RestrictionForm
from ..selectors.links import approved_partner, restrictions_by_partner
from ..services import restriction_update

NOTHING_SAVED = gettext_lazy("Nothing was saved: please correct the fields marked below.")


@owner_required
def restrictions(request: HttpRequest, partner_id: int) -> HttpResponse:
    company = request.company
    partner = approved_partner(company=company, partner_id=partner_id)
    current = restrictions_by_partner(company).get(partner.pk)
    chosen = [p.pk for p in current.programmes.all()] if current else []
    initial = {
        "programmes": chosen,
        "max_guests_per_session": current.max_guests_per_session if current else None,
        "max_days_ahead": current.max_days_ahead if current else None,
    }
    form = RestrictionForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        company=company,
        chosen=chosen,
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                restriction_update(
                    now=timezone.now(),
                    company=company,
                    partner=partner,
                    programme_ids=[p.pk for p in form.cleaned_data["programmes"]],
                    max_guests_per_session=form.cleaned_data["max_guests_per_session"],
                    max_days_ahead=form.cleaned_data["max_days_ahead"],
                    actor=request.user,
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("Incoming restrictions for %(partner)s saved.") % {"partner": partner.name},
                )
                return redirect("manage:franchise")
        else:
            messages.error(request, NOTHING_SAVED)
    return render(request, "franchise/restrictions.html", {"form": form, "partner": partner})
