"""Writes of the closure calendar (CLO-1). Cancelling the sessions a closure covers is the
make-up side's job (``makeups.services.closure_apply``): this module only keeps the
calendar itself."""

from collections.abc import Sequence
from datetime import date, datetime, time

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from makeup.dates import check_in_range
from makeup.errors import DomainError
from makeup.holidays import public_holidays
from makeup.models import Company, CompanySettings

from ..models import Closure, ClosureCredits, Programme
from ..selectors.closures import MAX_PART_DAY_DAYS

MAX_CLOSURE_DAYS = 366


def _check(
    *,
    company: Company,
    name: str,
    first_day: date,
    last_day: date,
    start_time: time | None,
    end_time: time | None,
    locations: Sequence[str],
    programmes: Sequence[Programme],
    credits: str,
) -> tuple[str, list[str]]:
    name = name.strip()
    if not name:
        raise DomainError(_("Give the closure a name families will understand."))
    check_in_range(first_day)
    check_in_range(last_day)
    if last_day < first_day:
        raise DomainError(_("The last day can't be before the first day."))
    days = (last_day - first_day).days + 1
    if days > MAX_CLOSURE_DAYS:
        raise DomainError(_("A closure can be at most a year long."))
    if (start_time is None) != (end_time is None):
        raise DomainError(_("For part of a day give both times; for whole days give neither."))
    if start_time is not None:
        if end_time <= start_time:
            raise DomainError(_("The closure must end after it starts."))
        if days > MAX_PART_DAY_DAYS:
            raise DomainError(
                _("Part of a day can be repeated for at most {days} days.").format(
                    days=MAX_PART_DAY_DAYS
                )
            )
    if credits not in ClosureCredits.values:
        raise DomainError(_("Choose what happens to credits."))
    if any(p.company_id != company.pk for p in programmes):
        raise DomainError(_("Choose programmes of your own company."))
    cleaned = sorted({loc.strip() for loc in locations if loc.strip()})
    return name[:120], cleaned


def _check_not_past(closure: Closure, *, now: datetime) -> None:
    if closure.last_day < now.astimezone(closure.company.tzinfo).date():
        raise DomainError(
            _("{name} is over: past closures stay as they were.").format(name=closure.name)
        )


@transaction.atomic
def closure_create(
    *,
    company: Company,
    name: str,
    first_day: date,
    last_day: date,
    start_time: time | None = None,
    end_time: time | None = None,
    locations: Sequence[str] = (),
    programmes: Sequence[Programme] = (),
    credits: str = ClosureCredits.POLICY,
    holiday: str = "",
    actor=None,
    now: datetime,
) -> Closure:
    """Add a closure to the calendar. From now on no session is generated in it (CLO-2) and
    none of its sessions is offered for make-ups (CLO-5); the sessions it covers are
    cancelled only when an admin applies it (CLO-3)."""
    name, locations = _check(
        company=company,
        name=name,
        first_day=first_day,
        last_day=last_day,
        start_time=start_time,
        end_time=end_time,
        locations=locations,
        programmes=programmes,
        credits=credits,
    )
    if last_day < now.astimezone(company.tzinfo).date():
        raise DomainError(_("A closure can't be wholly in the past."))
    closure = Closure.objects.create(
        company=company,
        name=name,
        first_day=first_day,
        last_day=last_day,
        start_time=start_time,
        end_time=end_time,
        locations=locations,
        credits=credits,
        holiday=holiday[:120],
        created_at=now,
        created_by=actor,
    )
    closure.programmes.set(programmes)
    return closure


