"""The private calendar feeds: whose feed is whose, and their content (RFC 5545, written by
the ``icalendar`` library through :mod:`makeups.calendar`, which escapes every text and
folds the lines).

A family's feed lists its children's regular lessons and their booked make-ups, at home and
at partner branches (FRN-7); an instructor's feed lists the sessions of the classes they
teach. Lessons cancelled by the child or by the school stay in the feed as cancelled, so a
calendar app that had them shows them struck out instead of silently dropping them; so does
a make-up the school's cancellation of its session ended. A lesson on a closed day (CLO-1)
is cancelled too, with the closure's name, as soon as the closure is on the calendar —
before the sessions themselves are cancelled — and keeps its UID, so calendar apps update
the event rather than add a second one. Each feed costs a fixed number of queries, whatever
the number of children, lessons and closures.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils.translation import gettext as _

from bookings.models import (
    CLIENT_CANCELLED_STATES,
    Attendance,
    AttendanceState,
    CalendarFeed,
    Enrolment,
    MakeupBooking,
    Student,
)
from franchise.selectors.partners import family_partner_makeups
from makeup.shapes import Shape
from makeups.calendar import (
    calendar_event,
    new_calendar,
    session_location,
    to_ics,
    uid_host,
)
from programmes.models import Class, Closure, Session
from programmes.selectors import ClosureCalendar

DAYS_BEHIND = 30
DAYS_AHEAD = 120
CANCELLED_STATES = {*CLIENT_CANCELLED_STATES, AttendanceState.STAFF_CANCELLED}


@dataclass
class Event:
    uid: str
    session: Session
    summary: str
    description: str
    cancelled: bool = False
    closure: str = ""  # the name of the closure that shuts it, if one does


def _vevent(event: Event, stamp: datetime):
    session = event.session
    if event.cancelled and event.closure:
        summary = _("Cancelled ({closure}): {summary}").format(
            closure=event.closure, summary=event.summary
        )
    elif event.cancelled:
        summary = _("Cancelled: {summary}").format(summary=event.summary)
    else:
        summary = event.summary
    return calendar_event(
        uid=event.uid,
        stamp=stamp,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=summary,
        location=session_location(session),
        description=event.description,
        status="CANCELLED" if event.cancelled else "CONFIRMED",
    )


def render_calendar(*, name: str, timezone: str, events: list[Event], now: datetime) -> str:
    """A whole VCALENDAR of ``events`` (by start), refreshed by calendar apps every hour."""
    calendar = new_calendar(name=name, timezone=timezone, refresh=timedelta(hours=1))
    for event in sorted(events, key=lambda e: (e.session.starts_at, e.uid)):
        calendar.add_component(_vevent(event, now))
    return to_ics(calendar)


# --- whose feed ----------------------------------------------------------------------------


def family_feed(*, company, family) -> CalendarFeed | None:
    """The family's calendar feed in ``company``, if it has one yet (the portal home shows
    it on every visit: a compiled read)."""
    return _FAMILY_FEED.first(company_id=company.pk, family_id=family.pk)


_FAMILY_FEED = Shape(
    lambda company_id, family_id: CalendarFeed.objects.filter(
        company_id=company_id, family_id=family_id
    ).order_by("pk")[:1]
)


def staff_feed(*, company, user) -> CalendarFeed | None:
    """A staff member's own calendar feed in ``company``, if they have one yet."""
    return CalendarFeed.objects.filter(company=company, user=user).first()


def staff_classes(*, company, user):
    """The classes ``user`` teaches in ``company`` (the sessions their feed lists)."""
    return Class.objects.filter(
        company=company, instructor=user, archived_at__isnull=True
    ).select_related("programme")


# --- the content -----------------------------------------------------------------------------


def _window(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=DAYS_BEHIND), now + timedelta(days=DAYS_AHEAD)


def _closures(company, start: datetime, end: datetime) -> ClosureCalendar:
    """The company's live closures over the feed's window, loaded once (two queries at most)."""
    tz = company.tzinfo
    return ClosureCalendar.for_company(
        company, start.astimezone(tz).date(), end.astimezone(tz).date()
    )


