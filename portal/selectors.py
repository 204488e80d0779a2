"""Reads for the parent portal's pages (no rules here: they live in the lower apps).

Every read takes the parent's ``family`` and filters by it, so an id from another family
simply finds nothing (TEN-1). Each page costs a fixed number of queries whatever the number
of children, lessons or sessions.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import (
    Attendance,
    AttendanceState,
    Enrolment,
    Family,
    MakeupBooking,
    Package,
    Student,
)
from bookings.selectors.attendance import current_decision
from bookings.selectors.packages import packages_with_remaining
from credits.claims import claim_refusal
from credits.models import (
    AbsenceClaim,
    CancellationPolicy,
    CreditDecision,
    MakeupCredit,
    SessionWatch,
)
from credits.policy import cutoff_instant
from credits.selectors import Receipt, absence_receipt
from franchise.selectors.partners import family_partner_makeups, partner_candidates
from makeups.selectors.eligibility import Candidate, makeup_candidates
from programmes.models import Session

ABSENCE_STATES = [
    AttendanceState.CANCELLED,
    AttendanceState.LATE_CANCELLED,
    AttendanceState.NO_SHOW,
    AttendanceState.STAFF_CANCELLED,
]
UPCOMING_WEEKS = 4


@dataclass
class Absence:
    attendance: Attendance
    receipt: Receipt | None
    now: datetime
    claim: AbsenceClaim | None = None  # the latest "I cancelled in time" claim (BEY-6)

    @property
    def claimable(self) -> bool:
        return (
            claim_refusal(attendance=self.attendance, latest_claim=self.claim, now=self.now) is None
        )


def family_absences(*, family: Family, now: datetime, limit: int = 12) -> list[Absence]:
    """The family's recent absences, each with its receipt (BEY-1) and latest claim (BEY-6),
    in three queries."""
    attendances = list(
        Attendance.objects.filter(enrolment__student__family=family, state__in=ABSENCE_STATES)
        .select_related("session__klass", "session__company", "enrolment__student")
        .prefetch_related(
            Prefetch("credit_decisions", queryset=CreditDecision.objects.select_related("credit")),
            Prefetch("absence_claims", queryset=AbsenceClaim.objects.order_by("-pk")),
        )
        .order_by("-session__starts_at", "-pk")[:limit]
    )
    absences = []
    for attendance in attendances:
        decision = current_decision(attendance, list(attendance.credit_decisions.all()))
        receipt = absence_receipt(attendance, decision) if decision else None
        claims = list(attendance.absence_claims.all())
        absences.append(
            Absence(
                attendance=attendance,
                receipt=receipt,
                now=now,
                claim=claims[0] if claims else None,
            )
        )
    return absences


def family_credits(*, family: Family, now: datetime) -> list[MakeupCredit]:
    """The family's usable credits, soonest-expiring first (open-ended last)."""
    usable = list(
        MakeupCredit.objects.usable(now)
        .filter(enrolment__student__family=family)
        .select_related("enrolment__student", "enrolment__klass__programme")
    )
    usable.sort(key=lambda c: (c.expires_at is None, c.expires_at or now, c.pk))
    for credit in usable:
        credit.days_left = (credit.expires_at - now).days if credit.expires_at else None
    return usable


# --- home: upcoming lessons per child -----------------------------------------------------


@dataclass
class Lesson:
    """One upcoming lesson of a child: a regular session of an enrolment, or a make-up."""

    session: Session
    enrolment: Enrolment | None = None
    attendance: Attendance | None = None
    receipt: Receipt | None = None
    booking: MakeupBooking | None = None
    cutoff: datetime | None = None

    @property
    def is_makeup(self) -> bool:
        return self.booking is not None

    @property
    def state(self) -> str:
        if self.attendance is not None:
            return self.attendance.state
        if self.session.cancelled_at is not None:
            return AttendanceState.STAFF_CANCELLED
        return AttendanceState.EXPECTED

    @property
    def state_label(self) -> str:
        if self.state == AttendanceState.STAFF_CANCELLED:
            return _("Cancelled by the school")
        return AttendanceState(self.state).label

    @property
    def can_cancel(self) -> bool:
        return (
            not self.is_makeup
            and self.state == AttendanceState.EXPECTED
            and self.session.cancelled_at is None
        )


@dataclass
class ChildLessons:
    student: Student
    lessons: list[Lesson] = field(default_factory=list)


