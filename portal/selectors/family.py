"""Reads of the parent's family for the portal's pages (no rules here: they live in the
lower apps): upcoming lessons, absences with their receipts and claims, credits, watches and
packages.

Every read takes the parent's ``family`` and filters by it, so an id from another family
simply finds nothing (TEN-1). Each page costs a fixed number of queries whatever the number
of children, lessons or sessions.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import (
    CLIENT_CANCELLED_STATES,
    Attendance,
    AttendanceChange,
    AttendanceState,
    Enrolment,
    Family,
    MakeupBooking,
    Package,
    Student,
)
from bookings.selectors.attendance import by_attendance, current_decision
from bookings.selectors.packages import with_remaining, with_used
from credits.models import (
    AbsenceClaim,
    CancellationPolicy,
    CreditDecision,
    CreditState,
    MakeupCredit,
    PolicyMode,
    SessionWatch,
    WeeklyCutoff,
)
from credits.selectors.claims import claim_refusal
from credits.selectors.policies import cutoff_instant
from credits.selectors.receipts import Receipt, absence_receipt
from franchise.selectors.partners import family_makeups_everywhere
from makeup.models import Company
from makeup.shapes import Shape
from makeups.selectors.cancelling import lesson_cancel_undo_refusal
from makeups.selectors.eligibility import with_occupancy
from makeups.selectors.offers import offer_token
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


def _family_absences(family_id: int, now: datetime, limit: int):
    return (
        Attendance.objects.filter(
            enrolment__student__family_id=family_id,
            state__in=ABSENCE_STATES,
            session__starts_at__lte=now,  # a lesson ahead is listed with the upcoming ones
        )
        .select_related("session__klass", "session__company", "enrolment__student")
        .order_by("-session__starts_at", "-pk")[:limit]
    )


_ABSENCES = Shape(_family_absences, fixed=("limit",))


def _of_lessons(model, family_id: int, since: datetime, until: datetime):
    """``model``'s rows (credit decisions, claims, changes) of the family's attendances of
    lessons starting from ``since`` to ``until``: a page's attendances are all among them."""
    return model.objects.filter(
        attendance__enrolment__student__family_id=family_id,
        attendance__session__starts_at__gte=since,
        attendance__session__starts_at__lte=until,
    )


_ABSENCE_DECISIONS = Shape(
    lambda family_id, since, until: _of_lessons(
        CreditDecision, family_id, since, until
    ).select_related("credit__holder__student")
)
_ABSENCE_CLAIMS = Shape(
    lambda family_id, since, until: _of_lessons(AbsenceClaim, family_id, since, until).order_by(
        "-pk"
    )
)


def family_absences(*, family: Family, now: datetime, limit: int = 12) -> list[Absence]:
    """The family's recent absences of lessons that have started, each with its receipt
    (BEY-1) and latest claim (BEY-6), in three queries. A lesson still ahead that the
    parent can't come to is listed with the upcoming ones, where it can be undone (DAY-5)."""
    attendances = _ABSENCES(family_id=family.pk, now=now, limit=limit)
    if not attendances:
        return []
    # Their decisions and claims: those of the family's lessons from the oldest one listed up
    # to now, a compiled read each (a list of ids would be compiled anew every time).
    window = {"family_id": family.pk, "since": attendances[-1].session.starts_at, "until": now}
    decisions = by_attendance(_ABSENCE_DECISIONS(**window))
    claims_of = by_attendance(_ABSENCE_CLAIMS(**window))
    absences = []
    for attendance in attendances:
        decision = current_decision(attendance, decisions.get(attendance.pk, []))
        receipt = absence_receipt(attendance, decision) if decision else None
        claims = claims_of.get(attendance.pk, [])
        absences.append(
            Absence(
                attendance=attendance,
                receipt=receipt,
                now=now,
                claim=claims[0] if claims else None,
            )
        )
    return absences


def absence_claims(*, attendance: Attendance) -> list[AbsenceClaim]:
    """The parent's claims on one absence (BEY-6), newest first."""
    return list(AbsenceClaim.objects.filter(attendance=attendance).order_by("-pk"))


def _family_credits(family_id: int, now: datetime):
    return (
        MakeupCredit.objects.usable(now)
        .filter(holder__student__family_id=family_id)
        .select_related("enrolment__student", "enrolment__klass__programme", "holder__student")
    )


