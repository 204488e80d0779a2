"""Private calendar feeds: the public .ics address (no login: the token is the key), the
parent's "reset the link" in the portal and the instructor's "my calendar" in the back
office."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django_scopes import scope

from bookings.models import CalendarFeed
from bookings.services import feed_for_family, feed_for_instructor, feed_reset
from makeup.errors import DomainError
from makeup.tenancy import staff_required

from ..access import access_calendar_feed, access_guardian
from ..selectors.feeds import family_feed, feed_calendar, staff_classes, staff_feed


def feed_urls(request: HttpRequest, feed: CalendarFeed | None) -> dict[str, str]:
    """The feed's address for copying (https) and for a one-tap subscription (webcal)."""
    if feed is None:
        return {}
    url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token]))
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """/calendar/<token>.ics, fetched by calendar apps without a login."""
    feed = access_calendar_feed(token)
    # Calendar apps fetch without a login or cookies: the feed speaks its owner's language
    # (the instructor's own choice, else the company's).
    language = (feed.user.language if feed.user_id is not None else "") or feed.company.language
    with scope(company=feed.company), translation.override(language or settings.LANGUAGE_CODE):
        body = feed_calendar(feed=feed, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = f'attachment; filename="{feed.company.slug}-calendar.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- the parent portal ---------------------------------------------------------------------


@require_POST
@login_required
def calendar_reset(request: HttpRequest, company_slug: str) -> HttpResponse:
    """The family's calendar address: made on the first press, replaced on the next ones (the
    old address stops working). Only the logged-in parent's own family, so there is no id
    in the URL to guess."""
    guardian = access_guardian(request)
    feed = family_feed(company=request.company, family=guardian.family)
    if feed is None:
        feed_for_family(family=guardian.family)
        messages.success(request, _("Your calendar link is ready: add it to your calendar app."))
    else:
        feed_reset(now=timezone.now(), feed=feed)
        messages.success(
            request,
            _(
                "Your calendar link is new. The old link no longer works: add the new one to "
                "your calendar app (and remove the old calendar there)."
            ),
        )
    return redirect(reverse("portal:home", args=[request.company.slug]) + "#calendar")


# --- the back office -----------------------------------------------------------------------


@require_safe
@staff_required
def my_calendar(request: HttpRequest) -> HttpResponse:
    """Any staff member's own calendar address: the sessions of the classes they teach."""
    feed = staff_feed(company=request.company, user=request.user)
    return render(
        request,
        "portal/my_calendar.html",
        {
            "feed": feed,
            "feed_urls": feed_urls(request, feed),
            "classes": staff_classes(company=request.company, user=request.user),
        },
    )


@require_POST
@staff_required
def my_calendar_reset(request: HttpRequest) -> HttpResponse:
    """Make the instructor's calendar address, or replace it (the old one stops working)."""
    feed = staff_feed(company=request.company, user=request.user)
    try:
        if feed is None:
            feed_for_instructor(company=request.company, user=request.user)
            messages.success(
                request, _("Your calendar link is ready: add it to your calendar app.")
            )
        else:
            feed_reset(now=timezone.now(), feed=feed)
            messages.success(request, _("Your calendar link is new. The old link no longer works."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("manage:my_calendar")
