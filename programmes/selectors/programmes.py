"""Reads for the programme pages and the programme choices of the class form, and the level
map (WAL-3)."""

from dataclasses import dataclass

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


# --- WAL-3: the level map ("also accepts credits from") -----------------------------------


@dataclass(frozen=True)
class MapEntry:
    """One entry of a programme's "also accepts credits from" list (WAL-3)."""

    programme_id: int  # whose list it is: this programme takes the credits
    entry_id: int  # the programme listed: credits earned in it are taken
    name: str
    code: str


def credit_map(*, programme_ids) -> dict[int, list[MapEntry]]:
    """WAL-3: the "also accepts credits from" lists of ``programme_ids``, by programme, each
    by name — one query, none for no ids. It reads only the map itself (ids, names, codes) so
    the make-up checks may ask it for a partner branch's programmes too (FRN-4: there the
    entries count by their codes)."""
    ids = set(programme_ids)
    if not ids:
        return {}
    rows = (
        Programme.accepts_credits_from.through.objects.filter(from_programme_id__in=ids)
        .order_by("to_programme__name", "to_programme_id")
        .values_list(
            "from_programme_id", "to_programme_id", "to_programme__name", "to_programme__code"
        )
    )
    found: dict[int, list[MapEntry]] = {}
    for programme_id, entry_id, name, code in rows:
        found.setdefault(programme_id, []).append(MapEntry(programme_id, entry_id, name, code))
    return found


def accepting_programme_ids(*, programme_id: int) -> QuerySet:
    """WAL-3: the ids of the programmes whose list takes credits of ``programme_id`` (lazy:
    use it in an ``__in`` lookup for a subquery, or evaluate it)."""
    return Programme.accepts_credits_from.through.objects.filter(
        to_programme_id=programme_id
    ).values_list("from_programme_id", flat=True)
