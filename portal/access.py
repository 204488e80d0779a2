"""The portal's lookups: the company of the URL, the logged-in parent of it, and the family's
own objects — each answers 404 for anything else, alike for a missing object and another
family's or company's (TEN-1); and the address of the make-up search for a credit."""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse

from bookings.models import Guardian, MakeupBooking
from bookings.selectors import guardian_for_user
from credits.models import MakeupCredit
from franchise.selectors import partners


def access_company(request: HttpRequest):
    if request.company is None:
        raise Http404
    return request.company


def access_guardian(request: HttpRequest) -> Guardian:
    """The logged-in parent of this company, or 404: every object URL of the portal belongs
    to one family, and nobody else gets a hint that it exists (TEN-1)."""
    guardian = guardian_for_user(company=access_company(request), user=request.user)
    if guardian is None:
        raise Http404
    return guardian


def access_family_booking(family, pk) -> MakeupBooking:
    """One of the family's make-ups, at home or at a partner branch (FRN-7), or 404."""
    booking = (
        MakeupBooking.objects.select_related("session__klass", "session__company", "student")
        .filter(pk=pk, student__family=family)
        .first()
    ) or partners.family_partner_booking(family=family, booking_pk=pk)
    if booking is None:
        raise Http404
    return booking


def access_family_credit(family, pk) -> MakeupCredit:
    """One of the family's credits in any state, or 404 (TEN-1)."""
    return get_object_or_404(
        MakeupCredit.objects.select_related("enrolment__student", "enrolment__klass__programme"),
        pk=pk,
        enrolment__student__family=family,
    )


def makeup_search_url(request: HttpRequest, credit: MakeupCredit | None = None) -> str:
    url = reverse("portal:makeup_search", kwargs={"company_slug": request.company.slug})
    return f"{url}?{urlencode({'credit': credit.pk})}" if credit is not None else url
