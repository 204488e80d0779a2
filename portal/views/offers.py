"""WAL-5: the signed link of a place offered to a watcher. GET shows the offer with a button
to accept it; POST accepts (booked through the same service as any make-up). A link that
expired, was passed on or whose place was taken says so plainly and books nothing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credits.models import SessionWatch
from makeup.errors import DomainError
from makeups.selectors.offers import offer_is_current, offer_link_problem, offer_link_read
from makeups.services import watch_offer_accept

from ..access import access_guardian


@require_http_methods(["GET", "POST"])
@login_required
def watch_offer(request: HttpRequest, company_slug: str, token: str) -> HttpResponse:
    family = access_guardian(request).family
    link = offer_link_read(token)
    if link is None:  # tampered with, or not ours
        raise Http404
    watch = (
        SessionWatch.objects.select_related(
            "session__klass__programme", "session__company", "student"
        )
        .filter(pk=link.watch_id, student__family=family)
        .first()
    )
    if watch is None:  # another family's link: nothing to see (TEN-1)
        raise Http404
    if watch.state == SessionWatch.State.BOOKED and offer_is_current(link, watch):
        return redirect(
            "portal:makeup_booked", company_slug=company_slug, booking_pk=watch.booking_id
        )
    now = timezone.now()
    problem = offer_link_problem(link, watch, now)
    if request.method == "POST" and not problem:
        try:
            answer = watch_offer_accept(watch=watch, link=link, actor=request.user, now=now)
        except DomainError as error:
            problem = error.message
        else:
            if answer.booking is not None:
                messages.success(
                    request,
                    _("Booked: {name} has the place. We've e-mailed you the details.").format(
                        name=watch.student.first_name
                    ),
                )
                return redirect(
                    "portal:makeup_booked",
                    company_slug=company_slug,
                    booking_pk=answer.booking.pk,
                )
            problem = answer.problem
    return render(
        request,
        "portal/watch_offer.html",
        {
            "watch": watch,
            "session": watch.session,
            "student": watch.student,
            "expires": link.expires_at,
            "problem": problem,
        },
        status=410 if problem else 200,
    )