def _closure_of(session: Session, calendar: ClosureCalendar, company_id: int) -> Closure | None:
    """Why the school is not holding ``session``, if a closure is why: the closure that
    cancelled it, or — not cancelled yet — a live closure of ``calendar`` (the closures of
    the feed's company, ``company_id``) covering it."""
    if session.cancelled_at is not None:
        return session.closure if session.closure_id is not None else None
    if session.company_id != company_id:
        return None  # a partner's session: its closures are the partner's own
    return calendar.closure_for(session)


def _school_cancellation(session: Session, closure: Closure | None) -> str:
    """The line saying the school is not holding ``session``, and why."""
    company, reason = session.company.name, session.cancel_reason
    if closure is not None:
        text = _("Cancelled by {company}: closed for {closure}.").format(
            company=company, closure=closure.name
        )
        if reason and reason != closure.name:
            text = f"{text}\n{reason}"
        return text
    if reason:
        return _("Cancelled by {company}: {reason}").format(company=company, reason=reason)
    return _("Cancelled by {company}.").format(company=company)


# --- a family's lessons and make-ups -------------------------------------------------------


def _lesson_description(
    session: Session, state: str | None, student: Student, closure: Closure | None
) -> str:
    company = session.company.name
    text = _("{programme} at {company}.").format(
        programme=session.klass.programme.name, company=company
    )
    if (
        session.cancelled_at is not None
        or closure is not None
        or state == AttendanceState.STAFF_CANCELLED
    ):
        return f"{text}\n{_school_cancellation(session, closure)}"
    if state in CLIENT_CANCELLED_STATES:
        not_coming = _("{name} is not coming (cancelled in advance).").format(
            name=student.first_name
        )
        return f"{text}\n{not_coming}"
    return text


def _makeup_description(
    booking: MakeupBooking, home_company_id: int, closure: Closure | None
) -> str:
    session = booking.session
    where = session.company.name
    if session.company_id != home_company_id:
        where = _("{company} (a partner branch)").format(company=where)
    text = _("Make-up lesson: {programme} at {where}.").format(
        programme=session.klass.programme.name, where=where
    )
    if booking.note:
        text = f"{text}\n{booking.note}"
    if session.cancelled_at is not None or closure is not None:
        text = f"{text}\n{_school_cancellation(session, closure)}"
    return text


