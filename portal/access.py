"""The portal's lookups: the company of the URL, the logged-in parent of it, the family's own
objects and a calendar feed by its token — each answers 404 for anything else, alike for a
missing object and another family's or company's (TEN-1); and the address of the make-up
search for a credit."""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest
from django.urls import reverse

from bookings.models import CalendarFeed, Guardian, MakeupBooking
from bookings.selectors import guardian_for_user
from credits.models import MakeupCredit
from franchise.selectors import partners
from makeup.models import Membership
from makeup.shapes import Shape

FEED_TOKEN_MAX_LENGTH = CalendarFeed._meta.get_field("token").max_length


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
    booking = _FAMILY_BOOKING.first(pk=pk, family_id=family.pk) or partners.family_partner_booking(
        family=family, booking_pk=pk
    )
    if booking is None:
        raise Http404
    return booking


def access_family_credit(family, pk) -> MakeupCredit:
    """One of the family's credits in any state, or 404 (TEN-1): earned by one of its
    children, and held by one of them (WAL-1: a credit never leaves its family)."""
    credit = _FAMILY_CREDIT.first(pk=pk, family_id=family.pk)
    if credit is None:
        raise Http404
    return credit


_FAMILY_BOOKING = Shape(
    lambda pk, family_id: (
        MakeupBooking.objects.select_related("session__klass", "session__company", "student")
        .filter(pk=pk, student__family_id=family_id)
        .order_by("pk")[:1]
    )
)
_FAMILY_CREDIT = Shape(
    lambda pk, family_id: (
        MakeupCredit.objects.select_related(
            "company",
            "enrolment__student",
            "enrolment__klass__programme",
            "holder__student",
            "attendance__session",
        )
        .filter(
            pk=pk, enrolment__student__family_id=family_id, holder__student__family_id=family_id
        )
        .order_by()[:1]
    )
)


def access_calendar_feed(token: str) -> CalendarFeed:
    """The feed with exactly this token, or 404 (alike for unknown, reset and former staff).

    The one unscoped read of feeds (``CalendarFeed.tokens``): the token is all the request
    carries, and the company comes from the feed found."""
    if len(token) > FEED_TOKEN_MAX_LENGTH:
        raise Http404
    feed = (
        CalendarFeed.tokens.select_related("company", "family", "user").filter(token=token).first()
    )
    if feed is None:
        raise Http404
    # An instructor who left the company (or was deactivated) no longer sees its classes.
    if feed.user_id is not None and not (
        feed.user.is_active
        and Membership.objects.filter(company=feed.company_id, user=feed.user_id).exists()
    ):
        raise Http404
    return feed


def makeup_search_url(request: HttpRequest, credit: MakeupCredit | None = None) -> str:
    url = reverse("portal:makeup_search", kwargs={"company_slug": request.company.slug})
    return f"{url}?{urlencode({'credit': credit.pk})}" if credit is not None else url
