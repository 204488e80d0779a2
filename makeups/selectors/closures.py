"""Reads for applying a closure (CLO-3, CLO-4, CLO-7): what applying it would do, what it has
done, and what each family is told. Every read here costs a fixed number of queries whatever
the closure's size: the figures are counted in the database."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from bookings.models import (
    Attendance,
    AttendanceChange,
    AttendanceState,
    Enrolment,
    MakeupBooking,
)
from credits.models import CancellationPolicy, CreditDecision, DecisionReason, SessionWatch
from credits.services import staff_path_refusal
from makeup.models import OutboxMessage
from programmes.models import Closure, ClosureRun, Programme, Session
from programmes.selectors.closures import closure_sessions


def notice_key(closure_id: int, family_id: int | None = None) -> str:
    """The outbox key of a family's message about a closure: one per family, however often
    the closure is applied (CLO-4). Without a family: the keys' common beginning."""
    prefix = f"closure-notice:{closure_id}:"
    return prefix if family_id is None else f"{prefix}{family_id}"


def _count(queryset: QuerySet):
    """A correlated ``COUNT(*)`` of ``queryset`` (which refers to the outer row), 0 if none."""
    counted = queryset.order_by().annotate(n=Func(Value(1), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def pending_sessions(closure: Closure, *, now: datetime) -> QuerySet[Session]:
    """The sessions applying ``closure`` would cancel: those it covers that start after
    ``now`` and are not cancelled yet (a lesson already started, or cancelled for another
    reason, is left as it is)."""
    return closure_sessions(closure).filter(cancelled_at__isnull=True, starts_at__gt=now)


def expected_students(session_ref: str = "pk") -> QuerySet[Enrolment]:
    """The enrolments still expected at the outer session (``OuterRef(session_ref)``): active
    on its day, with no attendance other than "expected" — those cancelling it marks
    ``staff_cancelled`` (ATT-7)."""
    decided = Attendance.objects.filter(
        enrolment_id=OuterRef("pk"), session_id=OuterRef(OuterRef(session_ref))
    ).exclude(state=AttendanceState.EXPECTED)
    return (
        Enrolment.objects.filter(
            klass_id=OuterRef("klass_id"), start_date__lte=OuterRef("local_date")
        )
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=OuterRef("local_date")))
        .exclude(Exists(decided))
    )


@dataclass
class ProgrammeEffect:
    """What applying a closure does to one programme's lessons."""

    programme_id: int
    name: str
    sessions: int
    students: int
    guests: int
    watches: int
    credits: int
    value: Decimal
    #: Why its lessons earn no credit (the decision's own words), or "".
    no_credit: str = ""
    #: Lessons of classes with no price for one session (their credits have no value here).
    unpriced: int = 0


@dataclass
class ClosurePreview:
    """CLO-3: the effect of applying a closure now, per programme and in all."""

    closure: Closure
    programmes: list[ProgrammeEffect] = field(default_factory=list)
    families: int = 0
    #: Covered sessions the closure has already cancelled, and covered ones left alone
    #: because they have started (or were cancelled for another reason).
    cancelled_here: int = 0
    #: Lessons it cancelled that haven't started: what removing it may restore (CLO-6).
    restorable: int = 0
    left_alone: int = 0
    first_start: datetime | None = None
    last_start: datetime | None = None

    def _total(self, name: str):
        return sum(
            (getattr(p, name) for p in self.programmes), Decimal(0) if name == "value" else 0
        )

    @property
    def sessions(self) -> int:
        return self._total("sessions")

    @property
    def students(self) -> int:
        return self._total("students")

    @property
    def guests(self) -> int:
        return self._total("guests")

    @property
    def watches(self) -> int:
        return self._total("watches")

    @property
    def credits(self) -> int:
        return self._total("credits")

    @property
    def value(self) -> Decimal:
        return self._total("value")


