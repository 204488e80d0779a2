"""The API's reads (API-2): one queryset per resource, each row annotated with
``changed_at`` — the latest of the instants the services record for it — so a client can ask
for what changed since its last sync. Every list costs a fixed number of queries per page.

What ``changed_at`` covers, per resource (docs/api.md says the same to schools):

- programmes, classes: made, changed, archived or brought back;
- sessions: made, cancelled (places left change with bookings: re-read upcoming sessions);
- families: made, changed, or one of their parents' details changed;
- students: made, changed; enrolments: made, withdrawn;
- attendance: every change of state;
- credits: issued, any change of state, a gift to a sibling or a carry-over;
- make-up bookings: booked, cancelled, moved, attendance taken.
"""

from datetime import datetime

from django.db.models import F, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from bookings.models import (
    Attendance,
    Enrolment,
    Family,
    Guardian,
    MakeupAttendanceChange,
    MakeupBooking,
    Student,
)
from credits.models import CreditEvent, MakeupCredit
from makeup.models import Company
from makeups.selectors.eligibility import session_places, with_occupancy
from programmes.models import Class, Programme, Session


def _latest(*fields, base: str):
    """The latest of ``base`` and the (nullable) ``fields``: ``Greatest`` is NULL on SQLite
    when any argument is."""
    return Greatest(F(base), *[Coalesce(field, F(base)) for field in fields])


def _since(queryset: QuerySet, changed_since: datetime | None) -> QuerySet:
    if changed_since is not None:
        queryset = queryset.filter(changed_at__gte=changed_since)
    return queryset.order_by("pk")


def programmes(*, company: Company, changed_since: datetime | None = None) -> QuerySet:
    queryset = Programme.objects.filter(company=company).annotate(
        changed_at=_latest("archived_at", "updated_at", base="created_at")
    )
    return _since(queryset, changed_since)


def classes(*, company: Company, changed_since: datetime | None = None) -> QuerySet:
    queryset = Class.objects.filter(company=company).annotate(
        changed_at=_latest("archived_at", "updated_at", base="created_at")
    )
    return _since(queryset, changed_since)


def sessions(
    *,
    company: Company,
    now: datetime,
    changed_since: datetime | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    class_id: int | None = None,
) -> QuerySet:
    """Sessions with their places counted as the booking service counts them (MKP-7),
    in the same query."""
    queryset = Session.objects.filter(company=company).annotate(
        changed_at=_latest("cancelled_at", base="created_at")
    )
    if starts_from is not None:
        queryset = queryset.filter(starts_at__gte=starts_from)
    if starts_before is not None:
        queryset = queryset.filter(starts_at__lt=starts_before)
    if class_id is not None:
        queryset = queryset.filter(klass_id=class_id)
    return with_occupancy(_since(queryset, changed_since), now=now)


def session_row(session: Session) -> dict:
    """A session annotated by :func:`sessions` as the API shows it."""
    taken, limit = session_places(session)
    return {
        "id": session.pk,
        "klass_id": session.klass_id,
        "programme_id": session.klass.programme_id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "local_date": session.local_date,
        "cancelled_at": session.cancelled_at,
        "cancel_reason": session.cancel_reason,
        "places": limit,
        "places_taken": taken,
        "places_left": 0 if session.cancelled_at else max(limit - taken, 0),
        "created_at": session.created_at,
        "changed_at": session.changed_at,
    }


def families(*, company: Company, changed_since: datetime | None = None) -> QuerySet:
    parents = (
        Guardian.objects.filter(family=OuterRef("pk"))
        .values("family")
        .annotate(at=Max(Coalesce("updated_at", "created_at")))
        .values("at")
    )
    queryset = (
        Family.objects.filter(company=company)
        .annotate(changed_at=_latest("updated_at", Subquery(parents), base="created_at"))
        .prefetch_related(
            Prefetch("guardians", queryset=Guardian.objects.filter(company=company).order_by("pk"))
        )
    )
    return _since(queryset, changed_since)


def students(*, company: Company, changed_since: datetime | None = None) -> QuerySet:
    queryset = Student.objects.filter(company=company).annotate(
        changed_at=_latest("updated_at", base="created_at")
    )
    return _since(queryset, changed_since)


def enrolments(*, company: Company, changed_since: datetime | None = None) -> QuerySet:
    queryset = Enrolment.objects.filter(company=company).annotate(
        changed_at=_latest("updated_at", base="created_at")
    )
    return _since(queryset, changed_since)


def attendance(
    *, company: Company, changed_since: datetime | None = None, session_id: int | None = None
) -> QuerySet:
    queryset = (
        Attendance.objects.filter(company=company)
        .annotate(changed_at=F("updated_at"), student_id=F("enrolment__student_id"))
        .only("pk", "session_id", "enrolment_id", "state", "cancelled_at", "updated_at")
    )
    if session_id is not None:
        queryset = queryset.filter(session_id=session_id)
    return _since(queryset, changed_since)


def credits(*, company: Company, changed_since: datetime | None = None) -> QuerySet:
    queryset = MakeupCredit.objects.filter(company=company).annotate(
        changed_at=_latest("state_changed_at", "transferred_at", base="issued_at"),
        student_id=F("holder__student_id"),
    )
    return _since(queryset, changed_since)


def credit_row(credit: MakeupCredit) -> dict:
    """A credit annotated by :func:`credits` as the API shows it."""
    return {
        "id": credit.pk,
        "enrolment_id": credit.enrolment_id,
        "holder_enrolment_id": credit.holder_id,
        "student_id": credit.student_id,
        "path": credit.path,
        "state": credit.state,
        "reason": credit.reason,
        "issued_at": credit.issued_at,
        "expires_at": credit.expires_at,
        "booking_id": credit.booking_id,
        "changed_at": credit.changed_at,
    }


def makeup_bookings(
    *, company: Company, changed_since: datetime | None = None, session_id: int | None = None
) -> QuerySet:
    """Make-ups booked into the company's sessions (its own families' and partner branches'
    guests)."""
    moved = (
        CreditEvent.objects.filter(credit__booking=OuterRef("pk"), kind=CreditEvent.Kind.MOVED)
        .values("credit__booking")
        .annotate(at=Max("at"))
        .values("at")
    )
    marked = (
        MakeupAttendanceChange.objects.filter(booking=OuterRef("pk"))
        .values("booking")
        .annotate(at=Max("changed_at"))
        .values("at")
    )
    credit = MakeupCredit.objects.filter(booking=OuterRef("pk")).order_by("pk").values("pk")[:1]
    queryset = MakeupBooking.objects.filter(company=company).annotate(
        changed_at=_latest("cancelled_at", Subquery(moved), Subquery(marked), base="booked_at"),
        credit_id=Subquery(credit),
    )
    if session_id is not None:
        queryset = queryset.filter(session_id=session_id)
    return _since(queryset, changed_since)