@transaction.atomic
def closure_update(
    *,
    closure: Closure,
    name: str,
    first_day: date,
    last_day: date,
    start_time: time | None = None,
    end_time: time | None = None,
    locations: Sequence[str] = (),
    programmes: Sequence[Programme] = (),
    credits: str = ClosureCredits.POLICY,
    now: datetime,
) -> Closure:
    """Change a closure that has cancelled nothing yet. Once applied, only its name can
    change: its cancelled sessions and the credits they earned follow its dates and its
    credit choice, so changing those means removing it (restoring the sessions) first."""
    closure = Closure.objects.select_for_update().select_related("company").get(pk=closure.pk)
    if closure.removed_at is not None:
        raise DomainError(_("This closure was removed."))
    _check_not_past(closure, now=now)
    name, locations = _check(
        company=closure.company,
        name=name,
        first_day=first_day,
        last_day=last_day,
        start_time=start_time,
        end_time=end_time,
        locations=locations,
        programmes=programmes,
        credits=credits,
    )
    applied = closure.cancelled_sessions.exists()
    changed = (first_day, last_day, start_time, end_time, locations, credits) != (
        closure.first_day,
        closure.last_day,
        closure.start_time,
        closure.end_time,
        closure.locations,
        closure.credits,
    ) or {p.pk for p in programmes} != set(closure.programmes.values_list("pk", flat=True))
    if applied and changed:
        raise DomainError(
            _(
                "{name} has already cancelled lessons: only its name can change. To change "
                "its days, scope or credits, remove it (restoring its lessons) and add it again."
            ).format(name=closure.name)
        )
    closure.name = name
    closure.first_day, closure.last_day = first_day, last_day
    closure.start_time, closure.end_time = start_time, end_time
    closure.locations, closure.credits = locations, credits
    closure.save()
    closure.programmes.set(programmes)
    return closure


@transaction.atomic
def closure_mark_removed(
    *, closure: Closure, actor=None, now: datetime, keep_cancelled: bool = False
) -> Closure:
    """Take a closure off the calendar: its days are open again (generation, the make-up
    search). Refused while it still has cancelled sessions that haven't started, unless
    ``keep_cancelled``: the removal (``makeups.services.closure_remove_request``) first asks
    the admin whether to restore them (CLO-6). Removing twice changes nothing."""
    closure = Closure.objects.select_for_update().select_related("company").get(pk=closure.pk)
    if closure.removed_at is not None:
        return closure
    _check_not_past(closure, now=now)
    if not keep_cancelled and closure.cancelled_sessions.filter(starts_at__gt=now).exists():
        raise DomainError(
            _("{name} has cancelled lessons: choose whether to restore them first.").format(
                name=closure.name
            )
        )
    closure.removed_at, closure.removed_by = now, actor
    closure.save(update_fields=["removed_at", "removed_by"])
    return closure


@transaction.atomic
def closures_add_holidays(
    *, company: Company, days: Sequence[tuple[date, str]], actor=None, now: datetime
) -> list[Closure]:
    """CLO-1: add the ticked public holidays, each a whole-day closure for the whole company
    with credits by policy. A holiday already on the calendar (same day, same holiday) is
    not added twice. Returns the closures added.

    Each ``(day, name)`` must be a public holiday of the company's country and region (its
    settings) on that day: what a page posts is checked here again, so no entry point can
    add a made-up "holiday"."""
    if not days:
        return []
    check_in_range(*(day for day, _name in days))
    settings_row = CompanySettings.objects.get(company=company)  # fresh: not a cached copy
    if not settings_row.holiday_country:
        raise DomainError(
            _("Choose your country in Settings first: its public holidays are offered from there.")
        )
    known = dict(
        public_holidays(
            settings_row.holiday_country,
            settings_row.holiday_subdivision,
            min(day for day, _name in days),
            max(day for day, _name in days),
        )
    )
    for day, name in days:
        if known.get(day) != name:
            raise DomainError(
                _("{day} is not a public holiday of your country or region.").format(
                    day=date_format(day, "WEEKDAY_YEAR_FORMAT")
                )
            )
    existing = set(
        Closure.objects.filter(
            company=company, removed_at__isnull=True, holiday__gt=""
        ).values_list("first_day", "holiday")
    )
    added = []
    for day, name in sorted(days):
        if (day, name[:120]) in existing:
            continue
        added.append(
            closure_create(
                company=company,
                name=name,
                first_day=day,
                last_day=day,
                holiday=name,
                actor=actor,
                now=now,
            )
        )
        existing.add((day, name[:120]))
    return added
