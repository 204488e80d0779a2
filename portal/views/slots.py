"""BEY-3: the links of the "expiring soon" e-mail. Each opens the booking confirmation of one
session for one credit (login first); a link used, expired or for a session that filled
meanwhile says so kindly and offers the next bookable sessions."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from credits.models import MakeupCredit
from franchise.selectors import partners
from makeups.selectors.slots import bookable_slots, slot_link_problem, slot_link_read

from ..access import access_company, access_guardian, makeup_search_url


@require_GET
@login_required
def slot_link(request: HttpRequest, company_slug: str, token: str) -> HttpResponse:
    access_company(request)
    family = access_guardian(request).family
    link = slot_link_read(token)
    if link is None:
        raise Http404
    credit = (
        MakeupCredit.objects.select_related(
            "enrolment__student", "enrolment__klass__programme", "holder__student"
        )
        .filter(pk=link.credit_id, enrolment__student__family=family)
        .first()
    )
    if credit is None:  # another family's link: nothing to see (TEN-1)
        raise Http404
    now = timezone.now()
    problem = slot_link_problem(link, credit, now)
    session = None
    if not problem:
        session = partners.makeup_session(credit=credit, session_pk=link.session_id)
        if session is None:
            raise Http404
        candidate = partners.makeup_check(credit=credit, session=session, now=now)
        if candidate.bookable:
            return redirect(
                "portal:makeup_confirm",
                company_slug=company_slug,
                credit_pk=credit.pk,
                session_pk=session.pk,
            )
        problem = (
            _("Sorry — this session filled up after we sent the e-mail.")
            if candidate.only_full
            else _("Sorry — this session can't be booked any more: {reasons}").format(
                reasons=" ".join(str(reason) for reason in candidate.reasons)
            )
        )
    usable = credit.is_usable(now)
    return render(
        request,
        "portal/slot_problem.html",
        {
            "problem": problem,
            "session": session,
            "credit": credit,
            "student": credit.holder_student,
            "slots": bookable_slots(credit, now) if usable else [],
            "search_url": makeup_search_url(request, credit) if usable else "",
        },
        status=410 if session is None else 200,
    )
