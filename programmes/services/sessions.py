"""Generating a class's sessions from its weekly schedule, in the company's time zone."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.datacache import data_changed
from makeup.dates import check_in_range, check_term
from makeup.errors import DomainError

from .. import hooks
from ..models import Class, ClassSchedule, Session
from ..selectors.closures import ClosureCalendar


@dataclass(frozen=True)
class GenerationResult:
    created: int
    removed: int
    kept: int  # future sessions no longer in the schedule, kept for their attendance/bookings
    skipped: int = 0  # lessons not generated because the school is closed (CLO-2)

    @property
    def message(self) -> str:
        parts = [
            ngettext("{count} session added", "{count} sessions added", self.created).format(
                count=self.created
            ),
            ngettext("{count} removed", "{count} removed", self.removed).format(count=self.removed),
        ]
        if self.kept:
            parts.append(
                ngettext(
                    "{count} kept although no longer in the schedule, because they already "
                    "have attendance or bookings",
                    "{count} kept although no longer in the schedule, because they already "
                    "have attendance or bookings",
                    self.kept,
                ).format(count=self.kept)
            )
        if self.skipped:
            parts.append(
                ngettext(
                    "{count} skipped because the school is closed that day",
                    "{count} skipped because the school is closed on those days",
                    self.skipped,
                ).format(count=self.skipped)
            )
        return "; ".join(parts) + "."


def slot_instants(
    klass: Class, slot: ClassSchedule, first: date, last: date
) -> Iterator[tuple[datetime, datetime, date]]:
    """(start, end, local date) of every occurrence of a weekly slot between two days,
    inclusive. Wall-clock times in the company's zone: a weekly 17:00 lesson stays 17:00
    across a daylight-saving change (its UTC instant moves instead)."""
    tz = klass.company.tzinfo
    offset = (slot.weekday - first.weekday()) % 7
    day = first + timedelta(days=offset)
    while day <= last:
        local = datetime.combine(day, slot.start_time, tzinfo=tz)
        start = local.astimezone(UTC)
        yield start, start + timedelta(minutes=slot.duration_minutes), day
        day += timedelta(days=7)


def _protected_ids(sessions) -> set[int]:
    ids: set[int] = set()
    for relation in hooks.protecting_relations():
        ids |= set(sessions.filter(**{f"{relation}__isnull": False}).values_list("pk", flat=True))
    return ids


@transaction.atomic
def class_generate_sessions(*, klass: Class, now: datetime) -> GenerationResult:
    """Make the class's future sessions match its schedule and term dates.

    Sessions that already started are never touched, nor are one-off sessions. A future
    generated session no longer in the schedule is removed — unless it has attendance or
    bookings, then it is kept (and counted, so the page can say so). Idempotent.
    """
    klass = Class.objects.select_for_update().select_related("company").get(pk=klass.pk)
    check_term(klass.start_date, klass.end_date)  # bounds the work of one request
    slots = list(klass.schedule.all())
    wanted: dict[datetime, tuple[ClassSchedule, datetime, date]] = {}
    if klass.archived_at is None:
        for slot in slots:
            for start, end, day in slot_instants(klass, slot, klass.start_date, klass.end_date):
                if start > now:
                    wanted[start] = (slot, end, day)

    future = Session.objects.filter(klass=klass, starts_at__gt=now, one_off=False)
    existing = {s.starts_at: s for s in future}
    skipped = 0
    calendar = ClosureCalendar.for_company(
        klass.company, klass.start_date, klass.end_date + timedelta(days=1)
    )
    if calendar:
        for start, (_slot, end, _day) in list(wanted.items()):
            # CLO-2: no new lesson on a closed day; one that already exists stays for the
            # closure to cancel (its families are told, its credits issued).
            if start not in existing and calendar.closure_at(
                starts_at=start,
                ends_at=end,
                location=klass.location,
                programme_id=klass.programme_id,
            ):
                del wanted[start]
                skipped += 1
    stale = [s for start, s in existing.items() if start not in wanted]
    protected = _protected_ids(future.filter(pk__in=[s.pk for s in stale])) if stale else set()
    removable = [s.pk for s in stale if s.pk not in protected]
    if removable:
        Session.objects.filter(pk__in=removable).delete()

    to_create = []
    to_update = []
    for start, (slot, end, day) in wanted.items():
        session = existing.get(start)
        if session is None:
            to_create.append(
                Session(
                    company_id=klass.company_id,
                    klass=klass,
                    schedule=slot,
                    starts_at=start,
                    ends_at=end,
                    local_date=day,
                )
            )
        elif session.ends_at != end or session.schedule_id != slot.pk:
            session.ends_at, session.schedule = end, slot
            to_update.append(session)
    Session.objects.bulk_create(to_create)
    if to_create:
        hooks.sessions_created(session_ids=[s.pk for s in to_create])
    if to_update:
        Session.objects.bulk_update(to_update, ["ends_at", "schedule"])
    if to_create or to_update:
        data_changed(klass.company_id)  # bulk writes send no signals
    return GenerationResult(
        created=len(to_create), removed=len(removable), kept=len(protected), skipped=skipped
    )


@transaction.atomic
def session_create_one_off(
    *,
    klass: Class,
    local_date: date,
    start_time,
    duration_minutes: int,
    now: datetime,
) -> Session:
    """Add a single session outside the weekly schedule (an extra lesson, a make-up class).
    Schedule regeneration never removes it."""
    if klass.archived_at is not None:
        raise DomainError(_("{name} is archived.").format(name=klass.name))
    check_in_range(local_date)
    tz = klass.company.tzinfo
    starts_at = datetime.combine(local_date, start_time, tzinfo=tz).astimezone(UTC)
    if starts_at <= now:
        raise DomainError(_("A one-off session must start in the future."))
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    # The next day too: a late lesson may run past midnight into a closed day.
    last = local_date + timedelta(days=1)
    closure = ClosureCalendar.for_company(klass.company, local_date, last).closure_at(
        starts_at=starts_at,
        ends_at=ends_at,
        location=klass.location,
        programme_id=klass.programme_id,
    )
    if closure is not None:
        raise DomainError(
            _("The school is closed then ({name}): choose another time.").format(name=closure.name)
        )
    if Session.objects.filter(klass=klass, starts_at=starts_at).exists():
        raise DomainError(_("{name} already has a session at that time.").format(name=klass.name))
    return Session.objects.create(
        company_id=klass.company_id,
        klass=klass,
        one_off=True,
        starts_at=starts_at,
        ends_at=ends_at,
        local_date=local_date,
    )
