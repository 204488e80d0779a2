"""Reads for families: the portal's parent lookups and the back office's family pages."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django_scopes import scopes_disabled

from makeup.hooks import FamilyRecipient
from makeup.models import Company
from makeup.shapes import Shape
from programmes.models import age_in_months

from ..models import Attendance, AttendanceChange, Enrolment, Family, Guardian, Package, Student
from .account import blocked_families
from .packages import packages_with_remaining


def guardian_for_user(*, company: Company, user) -> Guardian | None:
    """The logged-in user's parent record in ``company`` (with the family), or ``None``."""
    if not user.is_authenticated:
        return None
    return _GUARDIAN.first(company_id=company.pk, user_id=user.pk)


# At most one (a unique constraint): no ordering to write or sort, on every portal page.
_GUARDIAN = Shape(
    lambda company_id, user_id: (
        Guardian.objects.filter(company_id=company_id, user_id=user_id)
        .select_related("family")
        .order_by()[:1]
    )
)


def family_students(family: Family) -> list[Student]:
    """The family's children, in their order (first name, surname), each with ``family``
    attached: what ``family.students.all()`` gives, compiled once (every portal home and
    make-up search reads it)."""
    students = _STUDENTS(family_id=family.pk)
    for student in students:
        student.family = family
    return students


_STUDENTS = Shape(lambda family_id: Student.objects.filter(family_id=family_id))


def portal_companies_for_user(user) -> list[Company]:
    """Companies where ``user`` is a parent. Crosses scopes on purpose: it runs at login,
    before any company is chosen, and reads only the user's own guardian rows."""
    if not user.is_authenticated:
        return []
    with scopes_disabled():
        ids = list(Guardian.objects.filter(user=user).values_list("company_id", flat=True))
    return list(Company.objects.filter(pk__in=ids).order_by("name"))


# --- back office: family list and family page ---------------------------------------------

FAMILY_LIST_PAGE_SIZE = 50
RECENT_ATTENDANCE_ROWS = 50


def active_enrolment_q(today: date, prefix: str = "") -> Q:
    """Enrolments still running on ``today``: not withdrawn by then and in a class whose term
    has not ended (an enrolment starting later counts: the place is taken)."""
    return (
        Q(**{f"{prefix}withdrawn_from__isnull": True}) | Q(**{f"{prefix}withdrawn_from__gt": today})
    ) & Q(**{f"{prefix}klass__end_date__gte": today})


def age_in_years(born: date, on: date) -> int:
    return age_in_months(born, on) // 12


def _label_ages(students, today: date) -> None:
    for student in students:
        student.age = age_in_years(student.date_of_birth, today)


def _search_q(q: str) -> Q:
    """Every word must match the family name, a parent's name, e-mail or phone, or a
    child's first or last name."""
    condition = Q()
    for word in q.split()[:10]:
        parents = Guardian.objects.filter(family=OuterRef("pk")).filter(
            Q(full_name__icontains=word) | Q(email__icontains=word) | Q(phone__icontains=word)
        )
        children = Student.objects.filter(family=OuterRef("pk")).filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
        condition &= Q(name__icontains=word) | Exists(parents) | Exists(children)
    return condition


def family_list(
    *, company: Company, q: str = "", today: date, blocked_at: datetime | None = None
) -> QuerySet[Family]:
    """Families of ``company`` matching the search ``q``, by name, each annotated with
    ``active_enrolments``; parents and children are prefetched (their ages labelled by
    :func:`family_list_page`). With ``blocked_at``, only the families the balance gate blocks
    at that moment (the Today page's link). A page costs the same few queries whatever the
    data size."""
    active = (
        Enrolment.objects.filter(student__family=OuterRef("pk"))
        .filter(active_enrolment_q(today))
        .order_by()
        .values("student__family")
        .annotate(n=Count("pk"))
        .values("n")
    )
    families = Family.objects.filter(company=company)
    q = q.strip()
    if q:
        families = families.filter(_search_q(q))
    if blocked_at is not None:
        families = families.filter(
            pk__in=blocked_families(company=company, now=blocked_at).values("pk")
        )
    return (
        families.annotate(active_enrolments=Coalesce(Subquery(active), 0))
        .prefetch_related(
            Prefetch("guardians", queryset=Guardian.objects.order_by("full_name", "pk")),
            Prefetch("students", queryset=Student.objects.order_by("date_of_birth", "pk")),
        )
        .order_by("name", "pk")
    )


