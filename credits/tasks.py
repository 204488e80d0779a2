"""Credit messages (CRD-5, BEY-6, WAL-4), the lesson reminders (issue 9) and the beats that
claim them, sent by Celery after the transaction that wrote them to the outbox."""

import hashlib
import logging
import math

from celery import shared_task
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Attendance, LessonReminder, MakeupBooking
from makeup.models import Company
from makeup.notifications.kinds import Kind
from makeup.notifications.services import notify_family
from makeup.taskbase import CompanyTask
from programmes.models import Session

from . import hooks
from .models import AbsenceClaim, CreditState, MakeupCredit
from .selectors.carry_over import carrying_companies
from .selectors.receipts import absence_receipt
from .selectors.reminders import cant_come_token
from .services.carry_over import credits_carry_over
from .services.reminders import lessons_claim_reminders
from .services.sweeps import credits_claim_reminders, credits_expire_due

logger = logging.getLogger(__name__)


def tell_family(
    company, *, kind: str, family_id: int, about: str, context: dict, attachments=None
) -> int:
    """Tell the family through the notification service (NTF-1): each parent in their
    language by the channels they chose, once per ``about``. Returns the messages written."""
    return len(
        notify_family(
            kind=kind,
            company=company,
            family_id=family_id,
            about=about,
            context=context,
            attachments=attachments,
            now=timezone.now(),
        )
    )


@shared_task(base=CompanyTask, bind=True)
def send_credit_issued(self, company, credit_id: int) -> int:
    """Tell the family a credit was issued, with its expiry, in each parent's language."""
    credit = (
        MakeupCredit.objects.filter(pk=credit_id, state=CreditState.AVAILABLE)
        .select_related(
            "enrolment__student",
            "enrolment__klass__programme",
            "attendance__session",
            "holder__student",
        )
        .first()
    )
    if credit is None:
        return 0
    # NTF-3: a credit for a lesson the school cancelled tells of the cancellation: urgent.
    session = credit.attendance.session if credit.attendance_id else None
    cancelled = session is not None and session.cancelled_at is not None
    return tell_family(
        company,
        kind=Kind.LESSON_CANCELLED_CREDIT if cancelled else Kind.CREDIT_ISSUED,
        family_id=credit.enrolment.student.family_id,
        about=f"credit-issued:{credit.pk}",
        context={"credit": credit, "student": credit.holder_student, "session": session},
    )


@shared_task(base=CompanyTask, bind=True)
def send_lesson_cancelled(self, company, attendance_id: int) -> int:
    """NTF-3: tell the family the school cancelled a regular lesson that brings no credit
    (the policy gives none) — by text where allowed, and by e-mail. A lesson brought back
    meanwhile tells nothing."""
    attendance = (
        Attendance.objects.filter(pk=attendance_id)
        .select_related("enrolment__student", "session__klass")
        .first()
    )
    if attendance is None or attendance.session.cancelled_at is None:
        return 0
    session = attendance.session
    return tell_family(
        company,
        kind=Kind.LESSON_CANCELLED,
        family_id=attendance.enrolment.student.family_id,
        about=f"lesson-cancelled:{attendance.pk}:{session.cancelled_at:%Y%m%d%H%M%S}",
        context={"student": attendance.enrolment.student, "session": session},
    )


@shared_task(acks_late=True)
def expire_credits() -> int:
    """Beat: the expiry sweep (CRD-4)."""
    return credits_expire_due(now=timezone.now())


@shared_task(acks_late=True)
def carry_over_credits() -> int:
    """Beat, daily: the carry-over into the next term (WAL-4) in each company whose policies
    carry credits, then the expiry sweep — carry first, then expire. Each family whose credits
    moved gets one message (written to the outbox by the service). A company that fails is
    logged and the others still run; the next run picks it up (the service is idempotent).
    Returns how many credits moved."""
    now = timezone.now()
    moved = 0
    for company in carrying_companies():
        try:
            with scope(company=company):
                moved += len(credits_carry_over(company=company, now=now).carried)
        except Exception:
            logger.exception("Carry-over failed for company %s", company.pk)
    credits_expire_due(now=now)
    return moved


def _digest(ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:20]