def family_events(*, feed: CalendarFeed, now: datetime) -> list[Event]:
    """The family's regular lessons (sessions of their enrolments while active) and make-ups
    (booked, or ended by the school cancelling their session), from 30 days ago to 120 days
    ahead. Nine queries at most, run inside the scope of the feed's company."""
    family, company = feed.family, feed.company
    start, end = _window(now)
    host = uid_host()
    calendar = _closures(company, start, end)
    students = {s.pk: s for s in Student.objects.filter(company=company, family=family)}
    enrolments = list(
        Enrolment.objects.filter(company=company, student__family=family).filter(
            Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=start.date())
        )
    )
    sessions = list(
        Session.objects.filter(
            company=company,
            klass_id__in={e.klass_id for e in enrolments},
            starts_at__gte=start,
            starts_at__lt=end,
        ).select_related("klass__programme", "company", "closure")
    )
    states = dict(
        ((enrolment_id, session_id), state)
        for enrolment_id, session_id, state in Attendance.objects.filter(
            company=company,
            enrolment_id__in=[e.pk for e in enrolments],
            session_id__in=[s.pk for s in sessions],
        ).values_list("enrolment_id", "session_id", "state")
    )
    events = []
    for session in sessions:
        for enrolment in enrolments:
            if enrolment.klass_id != session.klass_id or not enrolment.is_active_on(
                session.local_date
            ):
                continue
            student = students[enrolment.student_id]
            state = states.get((enrolment.pk, session.pk))
            closure = _closure_of(session, calendar, company.pk)
            events.append(
                Event(
                    uid=f"session-{session.pk}-student-{student.pk}@{host}",
                    session=session,
                    summary=f"{student.first_name}: {session.klass.name}",
                    description=_lesson_description(session, state, student, closure),
                    cancelled=session.cancelled_at is not None
                    or closure is not None
                    or state in CANCELLED_STATES,
                    closure=closure.name if closure is not None else "",
                )
            )
    # Booked make-ups, and those the school's cancellation of the session ended (not the
    # family's own cancellations: those simply leave the calendar).
    makeups = list(
        MakeupBooking.objects.filter(
            company=company,
            student__family=family,
            session__starts_at__gte=start,
            session__starts_at__lt=end,
        )
        .filter(
            Q(state=MakeupBooking.State.BOOKED)
            | Q(
                state=MakeupBooking.State.CANCELLED,
                session__cancelled_at__isnull=False,
                cancelled_at__gte=F("session__cancelled_at"),
            )
        )
        .select_related("session__klass__programme", "session__company", "session__closure")
        .order_by("session__starts_at", "pk")
    )
    # FRN-7: the family's make-ups hosted by partner branches, read by the one named
    # function that may cross companies.
    makeups += [
        b for b in family_partner_makeups(family=family, now=start) if b.session.starts_at < end
    ]
    for booking in makeups:
        session, student = booking.session, students.get(booking.student_id)
        if student is None:
            continue
        closure = _closure_of(session, calendar, company.pk)
        events.append(
            Event(
                uid=f"session-{session.pk}-student-{student.pk}@{host}",
                session=session,
                summary=_("{name}: make-up — {klass}").format(
                    name=student.first_name, klass=session.klass.name
                ),
                description=_makeup_description(booking, company.pk, closure),
                cancelled=session.cancelled_at is not None or closure is not None,
                closure=closure.name if closure is not None else "",
            )
        )
    return events


# --- an instructor's classes ---------------------------------------------------------------


def instructor_events(*, feed: CalendarFeed, now: datetime) -> list[Event]:
    """The sessions of the classes ``feed.user`` teaches in the feed's company, from 30 days
    ago to 120 days ahead, those on closed days as cancelled: three queries at most (the
    sessions, the closures and their programmes)."""
    start, end = _window(now)
    host = uid_host()
    calendar = _closures(feed.company, start, end)
    sessions = Session.objects.filter(
        company=feed.company,
        klass__instructor=feed.user,
        starts_at__gte=start,
        starts_at__lt=end,
    ).select_related("klass__programme", "company", "closure")
    events = []
    for session in sessions:
        description = f"{session.klass.programme.name}."
        closure = _closure_of(session, calendar, feed.company_id)
        if closure is not None:
            cancelled = _("Cancelled: closed for {closure}.").format(closure=closure.name)
            if session.cancel_reason and session.cancel_reason != closure.name:
                cancelled = f"{cancelled}\n{session.cancel_reason}"
            description = f"{description}\n{cancelled}"
        elif session.cancelled_at is not None:
            cancelled = (
                _("Cancelled: {reason}").format(reason=session.cancel_reason)
                if session.cancel_reason
                else _("Cancelled.")
            )
            description = f"{description}\n{cancelled}"
        events.append(
            Event(
                uid=f"session-{session.pk}@{host}",
                session=session,
                summary=session.klass.name,
                description=description,
                cancelled=session.cancelled_at is not None or closure is not None,
                closure=closure.name if closure is not None else "",
            )
        )
    return events


def feed_calendar(*, feed: CalendarFeed, now: datetime) -> str:
    """The whole .ics text of a feed. Call inside ``scope(company=feed.company)``."""
    company = feed.company
    if feed.family_id is not None:
        name = _("{family} family · {company}").format(
            family=feed.family.name, company=company.name
        )
        events = family_events(feed=feed, now=now)
    else:
        name = _("My classes · {company}").format(company=company.name)
        events = instructor_events(feed=feed, now=now)
    return render_calendar(name=name, timezone=company.timezone, events=events, now=now)