def family_upcoming(
    *, family: Family, students: list[Student], now: datetime, weeks: int = UPCOMING_WEEKS
) -> list[ChildLessons]:
    """Per child, in date order: the regular sessions of their enrolments in the next
    ``weeks`` weeks, with their state and credit receipt (BEY-1) and the on-time cut-off
    (POL-1), and every booked make-up still ahead. At most seven queries, whatever the number of
    children and lessons."""
    until = now + timedelta(weeks=weeks)
    today = timezone.localdate(now)
    enrolments = list(
        Enrolment.objects.filter(student__family=family)
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=today))
        .select_related("klass")
    )
    sessions = list(
        Session.objects.filter(
            klass_id__in={e.klass_id for e in enrolments}, starts_at__gt=now, starts_at__lte=until
        )
        .select_related("klass__programme", "company")
        .order_by("starts_at", "pk")
    )
    attendance = {
        (a.enrolment_id, a.session_id): a
        for a in Attendance.objects.filter(
            enrolment_id__in=[e.pk for e in enrolments], session_id__in=[s.pk for s in sessions]
        )
        .select_related("session__company")
        .prefetch_related(
            Prefetch(
                "credit_decisions",
                queryset=CreditDecision.objects.select_related("credit").order_by("pk"),
            )
        )
    }
    makeups = list(
        MakeupBooking.objects.filter(
            student__family=family, state=MakeupBooking.State.BOOKED, session__starts_at__gt=now
        )
        .select_related("session__klass__programme", "session__company")
        .order_by("session__starts_at", "pk")
    )
    makeups += family_partner_makeups(family=family, now=now)  # FRN-7: partner, date
    programme_ids = {s.klass.programme_id for s in sessions}
    programme_ids |= {b.session.klass.programme_id for b in makeups}
    policies = {
        p.programme_id: p
        for p in CancellationPolicy.objects.filter(programme_id__in=programme_ids).prefetch_related(
            "weekly_cutoffs"
        )
    }

    def cutoff(session: Session) -> datetime | None:
        policy = policies.get(session.klass.programme_id)
        return cutoff_instant(policy, session) if policy is not None else None

    by_student: dict[int, list[Lesson]] = defaultdict(list)
    for session in sessions:
        for enrolment in enrolments:
            if enrolment.klass_id != session.klass_id or not enrolment.is_active_on(
                session.local_date
            ):
                continue
            lesson = Lesson(session=session, enrolment=enrolment, cutoff=cutoff(session))
            row = attendance.get((enrolment.pk, session.pk))
            if row is not None:
                lesson.attendance = row
                decision = current_decision(row, list(row.credit_decisions.all()))
                if decision:  # only what the lesson's current state earned (POL-9)
                    lesson.receipt = absence_receipt(row, decision)
            by_student[enrolment.student_id].append(lesson)
    for booking in makeups:
        by_student[booking.student_id].append(
            Lesson(session=booking.session, booking=booking, cutoff=cutoff(booking.session))
        )
    children = []
    for student in students:
        lessons = sorted(by_student.get(student.pk, []), key=lambda x: x.session.starts_at)
        children.append(ChildLessons(student=student, lessons=lessons))
    return children


def family_watches(*, family: Family) -> list[SessionWatch]:
    """The family's active watches of full sessions (BEY-2), soonest session first."""
    return list(
        SessionWatch.objects.filter(student__family=family, state=SessionWatch.State.ACTIVE)
        .select_related("session__klass", "student", "credit")
        .order_by("session__starts_at", "pk")
    )


# --- the make-up search -------------------------------------------------------------------

TIMES_OF_DAY = {
    "morning": (time(0), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), None),
}


SEARCH_WINDOW_DAYS = 14  # one page of results: two weeks from the start day
SEARCH_DAYS_AHEAD = 56  # how far ahead a credit without an earlier expiry searches
SEARCH_MAX_SESSIONS = 30  # a couple of phone screens: whole days up to this, then a page


@dataclass
class SearchDay:
    day: date
    candidates: list[Candidate]


@dataclass
class SearchResult:
    days: list[SearchDay]
    watched_session_ids: set[int]
    watch_count: int
    start: date
    end: date
    later_from: date | None = None
    earlier_from: date | None = None

    @property
    def bookable_count(self) -> int:
        return sum(1 for d in self.days for c in d.candidates if c.bookable)

    @property
    def full_count(self) -> int:
        return sum(1 for d in self.days for c in d.candidates if c.only_full)


