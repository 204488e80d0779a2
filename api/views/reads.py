"""API-2: the reads, paged by id (``after``, ``limit``) and filtered by ``changed_since``.
Each page costs a fixed number of queries whatever its size (tests/api/test_reads.py)."""

from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from ninja import Field as NinjaField
from ninja import Query, Router, Schema

from .. import schemas, selectors

router = Router(tags=["read"])

MAX_LIMIT = 500


class PageParams(Schema):
    limit: int = NinjaField(100, ge=1, le=MAX_LIMIT, description="Rows per page (1-500).")
    after: int = NinjaField(0, ge=0, description="Rows with a greater id than this.")
    changed_since: datetime | None = NinjaField(
        None, description="Only rows made or changed at or after this instant (ISO 8601)."
    )


def _page(
    request: HttpRequest,
    queryset: QuerySet,
    params: PageParams,
    row: Callable = lambda obj: obj,
) -> dict:
    rows = list(queryset.filter(pk__gt=params.after)[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    following = None
    if more:
        query: QueryDict = request.GET.copy()
        query["after"] = str(rows[-1].pk)
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"results": [row(obj) for obj in rows], "next": following}


def _company(request: HttpRequest):
    return request.auth.company


@router.get("/programmes", response=schemas.ProgrammePage)
def programme_list(request: HttpRequest, params: Query[PageParams]):
    """Programmes (what is taught), archived ones included."""
    queryset = selectors.programmes(company=_company(request), changed_since=params.changed_since)
    return _page(request, queryset, params)


@router.get("/classes", response=schemas.ClassPage)
def class_list(request: HttpRequest, params: Query[PageParams]):
    """Classes (a programme's weekly group), archived ones included."""
    queryset = selectors.classes(company=_company(request), changed_since=params.changed_since)
    return _page(request, queryset, params)


class SessionFilters(Schema):
    starts_from: datetime | None = NinjaField(None, description="Sessions starting at or after.")
    starts_before: datetime | None = NinjaField(None, description="Sessions starting before.")
    class_id: int | None = None


@router.get("/sessions", response=schemas.SessionPage)
def session_list(request: HttpRequest, params: Query[PageParams], filters: Query[SessionFilters]):
    """Sessions with their places: taken and left now, counted as a booking counts them."""
    queryset = selectors.sessions(
        company=_company(request),
        now=timezone.now(),
        changed_since=params.changed_since,
        starts_from=filters.starts_from,
        starts_before=filters.starts_before,
        class_id=filters.class_id,
    )
    return _page(request, queryset, params, selectors.session_row)


@router.get("/families", response=schemas.FamilyPage)
def family_list(request: HttpRequest, params: Query[PageParams]):
    """Families with their parents' contact details."""
    queryset = selectors.families(company=_company(request), changed_since=params.changed_since)
    return _page(request, queryset, params, _family_row)


def _family_row(family) -> dict:
    guardians: Iterable = family.guardians.all()
    return {
        "id": family.pk,
        "name": family.name,
        "guardians": [
            {"id": g.pk, "full_name": g.full_name, "email": g.email, "phone": g.phone}
            for g in guardians
        ],
        "created_at": family.created_at,
        "changed_at": family.changed_at,
    }


@router.get("/students", response=schemas.StudentPage)
def student_list(request: HttpRequest, params: Query[PageParams]):
    """Students (children or adult clients) of the families."""
    queryset = selectors.students(company=_company(request), changed_since=params.changed_since)
    return _page(request, queryset, params)


@router.get("/enrolments", response=schemas.EnrolmentPage)
def enrolment_list(request: HttpRequest, params: Query[PageParams]):
    """Students' regular places in classes."""
    queryset = selectors.enrolments(company=_company(request), changed_since=params.changed_since)
    return _page(request, queryset, params)


class SessionFilter(Schema):
    session_id: int | None = None


@router.get("/attendance", response=schemas.AttendancePage)
def attendance_list(request: HttpRequest, params: Query[PageParams], filters: Query[SessionFilter]):
    """Recorded attendance of regular students (a student with no row is expected)."""
    queryset = selectors.attendance(
        company=_company(request),
        changed_since=params.changed_since,
        session_id=filters.session_id,
    )
    return _page(request, queryset, params)


@router.get("/credits", response=schemas.CreditPage)
def credit_list(request: HttpRequest, params: Query[PageParams]):
    """Make-up credits, in every state."""
    queryset = selectors.credits(company=_company(request), changed_since=params.changed_since)
    return _page(request, queryset, params, selectors.credit_row)


@router.get("/makeups", response=schemas.MakeupBookingPage)
def makeup_list(request: HttpRequest, params: Query[PageParams], filters: Query[SessionFilter]):
    """Make-up bookings in the school's sessions (its own families and partners' guests)."""
    queryset = selectors.makeup_bookings(
        company=_company(request),
        changed_since=params.changed_since,
        session_id=filters.session_id,
    )
    return _page(request, queryset, params)
