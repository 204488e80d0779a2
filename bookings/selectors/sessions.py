"""Reads for the session calendar and the class page."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from makeup.models import Company
from programmes.models import Class, Session

from ..models import Attendance, AttendanceState, Enrolment


def _expected_count_subquery():
    """Students enrolled in the session's class on the session's day."""
    return Coalesce(
        Subquery(
            Enrolment.objects.filter(
                klass=OuterRef("klass"), start_date__lte=OuterRef("local_date")
            )
            .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=OuterRef("local_date")))
            .order_by()
            .values("klass")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def sessions_with_counts(queryset: QuerySet[Session]) -> QuerySet[Session]:
    """Sessions with class, programme and instructor loaded and ``enrolled`` and ``present``
    annotated: one query for any number of sessions."""
    present = Coalesce(
        Subquery(
            Attendance.objects.filter(session=OuterRef("pk"), state=AttendanceState.PRESENT)
            .order_by()
            .values("session")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    return queryset.select_related("klass__programme", "klass__instructor").annotate(
        enrolled=_expected_count_subquery(), present=present
    )


@dataclass
class CalendarDay:
    day: date
    sessions: list[Session]


def session_calendar(
    *,
    company: Company,
    first: date,
    days: int,
    programme_id: int | None = None,
    instructor_id: int | None = None,
) -> list[CalendarDay]:
    """The company's sessions from ``first`` for ``days`` days (company-local dates)."""
    last = first + timedelta(days=days - 1)
    sessions = Session.objects.filter(company=company, local_date__gte=first, local_date__lte=last)
    if programme_id:
        sessions = sessions.filter(klass__programme_id=programme_id)
    if instructor_id:
        sessions = sessions.filter(klass__instructor_id=instructor_id)
    by_day: dict[date, list[Session]] = {first + timedelta(days=i): [] for i in range(days)}
    for session in sessions_with_counts(sessions).order_by("starts_at", "pk"):
        by_day[session.local_date].append(session)
    return [CalendarDay(day=d, sessions=s) for d, s in by_day.items()]


def class_page(*, klass: Class, today: date) -> dict:
    """Everything the class page shows, in a fixed number of queries."""
    enrolments = list(
        Enrolment.objects.filter(klass=klass)
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=today))
        .select_related("student__family")
        .order_by("student__first_name", "student__last_name")
    )
    upcoming = list(
        sessions_with_counts(Session.objects.filter(klass=klass, local_date__gte=today)).order_by(
            "starts_at"
        )[:12]
    )
    recent = list(
        sessions_with_counts(Session.objects.filter(klass=klass, local_date__lt=today)).order_by(
            "-starts_at"
        )[:8]
    )
    return {
        "enrolments": enrolments,
        "upcoming": upcoming,
        "recent": recent,
        "schedule": list(klass.schedule.all()),
    }
