"""Reads for the class pages: one query per list, whatever the data size."""

from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from makeup.models import Company, User

from ..models import Class, ClassSchedule, Programme


def instructor_choices(*, company: Company, keep_pk: int | None = None) -> QuerySet[User]:
    """Users with a membership in the company (and the current instructor, if no longer)."""
    members = Q(memberships__company=company)
    if keep_pk is not None:
        members |= Q(pk=keep_pk)
    return User.objects.filter(members).distinct().order_by("full_name", "email")


def class_list(
    *,
    company: Company,
    today: date,
    programme: Programme | None = None,
    instructor: User | None = None,
    weekday: int | None = None,
    archived: bool | None = False,
) -> QuerySet[Class]:
    """Classes for the list page, with programme and instructor, ``enrolled_count`` (students
    enrolled and not withdrawn by ``today``) and the weekly schedule prefetched: two queries.

    ``archived``: False (default) active classes, True archived ones, None both.
    """
    classes = Class.objects.filter(company=company)
    if programme is not None:
        classes = classes.filter(programme=programme)
    if instructor is not None:
        classes = classes.filter(instructor=instructor)
    if weekday is not None:
        classes = classes.filter(
            Exists(ClassSchedule.objects.filter(klass=OuterRef("pk"), weekday=weekday))
        )
    if archived is not None:
        classes = classes.filter(archived_at__isnull=not archived)
    enrolled = Q(enrolments__withdrawn_from__isnull=True) | Q(enrolments__withdrawn_from__gt=today)
    return (
        classes.select_related("programme", "instructor")
        .annotate(enrolled_count=Count("enrolments", filter=enrolled))
        .prefetch_related(
            Prefetch("schedule", queryset=ClassSchedule.objects.order_by("weekday", "start_time"))
        )
    )
