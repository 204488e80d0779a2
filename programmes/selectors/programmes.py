"""Reads for the programme pages and the programme choices of the class form."""

from django.db.models import Count, Q, QuerySet

from makeup.models import Company

from ..models import Programme


def programme_list(*, company: Company) -> QuerySet[Programme]:
    """The company's programmes, active and archived, each with ``active_class_count``."""
    return Programme.objects.filter(company=company).annotate(
        active_class_count=Count("classes", filter=Q(classes__archived_at__isnull=True))
    )


def programme_choices(
    *, company: Company, include_archived: bool = False, keep_pk: int | None = None
) -> QuerySet[Programme]:
    """Programmes to pick from: active ones (and ``keep_pk``, the one already chosen)."""
    programmes = Programme.objects.filter(company=company)
    if not include_archived:
        active = Q(archived_at__isnull=True)
        if keep_pk is not None:
            active |= Q(pk=keep_pk)
        programmes = programmes.filter(active)
    return programmes.order_by("name", "pk")
