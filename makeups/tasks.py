"""Make-up e-mails, sent by Celery after the transaction that wrote them to the outbox: the
confirmation with its calendar file, the move to another session (WAL-2), the cancellation
(the credit back or kept), the "a place went to the next in line" notice (BAL-6), and a
family's one message about a closure (CLO-4); and the background run applying a closure
(CLO-7); a place offered to a watcher and the sweep passing unaccepted offers on (WAL-5)."""

from celery import shared_task
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import Family, MakeupBooking
from credits.models import CreditEvent, MakeupCredit, SessionWatch
from credits.tasks import tell_family
from makeup.notifications.kinds import Kind
from makeup.taskbase import CompanyTask
from programmes.models import Closure, ClosureRun, Session

from .calendar import makeup_ics
from .selectors.closures import closure_notice_lessons, closure_restored_lessons
from .selectors.offers import offer_token
from .services.closures import closure_run_execute
from .services.offers import watch_offers_expire


def _family_booking(company, booking_id: int, state: str) -> MakeupBooking | None:
    """The family's make-up ``booking_id`` in ``state``, read by id and home company with
    scoping lifted: a make-up at a partner branch is hosted by another company."""
    with scopes_disabled():
        return (
            MakeupBooking.objects.filter(pk=booking_id, home_company=company, state=state)
            .select_related("session__klass__programme", "session__company", "student__family")
            .first()
        )


def _family_watch(company, watch_id: int, state: str) -> SessionWatch | None:
    """The family's watch ``watch_id`` in ``state``, read by id and the credit's (home)
    company with scoping lifted: the watched session may be a partner's."""
    with scopes_disabled():
        return (
            SessionWatch.objects.filter(pk=watch_id, credit__company=company, state=state)
            .select_related("session__klass__programme", "session__company", "student")
            .first()
        )


@shared_task(base=CompanyTask, bind=True)
def send_makeup_booked(self, company, booking_id: int) -> int:
    """The make-up confirmation with an .ics calendar attachment, to the student's parents.
    Runs in the family's (home) company; a make-up at a partner branch is hosted by another
    company, so the booking is read by id and home company with scoping lifted."""
    booking = _family_booking(company, booking_id, MakeupBooking.State.BOOKED)
    if booking is None:
        return 0
    with scopes_disabled():
        from_watch = SessionWatch.objects.filter(booking_id=booking.pk).exists()
    return tell_family(
        company,
        kind=Kind.WATCH_BOOKED if from_watch else Kind.MAKEUP_BOOKED,
        family_id=booking.student.family_id,
        about=f"makeup-booked:{booking.pk}",
        context={"booking": booking, "session": booking.session, "student": booking.student},
        attachments=[("make-up.ics", makeup_ics(booking), "text/calendar")],
    )


@shared_task(base=CompanyTask, bind=True)
def send_makeup_moved(
    self, company, booking_id: int, from_session_id: int, to_session_id: int
) -> int:
    """WAL-2: tell the family their make-up moved from one session to another — once per
    move (the outbox key) — with the calendar invitation updated (the same event, a later
    revision). Nothing is sent for a booking cancelled or moved again since: the later
    message tells the family where it is now. Runs in the family's (home) company; either
    session may be a partner's, so they are read by id with scoping lifted."""
    booking = _family_booking(company, booking_id, MakeupBooking.State.BOOKED)
    if booking is None or booking.session_id != to_session_id:
        return 0
    with scopes_disabled():
        previous = (
            Session.objects.filter(pk=from_session_id)
            .select_related("klass__programme", "company")
            .first()
        )
        revision = CreditEvent.objects.filter(
            credit__booking_id=booking.pk, kind=CreditEvent.Kind.MOVED
        ).count()
    ics = makeup_ics(booking, stamp=timezone.now(), sequence=revision)
    return tell_family(
        company,
        kind=Kind.MAKEUP_MOVED,
        family_id=booking.student.family_id,
        about=f"makeup-moved:{booking.pk}:{from_session_id}-{to_session_id}:{revision}",
        context={
            "booking": booking,
            "session": booking.session,
            "previous": previous,
            "student": booking.student,
        },
        attachments=[("make-up.ics", ics, "text/calendar")],
    )


