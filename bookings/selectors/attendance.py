"""Reads for sessions' rosters and attendance."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from makeup.shapes import Shape
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


def _active_enrolments(session: Session) -> QuerySet[Enrolment]:
    """The enrolments of the session's class active on its local date."""
    return _active_on(session.klass_id, session.local_date)


def _active_on(klass_id: int, day) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(klass_id=klass_id, start_date__lte=day).filter(
        Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=day)
    )


def expected_enrolments(session: Session) -> list[Enrolment]:
    """The enrolments whose student is expected at ``session`` (active on its local date)."""
    return list(
        _active_enrolments(session)
        .select_related("student")
        .order_by("student__first_name", "student__last_name", "pk")
    )


def current_decision(attendance: Attendance | None, decisions: list):
    """Of an attendance's credit decisions (oldest first, as a higher app records them, each
    with the ``attendance_state`` and ``cancelled_at`` it was made for), the one that says
    what its current state earned: the latest, if it was made for this state and this
    cancellation time; else ``None``. A correction that needs no new decision (cancelled late
    and forfeited, then corrected to present: no credit to revoke) leaves the last decision
    made for the old state, which no longer says what happened, so it is not shown."""
    if attendance is None or not decisions:
        return None
    latest = decisions[-1]
    if latest.attendance_state == attendance.state and latest.cancelled_at == (
        attendance.cancelled_at
    ):
        return latest
    return None


def by_attendance(rows: Iterable) -> dict[int, list]:
    """Rows recorded per attendance (changes, credit decisions, claims), grouped by their
    attendance's id, each group in the order read."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[row.attendance_id].append(row)
    return grouped


@dataclass
class RosterRow:
    enrolment: Enrolment
    attendance: Attendance | None
    changes: list[AttendanceChange] = field(default_factory=list)
    # What higher apps record per attendance, by relation name (hooks.register_roster_prefetch).
    attached: dict[str, list] = field(default_factory=dict)

    @property
    def decision(self):
        """The credit decision for this attendance's current state (POL-9), if any."""
        return current_decision(self.attendance, self.attached.get("credit_decisions", []))

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
    enrolments = _ROSTER(klass_id=session.klass_id, day=session.local_date)
    # The session's attendances (a withdrawn student's too: looked up by enrolment, not found),
    # and what was recorded about them, read by the session (a compiled read each, where a
    # prefetch by the attendances' ids would be compiled anew on every mark).
    attendances = _SESSION_ATTENDANCES(session_id=session.pk)
    changes, attached = {}, {}
    if attendances:
        changes = by_attendance(_SESSION_CHANGES(session_id=session.pk))
        attached = {
            relation: by_attendance(_attached(relation)(session_id=session.pk))
            for relation in hooks.roster_prefetch_relations()
        }
    by_enrolment = {a.enrolment_id: a for a in attendances}
    rows = []
    for enrolment in enrolments:
        row = RosterRow(enrolment=enrolment, attendance=by_enrolment.get(enrolment.pk))
        if row.attendance is not None:
            row.attendance.enrolment = enrolment
            row.attendance.session = session
            row.changes = changes.get(row.attendance.pk, [])
            row.attached = {name: of.get(row.attendance.pk, []) for name, of in attached.items()}
        rows.append(row)
    return rows


_ROSTER = Shape(
    lambda klass_id, day: (
        _active_on(klass_id, day)
        .select_related("student__family")
        .order_by("student__first_name", "student__last_name", "pk")
    )
)
_SESSION_ATTENDANCES = Shape(lambda session_id: Attendance.objects.filter(session_id=session_id))
# In the order made, each with who made it (the row's history).
_SESSION_CHANGES = Shape(
    lambda session_id: AttendanceChange.objects.filter(
        attendance__session_id=session_id
    ).select_related("changed_by")
)
_ATTACHED: dict[str, Shape] = {}


def _attached(relation: str) -> Shape:
    """The rows of a reverse relation of ``Attendance`` a higher app registered, of one
    session's attendances, in their model's order: a compiled read per relation."""
    shape = _ATTACHED.get(relation)
    if shape is None:
        reverse = Attendance._meta.get_field(relation)
        model, to_attendance = reverse.related_model, reverse.field.name
        shape = _ATTACHED[relation] = Shape(
            lambda session_id: model._default_manager.filter(
                **{f"{to_attendance}__session_id": session_id}
            )
        )
    return shape


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


def attendance_counts(regular: Iterable[str], guests: Iterable[str] = ()) -> dict[str, int]:
    """The session's counts line from the states of its regular students and of its make-up
    guests: students per state, regulars and guests alike; ``students`` counts the regulars,
    ``makeups`` the guests."""
    counts = {state: 0 for state in AttendanceState.values}
    regular, guests = list(regular), list(guests)
    for state in regular + guests:
        counts[state] += 1
    counts["students"] = len(regular)
    counts["makeups"] = len(guests)
    return counts


def roster_counts(
    rows: list[RosterRow], guests: list[MakeupBooking] | tuple = ()
) -> dict[str, int]:
    """:func:`attendance_counts` of a roster and its guests already read (no query)."""
    return attendance_counts([row.state for row in rows], [g.attendance_state for g in guests])


def session_regular_states(session: Session) -> list[str]:
    """The state of each regular student of the session (expected without a record), in
    one query: for the counts line after a make-up guest's one-click change."""
    current = Attendance.objects.filter(session=session, enrolment=OuterRef("pk")).values("state")[
        :1
    ]
    return [
        state or AttendanceState.EXPECTED
        for state in _active_enrolments(session)
        .annotate(current_state=Subquery(current))
        .values_list("current_state", flat=True)
    ]


def session_guest_states(session: Session) -> list[str]:
    """The attendance state of each make-up guest of the session, in one query: for the
    counts line after a regular student's one-click change."""
    return _GUEST_STATES(session_id=session.pk)


_GUEST_STATES = Shape(
    lambda session_id: (
        MakeupBooking.objects.filter(session_id=session_id, state=MakeupBooking.State.BOOKED)
        .order_by()
        .values_list("attendance_state", flat=True)
    )
)