def family_list_page(
    *,
    company: Company,
    q: str = "",
    page: str | int | None,
    today: date,
    blocked_at: datetime | None = None,
):
    """One page (:data:`FAMILY_LIST_PAGE_SIZE` families) of :func:`family_list`: a count, the
    families, their parents and their children — 4 queries."""
    paginator = Paginator(
        family_list(company=company, q=q, today=today, blocked_at=blocked_at),
        FAMILY_LIST_PAGE_SIZE,
    )
    page_obj = paginator.get_page(page)
    for family in page_obj.object_list:
        _label_ages(family.students.all(), today)
    return page_obj


@dataclass
class FamilyPage:
    family: Family
    guardians: list[Guardian]
    students: list[Student]
    attendance: list[Attendance]
    today: date
    packages: list = field(default_factory=list)


def family_page(*, family: Family, today: date) -> FamilyPage:
    """Everything the family page shows, in 5 queries whatever the family's size: parents
    (with their logins), children with their enrolments (class and programme), and the last
    :data:`RECENT_ATTENDANCE_ROWS` attendance rows of the family's students with their latest
    change (ATT-6)."""
    guardians = list(
        Guardian.objects.filter(family=family).select_related("user").order_by("full_name", "pk")
    )
    students = list(
        Student.objects.filter(family=family)
        .prefetch_related(
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.select_related("klass__programme").order_by(
                    "-start_date", "-pk"
                ),
            )
        )
        .order_by("date_of_birth", "pk")
    )
    _label_ages(students, today)
    for student in students:
        for enrolment in student.enrolments.all():
            enrolment.is_active = (
                enrolment.withdrawn_from is None or enrolment.withdrawn_from > today
            ) and enrolment.klass.end_date >= today
    attendance = list(
        Attendance.objects.filter(enrolment__student__family=family)
        .select_related("session", "enrolment__klass", "enrolment__student")
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=AttendanceChange.objects.select_related("changed_by").order_by(
                    "-changed_at", "-pk"
                ),
                to_attr="latest_changes",
            )
        )
        .order_by("-session__starts_at", "-pk")[:RECENT_ATTENDANCE_ROWS]
    )
    for row in attendance:
        row.last_change = row.latest_changes[0] if row.latest_changes else None
    packages = packages_with_remaining(
        Package.objects.filter(family=family)
        .select_related("programme")
        .order_by("-purchased_on", "-pk")
    )
    for package in packages:
        package.active = package.valid_until is None or package.valid_until >= today
    return FamilyPage(
        family=family,
        guardians=guardians,
        students=students,
        attendance=attendance,
        today=today,
        packages=packages,
    )


def guardian_with_email(*, company: Company, email: str, exclude_pk: int | None = None):
    """The company's parent who already uses ``email`` (any case), or ``None``."""
    email = email.strip()
    if not email:
        return None
    guardians = Guardian.objects.filter(company=company, email__iexact=email)
    if exclude_pk is not None:
        guardians = guardians.exclude(pk=exclude_pk)
    return guardians.select_related("family").first()


def family_recipients(*, company, family_id: int) -> list[FamilyRecipient]:
    """NTF-1: the family's parents with an e-mail address, for the notification service —
    each in their own language (their login's), else the company's."""
    guardians = (
        Guardian.objects.filter(company=company, family_id=family_id)
        .exclude(email="")
        .select_related("user")
        .order_by("pk")
    )
    return [
        FamilyRecipient(
            email=guardian.email,
            full_name=guardian.full_name,
            language=(guardian.user.language if guardian.user else "") or company.language,
        )
        for guardian in guardians
    ]
