"""Watching a full session (BEY-2): a family waits in line for a place with a chosen credit;
a freed place goes to the first watcher who can take it, booked through
:func:`makeups.services.booking.makeup_book` like any other make-up."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.models import MakeupBooking, Student
from bookings.selectors.account import BalanceGate, balance_gate
from bookings.services import check_portal_parent
from credits.models import MakeupCredit, SessionWatch
from makeup import outbox
from makeup.datacache import data_changed
from makeup.errors import DomainError
from makeup.models import Company, CompanySettings
from makeup.shapes import Shape
from programmes.models import Session

from ..selectors.eligibility import evaluate, with_occupancy
from ..selectors.offers import offer_expiry
from .booking import balance_refusal, makeup_book
from .capacity import lock_session

MAX_WATCHES_PER_STUDENT = 2


@transaction.atomic
def watch_create(
    *, credit: MakeupCredit, session: Session, actor=None, now: datetime
) -> SessionWatch:
    """Watch a full session with a chosen credit (at most two watches per student). Only a
    session that fails on capacity alone can be watched.

    A watch is the family acting on its own: ``actor`` must be a parent of the student's
    family with their own confirmed login (MKP-9; the place is later booked for them), and
    a family blocked by the balance gate can't start one (BAL-6). Staff don't watch for a
    family: they book a make-up for it directly."""
    locked = lock_session(session.pk, now=now)
    credit = MakeupCredit.objects.select_related(
        "enrolment__student__family", "enrolment__klass__programme", "holder__student__family"
    ).get(pk=credit.pk)
    student = credit.holder.student  # WAL-1: who holds it watches with it
    check_portal_parent(family=student.family, user=actor)
    candidate = evaluate(student=student, credit=credit, sessions=[locked], now=now)[0]
    if candidate.bookable:
        raise DomainError(_("There is a free place: book it instead of watching."))
    if not candidate.only_full:
        raise DomainError(" ".join(candidate.reasons))
    active = SessionWatch.objects.filter(student=student, state__in=SessionWatch.WAITING)
    if active.filter(session=locked).exists():
        raise DomainError(
            _("{name} is already watching this session.").format(name=student.first_name)
        )
    if active.count() >= MAX_WATCHES_PER_STUDENT:
        raise DomainError(
            ngettext(
                "{name} already watches {count} session: stop one first.",
                "{name} already watches {count} sessions: stop one first.",
                MAX_WATCHES_PER_STUDENT,
            ).format(name=student.first_name, count=MAX_WATCHES_PER_STUDENT)
        )
    gate = balance_gate(family=student.family, now=now)
    if gate.blocked:
        raise balance_refusal(gate, watching=True)
    return SessionWatch.objects.create(
        company_id=locked.company_id,
        session=locked,
        student=student,
        credit=credit,
        created_at=now,
        created_by=actor,
    )


@transaction.atomic
def watch_end(*, watch: SessionWatch, reason: str, now: datetime) -> SessionWatch:
    watch = SessionWatch.objects.select_for_update().get(pk=watch.pk)
    if watch.state in SessionWatch.WAITING:
        watch.state, watch.ended_at = SessionWatch.State.ENDED, now
        watch.end_reason = reason[:200]
        watch.save(update_fields=["state", "ended_at", "end_reason"])
    return watch


def watch_credits(watch: SessionWatch, now: datetime) -> list[MakeupCredit]:
    """The watcher's usable credits for the watched programme — the ones they hold, earned
    or given by a sibling (WAL-1) —, soonest-expiring first (the chosen credit first among
    equals); open-ended credits last."""
    credits = list(
        MakeupCredit.objects.usable(now)
        .filter(
            holder__student_id=watch.student_id,
            enrolment__klass__programme_id=watch.credit.enrolment.klass.programme_id,
        )
        .select_related("enrolment__student", "enrolment__klass__programme", "holder__student")
    )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    credits.sort(key=lambda c: (c.expires_at or far, c.pk != watch.credit_id, c.pk))
    return credits


def watch_fill(*, session: Session, now: datetime) -> list[MakeupBooking]:
    """A place may have freed in ``session``: book watchers in line (oldest watch first)
    while places are left, inside the caller's transaction and the session lock, each with
    their soonest-expiring credit that fits (BEY-2). A watch ends when none of the watcher's
    credits can be used for the session any more (all spent or expired, or the session has
    started), or when the parent who started it can no longer book for the family (MKP-9); a
    watcher not eligible for another reason keeps their place in line. A watcher whose
    family is blocked by the balance gate at ``now`` is passed over for this place — their
    watch stays, the family is told why (once) — and the place goes to the next (BAL-6).

    When the host company offers places instead (WAL-5), the first watcher who could be
    booked is offered the place (:func:`watch_offer_make`) and nothing is booked; while an
    offer of the session is open, no other is made. An offer past its expiry is passed on
    first. Returns the bookings made (none when offering)."""
    booked: list[MakeupBooking] = []
    settings = _host_settings(session)
    offering = settings.watch_mode == CompanySettings.WatchMode.OFFER
    if offering:
        open_offer = _OPEN_OFFER.first(session_id=session.pk)
        if open_offer is not None:
            if open_offer.offer_expires_at > now:
                return booked  # one open offer per session: it waits for the answer
            watch_end(watch=open_offer, reason=offer_lapsed_reason(), now=now)
    watches = _ACTIVE_WATCHES(session_id=session.pk)
    for watch in watches:
        fresh = with_occupancy(Session.objects.filter(pk=session.pk), now=now).get()
        student: Student = watch.student
        credits = watch_credits(watch, now)
        if not credits or fresh.starts_at <= now:
            reason = (
                _("The session has started.")
                if credits
                else _(
                    "No make-up credit of this programme can be used any more (spent or expired)."
                )
            )
            watch_end(watch=watch, reason=reason, now=now)
            continue
        chosen = None
        for credit in credits:
            candidate = evaluate(student=student, credit=credit, sessions=[fresh], now=now)[0]
            if candidate.bookable:
                chosen = credit
                break
            if candidate.only_full:
                break
        if chosen is None:
            if candidate.only_full:
                break  # no place left: the rest of the line waits
            if all(c.rule in ("CRD-4", "MKP-6") for c in candidate.failed):
                watch_end(watch=watch, reason=candidate.failed[0].text, now=now)
            continue
        # A place is free for this watcher. It is booked for the parent who started the
        # watch, who must still be a confirmed parent of the family (MKP-9)…
        try:
            check_portal_parent(family=student.family, user=watch.created_by)
        except DomainError:
            watch_end(
                watch=watch,
                reason=_("The parent who started this watch can no longer book for the family."),
                now=now,
            )
            continue
        # …and, the family acting on its own, the balance gate holds (BAL-6): a blocked
        # family is passed over for this place (its watch stays) and told why, once.
        gate = balance_gate(family=student.family, now=now)
        if gate.blocked:
            _tell_skipped_for_balance(watch=watch, gate=gate)
            continue
        if offering:
            watch_offer_make(watch=watch, session=fresh, settings=settings, now=now)
            break
        booking = makeup_book(
            credit=chosen,
            session=fresh,
            source=MakeupBooking.Source.WATCH,
            watch=watch,
            note=_("Booked automatically from the watch list"),
            now=now,
        )
        booked.append(booking)
    return booked


def _host_settings(session: Session) -> CompanySettings:
    """The settings of the company hosting ``session`` (its watches are the host's): those
    loaded with the session when they were (the capacity lock loads them), else read."""
    if Session.company.is_cached(session):
        return session.company.settings
    return Company.objects.select_related("settings").get(pk=session.company_id).settings


def offer_lapsed_reason() -> str:
    return _("The offered place was not accepted in time, so it passed to the next in line.")


def watch_offer_make(
    *, watch: SessionWatch, session: Session, settings: CompanySettings, now: datetime
) -> SessionWatch:
    """WAL-5: offer the free place in ``session`` to ``watch`` (the first in line who could
    take it) for the company's offer hours, not counting 21:00–07:00 in its zone, and at
    most until the session starts; the family is e-mailed the signed link (through the
    outbox, once per offer). The place is held for them until the offer ends — counted as
    taken for everyone else (:func:`makeups.selectors.eligibility.with_occupancy`) — and
    accepting still re-checks everything."""
    expires = offer_expiry(now, settings.watch_offer_hours, settings.company.tzinfo)
    expires = min(expires, session.starts_at)
    SessionWatch.objects.filter(pk=watch.pk).update(
        state=SessionWatch.State.OFFERED, offered_at=now, offer_expires_at=expires
    )
    data_changed(session.company_id)  # the held place: cached searches see it (no signal)
    watch.state, watch.offered_at, watch.offer_expires_at = (
        SessionWatch.State.OFFERED,
        now,
        expires,
    )
    outbox.enqueue(
        "makeups.tasks.send_watch_offer",
        watch.credit.company_id,
        watch.pk,
        key=f"watch-offer:{watch.pk}:{now.timestamp()}",
    )
    return watch


def _tell_skipped_for_balance(*, watch: SessionWatch, gate: BalanceGate) -> None:
    """BAL-6: e-mail the family (through the outbox, after the commit) that a place freed
    but went to the next in line because of the amount due — once per watch, however many
    places pass them by."""
    outbox.enqueue(
        "makeups.tasks.send_watch_skipped_for_balance",
        watch.credit.company_id,
        watch.pk,
        f"{gate.due:.2f}",
        key=f"watch-skipped-balance:{watch.pk}",
    )


# At most one open offer per session (WAL-5).
_OPEN_OFFER = Shape(
    lambda session_id: SessionWatch.objects.filter(
        session_id=session_id, state=SessionWatch.State.OFFERED
    )[:1]
)
_ACTIVE_WATCHES = Shape(
    lambda session_id: (
        SessionWatch.objects.filter(session_id=session_id, state=SessionWatch.State.ACTIVE)
        .select_related("student__family", "credit__enrolment__klass", "created_by")
        .order_by("created_at", "pk")
    )
)
