"""Lesson reminders (issue 9), the claim: the day before each make-up — and, when the company
turns it on, each regular lesson — the family gets an e-mail (``credits.tasks``) with a
one-click "can't come" link (``credits.selectors.reminders``) that runs the normal client
cancellation (ATT-3, POL-1…POL-11 decide about the credit; a make-up cancelled on time gives
its credit back, CRD-3).

The sweep runs hourly and claims due lessons by inserting one ``LessonReminder`` row per
(session, student): the unique constraint makes the claim, so overlapping runs or a rerun
after a crash never e-mail twice. A lesson is due from 09:00 (the session company's time)
on the day before it until it starts.
"""

import uuid
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django_scopes import scopes_disabled

from bookings.models import (
    Attendance,
    AttendanceState,
    Enrolment,
    LessonReminder,
    MakeupBooking,
)
from makeup import outbox
from makeup.models import Company
from programmes.models import Session

SEND_FROM = time(9)  # local time on the day before


def _due_window(company: Company, now: datetime) -> tuple[datetime, datetime] | None:
    """Sessions starting tomorrow (company time) are due once it is 09:00 today."""
    local = now.astimezone(company.tzinfo)
    if local.time() < SEND_FROM:
        return None
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tzinfo=company.tzinfo)
    return now, start + timedelta(days=1)


def lessons_claim_reminders(*, now: datetime) -> list[tuple[int, int]]:
    """Claim every lesson due a reminder; returns ``(family company id, reminder id)`` pairs
    to e-mail. Make-ups are claimed in the session's (host's) time; regular lessons only in
    companies with the setting on."""
    run = uuid.uuid4().hex
    rows: list[LessonReminder] = []
    with scopes_disabled():
        for company in Company.objects.select_related("settings"):
            window = _due_window(company, now)
            if window is None:
                continue
            sessions = Session.objects.filter(
                company=company,
                starts_at__gt=window[0],
                starts_at__lt=window[1],
                cancelled_at__isnull=True,
            )
            for booking in MakeupBooking.objects.filter(
                session__in=sessions, state=MakeupBooking.State.BOOKED
            ):
                rows.append(
                    LessonReminder(
                        company_id=booking.home_company_id,
                        session_id=booking.session_id,
                        student_id=booking.student_id,
                        kind=LessonReminder.Kind.MAKEUP,
                        booking=booking,
                        claimed_at=now,
                        run=run,
                    )
                )
            if not company.settings.regular_lesson_reminders:
                continue
            rows += _regular_rows(company, list(sessions), now, run)
        with transaction.atomic():
            if rows:
                LessonReminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            claimed = list(
                LessonReminder.objects.filter(run=run)
                .values_list("company_id", "pk")
                .order_by("pk")
            )
            # The e-mails, in the claim's transaction (makeup.outbox): claimed means sent.
            outbox.enqueue_many(
                "credits.tasks.send_lesson_reminder",
                [(f"lesson-reminder:{pk}", (company_id, pk)) for company_id, pk in claimed],
            )
        return claimed


def _regular_rows(company, sessions: list[Session], now, run) -> list[LessonReminder]:
    if not sessions:
        return []
    off = set(
        Attendance.objects.filter(session__in=sessions)
        .exclude(state=AttendanceState.EXPECTED)
        .values_list("session_id", "enrolment_id")
    )
    dates = {s.local_date for s in sessions}
    enrolments = list(
        Enrolment.objects.filter(
            klass_id__in={s.klass_id for s in sessions}, start_date__lte=max(dates)
        ).filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=min(dates)))
    )
    rows = []
    for session in sessions:
        for enrolment in enrolments:
            if enrolment.klass_id != session.klass_id or not enrolment.is_active_on(
                session.local_date
            ):
                continue
            if (session.pk, enrolment.pk) in off:
                continue
            rows.append(
                LessonReminder(
                    company_id=company.pk,
                    session_id=session.pk,
                    student_id=enrolment.student_id,
                    kind=LessonReminder.Kind.REGULAR,
                    enrolment=enrolment,
                    claimed_at=now,
                    run=run,
                )
            )
    return rows
