"""WAL-5: a place offered to a watcher — accepting it through the signed link (booked by
:func:`makeups.services.booking.makeup_book`, every rule re-checked under the session lock)
and passing offers nobody accepted in time to the next watcher."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from bookings.models import MakeupBooking
from bookings.services import check_portal_parent
from credits.models import SessionWatch
from makeup.datacache import data_changed
from makeup.errors import DomainError
from makeup.models import Company
from programmes.models import Session

from ..selectors.eligibility import evaluate
from ..selectors.offers import OfferLink, offer_is_current, offer_link_problem
from .booking import makeup_book
from .capacity import lock_session
from .watches import offer_lapsed_reason, watch_credits, watch_end, watch_fill


@dataclass(frozen=True)
class OfferAnswer:
    """What accepting an offer came to: the booking, or why there is none (the place was
    taken meanwhile: the watch is back in line)."""

    booking: MakeupBooking | None
    problem: str = ""


@transaction.atomic
def watch_offer_accept(
    *, watch: SessionWatch, link: OfferLink, actor, now: datetime
) -> OfferAnswer:
    """Accept the offer of ``link`` for ``watch``: ``actor`` must be a confirmed parent of
    the student's family (MKP-9) and the offer the watch's open one, not expired. The place
    is booked with the watcher's soonest-expiring credit that fits, through
    :func:`makeup_book` (every rule again, under the session lock). Accepting twice books
    once: the second answer is the first booking. The offered place is held for the watcher
    (nobody else can book it), but it can still go: the school may correct a cancellation or
    add a student to the class. If it was taken meanwhile, nothing is booked and the watch
    goes back in line; any place still free then goes to the next watcher. Other refusals
    raise :class:`DomainError` with the reasons."""
    locked = lock_session(watch.session_id, now=now)
    watch = (
        SessionWatch.objects.select_for_update(of=("self",))
        .select_related("student__family", "credit__enrolment__klass", "booking")
        .get(pk=watch.pk)
    )
    check_portal_parent(family=watch.student.family, user=actor)
    if watch.state == SessionWatch.State.BOOKED and offer_is_current(link, watch):
        return OfferAnswer(booking=watch.booking)
    problem = offer_link_problem(link, watch, now)
    if problem:
        raise DomainError(problem, code="offer_closed")
    fresh = locked
    chosen = None
    candidate = None
    for credit in watch_credits(watch, now):
        candidate = evaluate(student=watch.student, credit=credit, sessions=[fresh], now=now)[0]
        if candidate.bookable:
            chosen = credit
            break
    if chosen is None:
        if candidate is not None and candidate.only_full:
            SessionWatch.objects.filter(pk=watch.pk).update(state=SessionWatch.State.ACTIVE)
            data_changed(watch.company_id)  # the place is no longer held
            return OfferAnswer(
                booking=None,
                problem=_(
                    "Sorry — the place was taken before you accepted. No make-up was booked; "
                    "you're still watching the session and we'll tell you if another place "
                    "frees up."
                ),
            )
        reasons = " ".join(c.text for c in candidate.failed) if candidate else ""
        raise DomainError(
            reasons or _("No make-up credit of this programme can be used any more."),
            code="not_eligible",
        )
    booking = makeup_book(
        credit=chosen,
        session=fresh,
        actor=actor,
        source=MakeupBooking.Source.PORTAL,
        watch=watch,
        note=_("Booked from a place offered to the watch list"),
        now=now,
    )
    watch_fill(session=fresh, now=now)  # a second free place goes to the next in line
    return OfferAnswer(booking=booking)


def watch_offers_expire(*, now: datetime) -> int:
    """Pass every offer whose time is up at ``now`` to the next watcher in line (the watch
    offered ends), each session in its own transaction under its lock and in its host's
    scope. Idempotent: an offer already accepted, passed on or ended is left alone, so a
    repeated run changes nothing. Returns how many offers lapsed."""
    with scopes_disabled():
        due = list(
            SessionWatch.objects.filter(
                state=SessionWatch.State.OFFERED, offer_expires_at__lte=now
            ).values_list("company_id", "session_id")
        )
    lapsed = 0
    for company_id, session_id in sorted(set(due)):
        company = Company.objects.get(pk=company_id)
        with scope(company=company), transaction.atomic():
            session = lock_session(session_id, now=now)
            expired = SessionWatch.objects.filter(
                session_id=session.pk, state=SessionWatch.State.OFFERED, offer_expires_at__lte=now
            ).first()
            if expired is None:
                continue
            watch_end(watch=expired, reason=offer_lapsed_reason(), now=now)
            lapsed += 1
            if session.starts_at > now:
                watch_fill(session=Session.objects.get(pk=session.pk), now=now)
    return lapsed
