"""Reads for sessions' rosters and attendance."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from programmes.models import Session, age_in_months

from .. import hooks
from ..models import (
    Attendance,
    AttendanceChange,
    AttendanceState,
    Enrolment,
    Guardian,
    MakeupAttendanceChange,
    MakeupBooking,
)


def expected_enrolments(session: Session) -> list[Enrolment]:
    """The enrolments whose student is expected at ``session`` (active on its local date)."""
    return list(
        Enrolment.objects.filter(klass_id=session.klass_id, start_date__lte=session.local_date)
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=session.local_date))
        .select_related("student")
        .order_by("student__first_name", "student__last_name", "pk")
    )


# Higher apps attach per-attendance records by reverse relation (credits: its decisions);
# the roster prefetches them by name so the page stays a fixed number of queries.
ROSTER_PREFETCH_RELATIONS: list[str] = []


@dataclass
class RosterRow:
    enrolment: Enrolment
    attendance: Attendance | None
    changes: list[AttendanceChange] = field(default_factory=list)

    @property
    def decision(self):
        """The latest credit decision for this attendance (POL-9), if any."""
        if self.attendance is None or "credit_decisions" not in ROSTER_PREFETCH_RELATIONS:
            return None
        decisions = list(self.attendance.credit_decisions.all())
        return decisions[-1] if decisions else None

    @property
    def student(self):
        return self.enrolment.student

    @property
    def state(self) -> str:
        return self.attendance.state if self.attendance else AttendanceState.EXPECTED

    @property
    def state_label(self) -> str:
        return AttendanceState(self.state).label

    @property
    def cancelled_at(self):
        return self.attendance.cancelled_at if self.attendance else None


def session_roster(session: Session) -> list[RosterRow]:
    """Every student expected at the session with their state, history and whatever higher
    apps attach (credit decisions), in a fixed number of queries whatever the class size."""
    enrolments = (
        Enrolment.objects.filter(klass_id=session.klass_id, start_date__lte=session.local_date)
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=session.local_date))
        .select_related("student__family")
        .prefetch_related(
            Prefetch(
                "attendances",
                queryset=Attendance.objects.filter(session=session).prefetch_related(
                    Prefetch(
                        "changes", queryset=AttendanceChange.objects.select_related("changed_by")
                    ),
                    *ROSTER_PREFETCH_RELATIONS,
                ),
                to_attr="session_attendance",
            )
        )
        .order_by("student__first_name", "student__last_name", "pk")
    )
    rows = []
    for enrolment in enrolments:
        attendance = enrolment.session_attendance[0] if enrolment.session_attendance else None
        changes = list(attendance.changes.all()) if attendance else []
        rows.append(RosterRow(enrolment=enrolment, attendance=attendance, changes=changes))
    return rows


def session_makeup_guests(session: Session) -> list[MakeupBooking]:
    """MKP-10: the session's make-up guests (its active make-up bookings), listed after the
    regulars, with their family, home branch and booking details. Each gets ``age_years``
    on the session's day and ``contacts``, the parents' names, e-mails and phones (FRN-7:
    for a guest from a partner branch, that is all the host sees of the family). Three
    queries."""
    guests = list(
        MakeupBooking.objects.filter(session=session, state=MakeupBooking.State.BOOKED)
        .select_related("student__family", "home_company", "booked_by")
        .prefetch_related(
            Prefetch(
                "attendance_changes",
                queryset=MakeupAttendanceChange.objects.select_related("changed_by"),
            )
        )
        .order_by("student__first_name", "student__last_name", "pk")
    )
    own_families = {g.student.family_id for g in guests if g.home_company_id == g.company_id}
    parents = defaultdict(list)
    for guardian in Guardian.objects.filter(family_id__in=own_families).order_by("pk"):
        parents[guardian.family_id].append(guardian)
    partners = hooks.guest_contacts(
        bookings=[g for g in guests if g.home_company_id != g.company_id]
    )
    for guest in guests:
        guest.age_years = age_in_months(guest.student.date_of_birth, session.local_date) // 12
        guest.contacts = (
            parents.get(guest.student.family_id, [])
            if guest.home_company_id == guest.company_id
            else partners.get(guest.student_id, [])
        )
    return guests


def roster_counts(
    rows: list[RosterRow], guests: list[MakeupBooking] | tuple = ()
) -> dict[str, int]:
    """Students per state, regulars and make-up guests alike; ``makeups`` counts the guests."""
    counts = {state: 0 for state in AttendanceState.values}
    for row in rows:
        counts[row.state] += 1
    for guest in guests:
        counts[guest.attendance_state] += 1
    counts["makeups"] = len(guests)
    return counts