_CREDITS = Shape(_family_credits)


def family_credits(*, family: Family, now: datetime) -> list[MakeupCredit]:
    """The family's usable credits, soonest-expiring first (open-ended last), each with the
    child who holds it — who earned it, or the sibling it was given to (WAL-1)."""
    usable = _CREDITS(family_id=family.pk, now=now)
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
    told_us: bool = False  # the parent's own "Can't come" from the portal (DAY-5)
    undo_refusal: str | None = None  # why it can't be undone now, if it can't

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
    def can_undo(self) -> bool:
        return self.told_us and self.undo_refusal is None

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


def _active_enrolments(family_id: int, today: date):
    return Enrolment.objects.filter(student__family_id=family_id).filter(
        Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=today)
    )


_ENROLMENTS = Shape(
    lambda family_id, today: _active_enrolments(family_id, today).select_related("klass")
)


def _upcoming_sessions(family_id: int, today: date, now: datetime, until: datetime):
    return with_occupancy(
        Session.objects.filter(
            klass_id__in=_active_enrolments(family_id, today).values("klass_id"),
            starts_at__gt=now,
            starts_at__lte=until,
        ),
        now=now,
        with_company=False,
        guests=True,  # "undo the cancellation" asks whether a guest took the place
    ).order_by("starts_at", "pk")


_UPCOMING_SESSIONS = Shape(_upcoming_sessions)
_UPCOMING_ATTENDANCES = Shape(
    lambda family_id, now, until: Attendance.objects.filter(
        enrolment__student__family_id=family_id,
        session__starts_at__gt=now,
        session__starts_at__lte=until,
    )
)
# Their decisions (oldest first) and changes (in the order made), a compiled read each.
_UPCOMING_DECISIONS = Shape(
    lambda family_id, since, until: (
        _of_lessons(CreditDecision, family_id, since, until)
        .select_related("credit__holder__student")
        .order_by("pk")
    )
)
_UPCOMING_CHANGES = Shape(
    lambda family_id, since, until: _of_lessons(AttendanceChange, family_id, since, until).order_by(
        "changed_at", "pk"
    )
)


def family_upcoming(
    *,
    family: Family,
    students: list[Student],
    now: datetime,
    company: Company,
    weeks: int = UPCOMING_WEEKS,
) -> list[ChildLessons]:
    """Per child, in date order: the regular sessions of their enrolments in the next
    ``weeks`` weeks, with their state and credit receipt (BEY-1) and the on-time cut-off
    (POL-1), whether a "Can't come" can be undone (DAY-5), and every booked make-up still
    ahead with its cut-off. At most ten queries, whatever the number of children and lessons.

    ``company``: the family's company (loaded with its settings), the company of every regular
    lesson: given to the sessions and their attendances rather than joined again."""
    until = now + timedelta(weeks=weeks)
    today = timezone.localdate(now)
    enrolments = _ENROLMENTS(family_id=family.pk, today=today)
    sessions = _UPCOMING_SESSIONS(family_id=family.pk, today=today, now=now, until=until)
    for session in sessions:
        session.company = company
    # The family's attendances of lessons in the window (those of a withdrawn enrolment too:
    # they are looked up by enrolment and session, and not found).
    rows = _UPCOMING_ATTENDANCES(family_id=family.pk, now=now, until=until)
    window = {"family_id": family.pk, "since": now, "until": until}
    decisions_of = by_attendance(_UPCOMING_DECISIONS(**window)) if rows else {}
    changes_of = by_attendance(_UPCOMING_CHANGES(**window)) if rows else {}
    attendance = {(a.enrolment_id, a.session_id): a for a in rows}
    # At home and at partners in one query; at partners with the host's cut-off (FRN-7).
    makeups, partner_makeups = family_makeups_everywhere(family=family, now=now)
    policies, weekly = _lesson_policies(company, [*sessions, *(b.session for b in makeups)])

    def cutoff(session: Session) -> datetime | None:
        policy = policies.get(session.klass.programme_id)
        if policy is None:
            return None
        return cutoff_instant(policy, session, weekly.get(policy.pk, []))

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
                row.session = session
                lesson.attendance = row
                decisions = decisions_of.get(row.pk, [])
                decision = current_decision(row, decisions)
                if decision:  # only what the lesson's current state earned (POL-9)
                    lesson.receipt = absence_receipt(row, decision)
                if row.state in CLIENT_CANCELLED_STATES:
                    _undo_facts(lesson, row, decisions, changes_of.get(row.pk, []), now)
            by_student[enrolment.student_id].append(lesson)
    for booking in makeups:
        by_student[booking.student_id].append(
            Lesson(session=booking.session, booking=booking, cutoff=cutoff(booking.session))
        )
    for booking in partner_makeups:
        by_student[booking.student_id].append(
            Lesson(session=booking.session, booking=booking, cutoff=booking.cancel_by)
        )
    children = []
    for student in students:
        lessons = sorted(by_student.get(student.pk, []), key=lambda x: x.session.starts_at)
        children.append(ChildLessons(student=student, lessons=lessons))
    return children