@shared_task(base=CompanyTask, bind=True)
def send_makeup_cancelled(
    self, company, booking_id: int, credit_id: int | None, returned: bool, by_school: bool
) -> int:
    """Tell the family a make-up is cancelled: by them or staff (the credit back on time, or
    kept when late, CRD-3) or because the school cancelled the session (the credit back,
    ATT-7). Runs in the family's (home) company; the booking may be hosted by a partner, so
    it is read by id and home company with scoping lifted."""
    booking = _family_booking(company, booking_id, MakeupBooking.State.CANCELLED)
    if booking is None:
        return 0
    credit = MakeupCredit.objects.filter(pk=credit_id).first() if credit_id else None
    return tell_family(
        company,
        kind=Kind.MAKEUP_CANCELLED_BY_SCHOOL if by_school else Kind.MAKEUP_CANCELLED,
        family_id=booking.student.family_id,
        about=f"makeup-cancelled:{booking.pk}",
        context={
            "booking": booking,
            "session": booking.session,
            "student": booking.student,
            "credit": credit,
            "returned": returned,
            "by_school": by_school,
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_watch_skipped_for_balance(self, company, watch_id: int, amount: str) -> int:
    """BAL-6: tell the family that a place freed in the session they watch but went to the
    next in line, because their account had ``amount`` due then; the watch goes on. Runs in
    the family's (home) company; nothing is sent once the watch is booked or has ended."""
    watch = _family_watch(company, watch_id, SessionWatch.State.ACTIVE)
    if watch is None:
        return 0
    pay_url = ""
    if company.settings.portal_payments_enabled:
        pay_url = reverse("portal:pay", kwargs={"company_slug": company.slug})
    return tell_family(
        company,
        kind=Kind.WATCH_SKIPPED,
        family_id=watch.student.family_id,
        about=f"watch-skipped-balance:{watch.pk}",
        context={
            "watch": watch,
            "session": watch.session,
            "student": watch.student,
            "amount": amount,
            "currency": company.currency,
            "pay_url": pay_url,
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_watch_offer(self, company, watch_id: int) -> int:
    """WAL-5: offer the family the place freed in the session they watch, with the signed
    link to accept it and until when. Runs in the family's (home) company; nothing is sent
    once the offer was accepted, passed on or the watch ended."""
    watch = _family_watch(company, watch_id, SessionWatch.State.OFFERED)
    if watch is None:
        return 0
    url = reverse(
        "portal:watch_offer", kwargs={"company_slug": company.slug, "token": offer_token(watch)}
    )
    return tell_family(
        company,
        kind=Kind.WATCH_OFFER,
        family_id=watch.student.family_id,
        about=f"watch-offer:{watch.pk}:{watch.offered_at.timestamp()}",
        context={
            "watch": watch,
            "session": watch.session,
            "student": watch.student,
            "expires_at": watch.offer_expires_at,
            "url": url,
        },
    )


@shared_task(acks_late=True)
def expire_watch_offers() -> int:
    """Beat: offers of freed places nobody accepted in time pass to the next watcher
    (WAL-5). Idempotent; returns how many offers lapsed."""
    return watch_offers_expire(now=timezone.now())


@shared_task(base=CompanyTask, bind=True, outbox_own_transactions=True)
def run_closure(self, company, run_id: int) -> str:
    """CLO-7: apply a closure, its sessions in groups each in its own transaction (so it runs
    outside the outbox's delivery transaction and the page sees its progress). Idempotent: a
    second delivery, or a run after a failure, skips what is done."""
    run = ClosureRun.objects.filter(pk=run_id, company=company).first()
    if run is None:
        return "missing"
    return closure_run_execute(run=run, clock=timezone.now).state


def _closure_family_email(
    company, *, closure_id: int, family_id: int, lessons_of, kind: str, more=None
) -> int:
    """E-mail one family of ``company`` about a closure: the lessons ``lessons_of(closure=,
    family_id=)`` lists for it (nothing is sent when none, or when the closure or family is
    gone). The closure and its lessons are read by id with scoping lifted — a child may
    have been a make-up guest at the partner branch whose closure it was —, always for this
    family only. ``more(lessons)``: extra context for the template."""
    family = Family.objects.filter(pk=family_id, company=company).first()
    if family is None:
        return 0
    with scopes_disabled():
        closure = Closure.objects.select_related("company").filter(pk=closure_id).first()
        if closure is None:
            return 0
        lessons = lessons_of(closure=closure, family_id=family.pk)
    if not lessons:
        return 0
    return tell_family(
        company,
        kind=kind,
        family_id=family.pk,
        about=f"{kind}:{closure_id}:{family.pk}",
        context={
            "closure": closure,
            "host": closure.company,
            "lessons": lessons,
            "tz": closure.company.timezone,
            **(more(lessons) if more else {}),
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_closure_notice(self, company, closure_id: int, family_id: int) -> int:
    """CLO-4: the family's one message about a closure: every lesson of its children the
    closure cancelled, with what each brought (a credit and its expiry, or why none; a
    make-up cancelled with its credit back), in each parent's language."""
    return _closure_family_email(
        company,
        closure_id=closure_id,
        family_id=family_id,
        lessons_of=closure_notice_lessons,
        kind=Kind.CLOSURE_NOTICE,
        more=lambda lessons: {
            "credits": any(lesson.outcome in ("credit", "guest") for lesson in lessons)
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_closure_restored_notice(self, company, closure_id: int, family_id: int) -> int:
    """CLO-6: the family's one message that a removed closure's lessons go ahead after all,
    listing them, in each parent's language."""
    return _closure_family_email(
        company,
        closure_id=closure_id,
        family_id=family_id,
        lessons_of=closure_restored_lessons,
        kind=Kind.CLOSURE_RESTORED,
    )