@shared_task(base=CompanyTask, bind=True)
def send_credits_carried(self, company: Company, family_id: int, credit_ids: list[int]) -> int:
    """WAL-4: tell the family which unused credits moved to the next term — per child who
    holds one now, the new class and the new expiry — in each parent's language."""
    credits = list(
        MakeupCredit.objects.filter(pk__in=credit_ids, holder__student__family_id=family_id)
        .select_related("holder__student", "holder__klass__programme")
        .order_by("holder__student__first_name", "expires_at", "pk")
    )
    if not credits:
        return 0
    return tell_family(
        company,
        kind=Kind.CREDITS_CARRIED,
        family_id=family_id,
        about=f"credits-carried:{family_id}:{_digest(sorted(credit_ids))}",
        context={"credits": credits},
    )


@shared_task(acks_late=True)
def send_expiry_reminders() -> int:
    """Beat: claim due reminders; each claim writes its e-mail to the outbox (CRD-5)."""
    return len(credits_claim_reminders(now=timezone.now()))


@shared_task(base=CompanyTask, bind=True)
def send_expiry_reminder(self, company, credit_id: int) -> int:
    """The "expiring in N days" e-mail for one claimed credit, in each parent's language."""
    now = timezone.now()
    credit = (
        MakeupCredit.objects.filter(pk=credit_id, state=CreditState.AVAILABLE, expires_at__gt=now)
        .select_related("enrolment__student", "enrolment__klass__programme", "holder__student")
        .first()
    )
    if credit is None:
        return 0
    days_left = math.ceil((credit.expires_at - now).total_seconds() / 86400)
    # BEY-3: up to three bookable sessions, each a single-use link (offered by makeups).
    slots = hooks.expiry_offers(company=company, credit=credit, now=now)
    return tell_family(
        company,
        kind=Kind.CREDIT_EXPIRING,
        family_id=credit.enrolment.student.family_id,
        about=f"credit-expiring:{credit.pk}:{credit.expires_at.date().isoformat()}",
        context={
            "credit": credit,
            "student": credit.holder_student,  # who may use it (WAL-1)
            "days_left": days_left,
            "slots": slots,
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_claim_answered(self, company, claim_id: int) -> int:
    """BEY-6: tell the family the school's answer to their "I cancelled in time" claim —
    approved with the credit receipt (BEY-1), or declined with the reason."""

    claim = (
        AbsenceClaim.objects.filter(pk=claim_id)
        .exclude(state=AbsenceClaim.State.OPEN)
        .select_related(
            "attendance__session__klass__programme",
            "attendance__session__company",
            "attendance__enrolment__student",
        )
        .first()
    )
    if claim is None:
        return 0
    attendance = claim.attendance
    approved = claim.state == AbsenceClaim.State.APPROVED
    return tell_family(
        company,
        kind=Kind.CLAIM_ANSWERED,
        family_id=attendance.enrolment.student.family_id,
        about=f"claim-answered:{claim.pk}",
        context={
            "claim": claim,
            "approved": approved,
            "session": attendance.session,
            "student": attendance.enrolment.student,
            "receipt": absence_receipt(attendance) if approved else None,
        },
    )


@shared_task(acks_late=True)
def send_lesson_reminders() -> int:
    """Beat: claim due lesson reminders; each claim writes its e-mail to the outbox."""
    return len(lessons_claim_reminders(now=timezone.now()))


@shared_task(base=CompanyTask, bind=True)
def send_lesson_reminder(self, company, reminder_id: int) -> int:
    """One "see you tomorrow" e-mail to the family's parents, in their language, with the
    one-click "can't come" link. Nothing is sent if the lesson was cancelled meanwhile."""
    reminder = (
        LessonReminder.objects.filter(pk=reminder_id)
        .select_related("student", "booking", "enrolment")
        .first()
    )
    if reminder is None:
        return 0
    with scopes_disabled():  # a make-up may be hosted by a partner company (FRN-5)
        session = Session.objects.select_related("klass__programme", "company").get(
            pk=reminder.session_id
        )
    booking = reminder.booking
    if session.cancelled_at is not None or (
        booking is not None and booking.state != MakeupBooking.State.BOOKED
    ):
        return 0
    link = reverse(
        "portal:cant_come",
        kwargs={"company_slug": company.slug, "token": cant_come_token(reminder)},
    )
    return tell_family(
        company,
        kind=Kind.LESSON_REMINDER,
        family_id=reminder.student.family_id,
        about=f"lesson-reminder:{reminder.pk}",
        context={
            "tz": session.company.timezone,  # the lesson's place, maybe a partner's
            "reminder": reminder,
            "session": session,
            "student": reminder.student,
            "link": link,
        },
    )