def _matches(session: Session, tz, *, weekday: int | None, time_of_day: str) -> bool:
    local = session.starts_at.astimezone(tz)
    if weekday is not None and local.weekday() != weekday:
        return False
    if time_of_day:
        start, end = TIMES_OF_DAY[time_of_day]
        if local.time() < start or (end is not None and local.time() >= end):
            return False
    return True


def makeup_search(
    *,
    credit: MakeupCredit,
    now: datetime,
    tz,
    date_from: date | None = None,
    date_to: date | None = None,
    weekday: int | None = None,
    time_of_day: str = "",
) -> SearchResult:
    """The sessions a parent is offered for ``credit`` (MKP-1…MKP-7 through the one
    eligibility function), at the family's company and at approved partners (FRN-5, FRN-6):
    bookable ones, and full ones that can be watched (BEY-2); sessions
    failing any other rule are left out. Filtered by day, weekday and time of day in the
    company's time zone, grouped by day. Without an end day, one page covers
    :data:`SEARCH_WINDOW_DAYS` days, with the start of the next page. A fixed number of
    queries whatever the company's size."""
    today = now.astimezone(tz).date()
    start = max(date_from or today, today)
    end = date_to or start + timedelta(days=SEARCH_WINDOW_DAYS - 1)
    last = today + timedelta(days=SEARCH_DAYS_AHEAD)
    if credit.expires_at is not None:
        last = min(last, credit.expires_at.astimezone(tz).date())
    hours = None
    if time_of_day:
        begin, finish = TIMES_OF_DAY[time_of_day]
        hours = (begin.hour, finish.hour if finish is not None else 24)
    # Weekday and time of day are filtered in SQL, and no more sessions are loaded than a
    # page can show (plus one, to know whether the last day is complete).
    filters = {
        "days_ahead": SEARCH_DAYS_AHEAD,
        "date_from": start,
        "date_to": end,
        "offered_only": True,
        "weekday": weekday,
        "local_hours": hours,
        "limit": SEARCH_MAX_SESSIONS + 1,
    }
    # The family's own company and every approved partner branch, in one list (FRN-6).
    candidates = makeup_candidates(credit=credit, now=now, **filters)
    partner = partner_candidates(credit=credit, now=now, **filters)
    if partner:
        candidates = sorted(
            candidates + partner, key=lambda c: (c.session.starts_at, c.session.pk)
        )[: SEARCH_MAX_SESSIONS + 1]
    cut_day = None
    if len(candidates) > SEARCH_MAX_SESSIONS:
        cut_day = candidates[-1].session.local_date
        whole_days = [c for c in candidates if c.session.local_date < cut_day]
        if whole_days:
            candidates = whole_days
        else:  # one very busy day: show it, the next page starts the day after
            cut_day += timedelta(days=1)
    days: dict[date, list[Candidate]] = {}
    for candidate in candidates:
        if not (candidate.bookable or candidate.only_full):
            continue
        if not _matches(candidate.session, tz, weekday=weekday, time_of_day=time_of_day):
            continue
        days.setdefault(candidate.session.local_date, []).append(candidate)
    shown: list[SearchDay] = []
    count, cut = 0, None
    for day, offered in days.items():
        if shown and count + len(offered) > SEARCH_MAX_SESSIONS:
            cut = day
            break
        shown.append(SearchDay(day=day, candidates=offered))
        count += len(offered)
    watched = set(
        SessionWatch.objects.filter(
            student_id=credit.enrolment.student_id, state=SessionWatch.State.ACTIVE
        ).values_list("session_id", flat=True)
    )
    paged = date_to is None
    later = end + timedelta(days=1) if paged and end < last else None
    cut = min(d for d in (cut, cut_day) if d is not None) if (cut or cut_day) else None
    if cut is not None:
        later, end = cut, cut - timedelta(days=1)
    return SearchResult(
        days=shown,
        watched_session_ids=watched,
        watch_count=len(watched),
        start=start,
        end=min(end, last),
        later_from=later,
        earlier_from=(
            max(start - timedelta(days=SEARCH_WINDOW_DAYS), today)
            if paged and start > today
            else None
        ),
    )


def family_packages(*, family: Family, today: date) -> list:
    """PKG-1 in the portal: the family's packages still valid, with sessions left."""
    return packages_with_remaining(
        Package.objects.filter(family=family)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("programme")
        .order_by("valid_until", "pk")
    )