# The company's cancellation policies (one per programme: a school has a handful), and the
# weekly cut-off tables of those that use one: compiled reads, where a read by the lessons'
# programme ids was compiled anew on every visit.
_POLICIES = Shape(lambda company_id: CancellationPolicy.objects.filter(company_id=company_id))
_WEEKLY_CUTOFFS = Shape(
    lambda company_id: WeeklyCutoff.objects.filter(
        company_id=company_id, policy__mode=PolicyMode.WEEKLY_CUTOFF
    ).order_by("policy_id", "lesson_weekday", "pk")
)


def _lesson_policies(company: Company, sessions: list[Session]) -> tuple[dict, dict]:
    """POL-1: the cancellation policy of each of the sessions' programmes (by programme id),
    and the weekly cut-offs of each weekly-mode policy (by policy id). No query without
    sessions; the cut-offs only when one of these policies is in weekly mode."""
    if not sessions:
        return {}, {}
    wanted = {s.klass.programme_id for s in sessions}
    policies = {
        p.programme_id: p for p in _POLICIES(company_id=company.pk) if p.programme_id in wanted
    }
    weekly: dict[int, list] = defaultdict(list)
    if any(p.mode == PolicyMode.WEEKLY_CUTOFF for p in policies.values()):
        for rule in _WEEKLY_CUTOFFS(company_id=company.pk):
            weekly[rule.policy_id].append(rule)
    return policies, weekly


def _undo_facts(
    lesson: Lesson, row: Attendance, decisions: list, changes: list, now: datetime
) -> None:
    """DAY-5: whether the parent told us from the portal, and whether that can be undone
    now (the same answer as the service's, from what is already loaded)."""
    last_change = changes[-1] if changes else None
    lesson.told_us = (
        last_change is not None
        and last_change.source == AttendanceChange.Source.PORTAL
        and last_change.to_state == row.state
    )
    # POL-10: at most one live credit per attendance, and each came with its decision.
    live = next(
        (d.credit for d in decisions if d.credit and d.credit.state != CreditState.REVOKED), None
    )
    lesson.undo_refusal = lesson_cancel_undo_refusal(
        attendance=row, last_change=last_change, credit=live, session=lesson.session, now=now
    )


def _family_watches(family_id: int):
    return (
        SessionWatch.objects.filter(student__family_id=family_id, state__in=SessionWatch.WAITING)
        .select_related("session__klass", "student", "credit")
        .order_by("session__starts_at", "pk")
    )


_WATCHES = Shape(_family_watches)


def family_watches(*, family: Family) -> list[SessionWatch]:
    """The family's watches of full sessions still in line (BEY-2), soonest session first;
    one with a place offered (WAL-5) carries ``offer_token``, its signed link's token."""
    watches = _WATCHES(family_id=family.pk)
    for watch in watches:
        watch.offer_token = offer_token(watch) if watch.state == SessionWatch.State.OFFERED else ""
    return watches


def family_packages(*, family: Family, today: date) -> list:
    """PKG-1 in the portal: the family's packages still valid, with sessions left."""
    return with_remaining(_PACKAGES(family_id=family.pk, today=today))


_PACKAGES = Shape(
    lambda family_id, today: with_used(
        Package.objects.filter(family_id=family_id)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("programme")
        .order_by("valid_until", "pk")
    )
)