def closure_preview(*, closure: Closure, now: datetime) -> ClosurePreview:
    """CLO-3: what applying ``closure`` at ``now`` would do, before anything changes — per
    programme: the lessons cancelled, the regular students expected at them, the make-up
    guests (their credits come back), the watches that end, and the credits the programme's
    staff path would issue (its policy and make-up switch, or none at all for a closure
    priced into the term) with their value (each class's price for one session); and the
    families who would be told. Five queries whatever the size (``closure`` with its
    company and programmes loaded)."""
    preview = ClosurePreview(closure=closure)
    sessions = pending_sessions(closure, now=now)
    students = _count(expected_students())
    guests = _count(
        MakeupBooking.objects.filter(session_id=OuterRef("pk"), state=MakeupBooking.State.BOOKED)
    )
    watches = _count(
        SessionWatch.objects.filter(session_id=OuterRef("pk"), state=SessionWatch.State.ACTIVE)
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    rows = list(
        sessions.order_by()
        .values("klass__programme_id")
        .annotate(
            n_sessions=Count("pk"),
            n_students=Sum(students),
            n_guests=Sum(guests),
            n_watches=Sum(watches),
            value=Sum(
                ExpressionWrapper(students * F("klass__price_per_session"), output_field=money)
            ),
            unpriced=Count("pk", filter=Q(klass__price_per_session__isnull=True)),
            first=Min("starts_at"),
            last=Max("starts_at"),
        )
    )
    ids = [row["klass__programme_id"] for row in rows]
    programmes = {p.pk: p for p in Programme.objects.filter(pk__in=ids)}
    policies = {p.programme_id: p for p in CancellationPolicy.objects.filter(programme_id__in=ids)}
    for row in rows:
        programme = programmes[row["klass__programme_id"]]
        # A programme without a saved policy has the defaults (created on its first decision).
        policy = policies.get(programme.pk) or CancellationPolicy(programme=programme)
        refusal = staff_path_refusal(programme=programme, policy=policy, closure=closure)
        n_students = row["n_students"] or 0
        preview.programmes.append(
            ProgrammeEffect(
                programme_id=programme.pk,
                name=programme.name,
                sessions=row["n_sessions"],
                students=n_students,
                guests=row["n_guests"] or 0,
                watches=row["n_watches"] or 0,
                credits=0 if refusal else n_students,
                value=Decimal(0) if refusal else (row["value"] or Decimal(0)),
                no_credit=refusal[1] if refusal else "",
                unpriced=row["unpriced"],
            )
        )
        starts = [row["first"], row["last"]]
        preview.first_start = min(d for d in [preview.first_start, starts[0]] if d)
        preview.last_start = max(d for d in [preview.last_start, starts[1]] if d)
    preview.programmes.sort(key=lambda p: (p.name, p.programme_id))
    preview.families = _families(sessions) if rows else 0
    counts = closure_sessions(closure).aggregate(
        cancelled_here=Count("pk", filter=Q(closure_id=closure.pk)),
        restorable=Count("pk", filter=Q(closure_id=closure.pk, starts_at__gt=now)),
        covered=Count("pk"),
    )
    preview.cancelled_here = counts["cancelled_here"]
    preview.restorable = counts["restorable"]
    preview.left_alone = counts["covered"] - counts["cancelled_here"] - preview.sessions
    return preview


def _families(sessions: QuerySet[Session]) -> int:
    """How many families have a child expected at ``sessions`` or a make-up guest in one."""
    slot = (
        sessions.filter(klass_id=OuterRef("klass_id"), local_date__gte=OuterRef("start_date"))
        .filter(local_date__lt=Coalesce(OuterRef("withdrawn_from"), Value(date.max)))
        .exclude(
            Exists(
                Attendance.objects.filter(
                    session_id=OuterRef("pk"), enrolment_id=OuterRef(OuterRef("pk"))
                ).exclude(state=AttendanceState.EXPECTED)
            )
        )
    )
    regulars = Enrolment.objects.filter(Exists(slot)).order_by().values_list("student__family_id")
    guests = (
        MakeupBooking.objects.filter(
            session__in=sessions.values("pk"), state=MakeupBooking.State.BOOKED
        )
        .order_by()
        .values_list("student__family_id")
    )
    return regulars.union(guests).count()


@dataclass
class ClosureOutcome:
    """CLO-7: what applying a closure has done so far, for its page."""

    sessions: int
    students: int
    credits: int
    guests: int
    families_told: int


def closure_outcome(closure: Closure) -> ClosureOutcome:
    """The lessons ``closure`` cancelled, the students marked, the credits issued for them,
    the make-up guests whose credits came back and the families told. Five queries."""
    cancelled = Session.objects.filter(company_id=closure.company_id, closure_id=closure.pk)
    students = Attendance.objects.filter(
        session__in=cancelled.values("pk"), state=AttendanceState.STAFF_CANCELLED
    )
    return ClosureOutcome(
        sessions=cancelled.count(),
        students=students.count(),
        credits=CreditDecision.objects.filter(
            attendance__in=students.values("pk"), reason=DecisionReason.ISSUED
        ).count(),
        guests=MakeupBooking.objects.filter(
            session__in=cancelled.values("pk"),
            state=MakeupBooking.State.CANCELLED,
            cancelled_at__gte=F("session__cancelled_at"),
        ).count(),
        families_told=OutboxMessage.objects.filter(key__startswith=notice_key(closure.pk)).count(),
    )


def closure_runs(closure: Closure, *, limit: int = 10) -> list[ClosureRun]:
    """The closure's runs, newest first, with who asked for them."""
    return list(
        ClosureRun.objects.filter(company_id=closure.company_id, closure=closure).select_related(
            "requested_by"
        )[:limit]
    )


def closure_families(closure: Closure) -> set[tuple[int, int]]:
    """CLO-4: ``(company id, family id)`` of every family whose lesson ``closure`` cancelled —
    a child expected at it (now ``staff_cancelled``) or a make-up guest in it, maybe from a
    partner company, whose booking the school cancelled with the session. Two queries."""
    cancelled = Session.objects.filter(company_id=closure.company_id, closure_id=closure.pk).values(
        "pk"
    )
    regulars = (
        Attendance.objects.filter(session__in=cancelled, state=AttendanceState.STAFF_CANCELLED)
        .order_by()
        .values_list("company_id", "enrolment__student__family_id")
        .distinct()
    )
    guests = (
        MakeupBooking.objects.filter(
            session__in=cancelled,
            state=MakeupBooking.State.CANCELLED,
            cancelled_at__gte=F("session__cancelled_at"),
        )
        .order_by()
        .values_list("home_company_id", "student__family_id")
        .distinct()
    )
    return set(regulars) | set(guests)


@dataclass
class NoticeLesson:
    """One lesson in a family's message about a closure, and what it brought them."""

    student: str
    klass: str
    programme: str
    starts_at: datetime
    ends_at: datetime
    #: "credit" (with ``expires_at``, None when open-ended), "none" (with ``reason`` and
    #: ``message``), or "guest" (a make-up cancelled, its credit back).
    outcome: str
    expires_at: datetime | None = None
    reason: str = ""
    message: str = ""


def closure_notice_lessons(*, closure: Closure, family_id: int) -> list[NoticeLesson]:
    """CLO-4: every lesson of the family's children that ``closure`` cancelled, soonest
    first: their regular lessons with the credit each earned (or why none), and their
    make-up lessons cancelled with the session (the credit back). Three queries; the caller
    reads across companies where a child was a partner's make-up guest."""
    cancelled = Session.objects.filter(company_id=closure.company_id, closure_id=closure.pk).values(
        "pk"
    )
    attendances = (
        Attendance.objects.filter(
            session__in=cancelled,
            state=AttendanceState.STAFF_CANCELLED,
            enrolment__student__family_id=family_id,
        )
        .select_related("session__klass__programme", "enrolment__student")
        .prefetch_related(
            Prefetch(
                "credit_decisions",
                queryset=CreditDecision.objects.select_related("credit").order_by("pk"),
            )
        )
    )
    lessons = []
    for attendance in attendances:
        session = attendance.session
        decisions = list(attendance.credit_decisions.all())
        latest = decisions[-1] if decisions else None
        issued = latest is not None and latest.reason == DecisionReason.ISSUED and latest.credit
        lessons.append(
            NoticeLesson(
                student=attendance.enrolment.student.first_name,
                klass=session.klass.name,
                programme=session.klass.programme.name,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                outcome="credit" if issued else "none",
                expires_at=latest.credit.expires_at if issued else None,
                reason=latest.reason if latest is not None else "",
                message=latest.message if latest is not None else "",
            )
        )
    guests = MakeupBooking.objects.filter(
        session__in=cancelled,
        state=MakeupBooking.State.CANCELLED,
        cancelled_at__gte=F("session__cancelled_at"),
        student__family_id=family_id,
    ).select_related("session__klass__programme", "student")
    for booking in guests:
        session = booking.session
        lessons.append(
            NoticeLesson(
                student=booking.student.first_name,
                klass=session.klass.name,
                programme=session.klass.programme.name,
                starts_at=session.starts_at,
                ends_at=session.ends_at,
                outcome="guest",
            )
        )
    lessons.sort(key=lambda lesson: (lesson.starts_at, lesson.student, lesson.klass))
    return lessons


def restored_notice_key(closure_id: int, family_id: int) -> str:
    """The outbox key of a family's one message that a removed closure's lessons are back."""
    return f"closure-restored:{closure_id}:{family_id}"


def _restored_attendances(closure: Closure) -> QuerySet[Attendance]:
    """Regular students' lessons in ``closure``'s days and scope that a restore brought back
    (CLO-6): the session is on again and the student's latest change is the restore."""
    latest = (
        AttendanceChange.objects.filter(attendance_id=OuterRef("pk"))
        .order_by("-changed_at", "-pk")
        .values("source")[:1]
    )
    return (
        Attendance.objects.filter(
            session__in=closure_sessions(closure).filter(cancelled_at__isnull=True).values("pk"),
            state=AttendanceState.EXPECTED,
        )
        .annotate(latest_source=Subquery(latest))
        .filter(latest_source=AttendanceChange.Source.SESSION_RESTORE)
    )


def restored_families(closure: Closure) -> list[tuple[int, int]]:
    """``(company id, family id)`` of every family with a lesson a restore of ``closure``
    brought back, each once (one query)."""
    return sorted(
        set(
            _restored_attendances(closure).values_list(
                "company_id", "enrolment__student__family_id"
            )
        )
    )


@dataclass
class RestoredLesson:
    student: str
    klass: str
    starts_at: datetime
    ends_at: datetime


def closure_restored_lessons(*, closure: Closure, family_id: int) -> list[RestoredLesson]:
    """CLO-6: the family's lessons a removed closure gave back, soonest first (one query)."""
    attendances = (
        _restored_attendances(closure)
        .filter(enrolment__student__family_id=family_id)
        .select_related("session__klass", "enrolment__student")
        .order_by("session__starts_at", "enrolment__student__first_name")
    )
    return [
        RestoredLesson(
            student=a.enrolment.student.first_name,
            klass=a.session.klass.name,
            starts_at=a.session.starts_at,
            ends_at=a.session.ends_at,
        )
        for a in attendances
    ]
