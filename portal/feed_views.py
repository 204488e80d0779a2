"""Private calendar feeds: the public .ics address (no login: the token is the key), the
parent's "reset the link" in the portal and the instructor's "my calendar" in the back
office."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django_scopes import scope

from bookings.models import CalendarFeed
from bookings.selectors import guardian_for_user
from bookings.services import feed_for_family, feed_for_instructor, feed_reset
from makeup.errors import DomainError
from makeup.models import Membership
from makeup.tenancy import staff_required
from programmes.models import Class

from .feeds import feed_calendar

TOKEN_MAX_LENGTH = CalendarFeed._meta.get_field("token").max_length


def feed_urls(request: HttpRequest, feed: CalendarFeed | None) -> dict[str, str]:
    """The feed's address for copying (https) and for a one-tap subscription (webcal)."""
    if feed is None:
        return {}
    url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token]))
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


def _feed_by_token(token: str) -> CalendarFeed:
    """The feed with exactly this token, or 404 (alike for unknown, reset and former staff).

    The one unscoped read of feeds (``CalendarFeed.tokens``): the token is all the request
    carries, and the company comes from the feed found."""
    if len(token) > TOKEN_MAX_LENGTH:
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


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """/calendar/<token>.ics, fetched by calendar apps without a login."""
    feed = _feed_by_token(token)
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
    if request.company is None:
        raise Http404
    guardian = guardian_for_user(company=request.company, user=request.user)
    if guardian is None:
        raise Http404
    feed = CalendarFeed.objects.filter(company=request.company, family=guardian.family).first()
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


def _my_feed(request: HttpRequest) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(company=request.company, user=request.user).first()


@require_safe
@staff_required
def my_calendar(request: HttpRequest) -> HttpResponse:
    """Any staff member's own calendar address: the sessions of the classes they teach."""
    feed = _my_feed(request)
    classes = Class.objects.filter(
        company=request.company, instructor=request.user, archived_at__isnull=True
    ).select_related("programme")
    return render(
        request,
        "portal/my_calendar.html",
        {"feed": feed, "feed_urls": feed_urls(request, feed), "classes": classes},
    )


@require_POST
@staff_required
def my_calendar_reset(request: HttpRequest) -> HttpResponse:
    """Make the instructor's calendar address, or replace it (the old one stops working)."""
    feed = _my_feed(request)
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
