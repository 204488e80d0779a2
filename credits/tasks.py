"""Credit e-mails (CRD-5), sent by Celery after the transaction that issued the credit."""

import math

from celery import shared_task
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import Guardian, MakeupBooking
from makeup.emails import send_templated_email
from makeup.taskbase import CompanyTask

from .calendar import makeup_ics
from .models import AbsenceClaim, CreditState, MakeupCredit, SessionWatch
from .selectors import absence_receipt
from .slots import bookable_slots, slot_token
from .sweeps import credits_claim_reminders, credits_expire_due


def email_family(company, *, family_id: int, template: str, context: dict, attachments=None) -> int:
    """One e-mail to each parent of the family with an address, in the parent's language
    (else the company's), times in the company's zone."""
    sent = 0
    guardians = Guardian.objects.filter(family_id=family_id).exclude(email="")
    for guardian in guardians.select_related("user"):
        language = (guardian.user.language if guardian.user else "") or company.language
        sent += send_templated_email(
            template=template,
            to=[guardian.email],
            language=language,
            context={"company": company, "guardian": guardian, "tz": company.timezone, **context},
            attachments=attachments,
        )
    return sent


@shared_task(base=CompanyTask, bind=True)
def send_credit_issued(self, company, credit_id: int) -> int:
    """Tell the family a credit was issued, with its expiry, in each parent's language."""
    credit = (
        MakeupCredit.objects.filter(pk=credit_id, state=CreditState.AVAILABLE)
        .select_related("enrolment__student", "enrolment__klass__programme", "attendance__session")
        .first()
    )
    if credit is None:
        return 0
    return email_family(
        company,
        family_id=credit.enrolment.student.family_id,
        template="credit_issued",
        context={"credit": credit, "student": credit.enrolment.student},
    )


@shared_task(acks_late=True)
def expire_credits() -> int:
    """Beat: the expiry sweep (CRD-4)."""
    return credits_expire_due(now=timezone.now())


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
        .select_related("enrolment__student", "enrolment__klass__programme")
        .first()
    )
    if credit is None:
        return 0
    days_left = math.ceil((credit.expires_at - now).total_seconds() / 86400)
    # BEY-3: up to three bookable sessions, each a single-use link to the confirmation.
    slots = [
        {
            "session": c.session,
            "places_left": c.places_left,
            "url": reverse(
                "portal:slot_link",
                kwargs={"company_slug": company.slug, "token": slot_token(credit, c.session.pk)},
            ),
        }
        for c in bookable_slots(credit, now)
    ]
    return email_family(
        company,
        family_id=credit.enrolment.student.family_id,
        template="credit_expiring",
        context={
            "credit": credit,
            "student": credit.enrolment.student,
            "days_left": days_left,
            "slots": slots,
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_makeup_booked(self, company, booking_id: int) -> int:
    """The make-up confirmation with an .ics calendar attachment, to the student's parents.
    Runs in the family's (home) company; a make-up at a partner branch is hosted by another
    company, so the booking is read by id and home company with scoping lifted."""

    with scopes_disabled():
        booking = (
            MakeupBooking.objects.filter(
                pk=booking_id, home_company=company, state=MakeupBooking.State.BOOKED
            )
            .select_related("session__klass__programme", "session__company", "student__family")
            .first()
        )
    if booking is None:
        return 0
    return email_family(
        company,
        family_id=booking.student.family_id,
        template="makeup_booked",
        context={"booking": booking, "session": booking.session, "student": booking.student},
        attachments=[("make-up.ics", makeup_ics(booking), "text/calendar")],
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
    return email_family(
        company,
        family_id=attendance.enrolment.student.family_id,
        template="claim_answered",
        context={
            "claim": claim,
            "approved": approved,
            "session": attendance.session,
            "student": attendance.enrolment.student,
            "receipt": absence_receipt(attendance) if approved else None,
        },
    )


@shared_task(base=CompanyTask, bind=True)
def send_watch_skipped_for_balance(self, company, watch_id: int, amount: str) -> int:
    """BAL-6: tell the family that a place freed in the session they watch but went to the
    next in line, because their account had ``amount`` due then; the watch goes on. Runs in
    the family's (home) company; nothing is sent once the watch is booked or has ended."""
    with scopes_disabled():
        watch = (
            SessionWatch.objects.filter(
                pk=watch_id, credit__company=company, state=SessionWatch.State.ACTIVE
            )
            .select_related("session__klass__programme", "session__company", "student")
            .first()
        )
    if watch is None:
        return 0
    pay_url = ""
    if company.settings.portal_payments_enabled:
        pay_url = reverse("portal:pay", kwargs={"company_slug": company.slug})
    return email_family(
        company,
        family_id=watch.student.family_id,
        template="watch_skipped_balance",
        context={
            "watch": watch,
            "session": watch.session,
            "student": watch.student,
            "amount": amount,
            "currency": company.currency,
            "pay_url": pay_url,
        },
    )
