"""The family credit wallet in the portal: a parent gives a child's credit to a brother or
sister (WAL-1). Thin: the rules are the credits app's (``credits.selectors.transfers`` shows
them, ``credits.services.credit_transfer`` holds them)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.models import Enrolment
from credits.selectors.transfers import family_enrolment, transfer_choices
from credits.services import credit_transfer
from makeup.errors import DomainError

from ..access import access_company, access_family_credit, access_guardian
from ..texts import local_time
from .home import to_home


@require_http_methods(["GET", "POST"])
@login_required
def credit_give(request: HttpRequest, company_slug: str, credit_pk: int) -> HttpResponse:
    """ "Give to a sibling": the credit, the brothers and sisters who can use it (or why
    none can), and the choice; another family's credit is a 404 (TEN-1)."""
    company = access_company(request)
    family = access_guardian(request).family
    credit = access_family_credit(family, credit_pk)
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
                messages.success(request, given_message(credit, receiver))
                return to_home(request)
    return render(
        request,
        "portal/credit_give.html",
        {"credit": credit, "choices": transfer_choices(credit=credit, now=now, tz=company.tzinfo)},
    )


def given_message(credit, receiver: Enrolment) -> str:
    """What the parent reads once the credit is given: whose it is now, and its expiry."""
    if credit.expires_at is None:
        return _("The credit is now {name}'s, with no expiry.").format(
            name=receiver.student.first_name
        )
    return _("The credit is now {name}'s, to use by {until}.").format(
        name=receiver.student.first_name,
        until=local_time(credit.expires_at, "TEXT_DATETIME_FORMAT"),
    )
