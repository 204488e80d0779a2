"""Reads of the closure calendar (CLO-1): which closures are live, which instants and
sessions they cover, in the company's time zone."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from makeup.holidays import public_holidays
from makeup.models import Company
from makeup.shapes import Shape

from ..models import Class, Closure, Session

#: How far ahead the Closures page offers the public holidays: a year from today.
HOLIDAY_SPAN_DAYS = 365
#: How many past closures the Closures page lists (the most recent).
PAST_CLOSURES_SHOWN = 10

# A part-day closure is one window per day: the database filter for it grows with its days,
# so part-day closures are bounded (a whole-day closure is one window, of any length).
MAX_PART_DAY_DAYS = 62


@dataclass(frozen=True)
class Window:
    """One closed stretch in UTC, with the closure's scope."""

    closure: Closure
    starts_at: datetime
    ends_at: datetime

    def overlaps(self, starts_at: datetime, ends_at: datetime) -> bool:
        return starts_at < self.ends_at and ends_at > self.starts_at


def closure_windows(closure: Closure, tz) -> Iterator[Window]:
    """The UTC windows a closure shuts: one from the first day's midnight to the midnight
    after the last day, or ``start_time``…``end_time`` on each day. Wall-clock times in the
    company's zone, so a closure across a daylight-saving change still starts at local
    midnight (its UTC instant moves instead)."""
    if closure.whole_days:
        start = datetime.combine(closure.first_day, time(0), tzinfo=tz).astimezone(UTC)
        end_day = closure.last_day + timedelta(days=1)
        end = datetime.combine(end_day, time(0), tzinfo=tz).astimezone(UTC)
        yield Window(closure, start, end)
        return
    day = closure.first_day
    while day <= closure.last_day:
        yield Window(
            closure,
            datetime.combine(day, closure.start_time, tzinfo=tz).astimezone(UTC),
            datetime.combine(day, closure.end_time, tzinfo=tz).astimezone(UTC),
        )
        day += timedelta(days=1)


def closures_between(company: Company, first: date, last: date) -> QuerySet[Closure]:
    """The company's live (not removed) closures touching ``first``…``last``, with their
    programmes prefetched: one query for the closures, one for their programmes."""
    return (
        Closure.objects.filter(
            company=company, removed_at__isnull=True, first_day__lte=last, last_day__gte=first
        )
        .prefetch_related("programmes")
        .order_by("first_day", "pk")
    )


def closure_list(company: Company) -> QuerySet[Closure]:
    """Every live closure of the company, soonest first, for the Closures page."""
    return (
        Closure.objects.filter(company=company, removed_at__isnull=True)
        .prefetch_related("programmes")
        .select_related("created_by")
        .order_by("first_day", "start_time", "pk")
    )


def closure_days_text(closure: Closure) -> str:
    """The days (and hours) a closure shuts, as people read them in the active language:
    "Mon 7 Dec 2026", "Mon 7 Dec – Wed 9 Dec 2026", "Mon 7 Dec 2026, 13:00–15:00"."""
    first, last = closure.first_day, closure.last_day
    if first == last:
        days = date_format(first, "WEEKDAY_YEAR_FORMAT")
    else:
        first_format = "WEEKDAY_FORMAT" if first.year == last.year else "WEEKDAY_YEAR_FORMAT"
        days = _("{first} – {last}").format(
            first=date_format(first, first_format), last=date_format(last, "WEEKDAY_YEAR_FORMAT")
        )
    if closure.whole_days:
        return days
    hours = {
        "days": days,
        "start": closure.start_time.strftime("%H:%M"),
        "end": closure.end_time.strftime("%H:%M"),
    }
    if first == last:
        return _("{days}, {start}–{end}").format(**hours)
    return _("{days}, {start}–{end} each day").format(**hours)


def closures_ahead(company: Company, *, today: date) -> QuerySet[Closure]:
    """The company's live closures not over yet (current or to come), soonest first."""
    return closure_list(company).filter(last_day__gte=today)


def closures_past(
    company: Company, *, today: date, limit: int = PAST_CLOSURES_SHOWN
) -> list[Closure]:
    """The company's most recent live closures that are over, latest first."""
    return list(
        closure_list(company).filter(last_day__lt=today).order_by("-last_day", "-pk")[:limit]
    )


def next_closure(company: Company, *, today: date, within_days: int) -> tuple[int, Closure | None]:
    """How many live closures are on now or start within ``within_days`` days, and the
    soonest closure not over yet (however far ahead); two queries."""
    ahead = Closure.objects.filter(company=company, removed_at__isnull=True, last_day__gte=today)
    count = ahead.filter(first_day__lte=today + timedelta(days=within_days)).count()
    soonest = ahead.order_by("first_day", "start_time", "pk").first()
    return count, soonest


def closure_location_choices(company: Company, *, keep: Iterable[str] = ()) -> list[str]:
    """The locations a closure can be limited to: those of the company's active classes,
    and any the closure already names (a class since archived or renamed)."""
    locations = set(
        Class.objects.filter(company=company, archived_at__isnull=True)
        .exclude(location="")
        .values_list("location", flat=True)
        .distinct()
    )
    return sorted(locations | {loc for loc in keep if loc})


@dataclass(frozen=True)
class HolidayRow:
    day: date
    name: str
    added: bool  # already on the closure calendar


def holidays_ahead(company: Company, *, today: date) -> list[HolidayRow]:
    """The public holidays of the company's country (and region) from ``today`` for
    :data:`HOLIDAY_SPAN_DAYS` days, each marked when it is already on the calendar (a live
    closure added from the holidays on that day, with that name). One query; none without a
    country."""
    settings = company.settings
    if not settings.holiday_country:
        return []
    last = today + timedelta(days=HOLIDAY_SPAN_DAYS)
    holidays = public_holidays(settings.holiday_country, settings.holiday_subdivision, today, last)
    if not holidays:
        return []
    added = set(
        Closure.objects.filter(
            company=company,
            removed_at__isnull=True,
            holiday__gt="",
            first_day__gte=today,
            first_day__lte=last,
        ).values_list("first_day", "holiday")
    )
    return [HolidayRow(day, name, (day, name[:120]) in added) for day, name in holidays]


class ClosureCalendar:
    """The live closures of one company over a stretch of days, loaded once, answering
    "is this session (or this class's lesson at this instant) closed?" in memory.

    Scope: a closure with locations covers only classes at those locations; one with
    programmes only those programmes' classes; both empty means the whole company."""

    def __init__(self, closures: Iterable[Closure], tz):
        self.windows: list[Window] = []
        self._programmes: dict[int, set[int]] = {}
        for closure in closures:
            self._programmes[closure.pk] = {p.pk for p in closure.programmes.all()}
            self.windows.extend(closure_windows(closure, tz))

    @classmethod
    def for_company(cls, company: Company, first: date, last: date) -> "ClosureCalendar":
        return cls(closures_between(company, first, last), company.tzinfo)

    def covers_class(self, closure: Closure, *, location: str, programme_id: int) -> bool:
        if closure.locations and location not in closure.locations:
            return False
        programmes = self._programmes[closure.pk]
        return not programmes or programme_id in programmes

    def closure_at(
        self, *, starts_at: datetime, ends_at: datetime, location: str, programme_id: int
    ) -> Closure | None:
        """The closure shutting a lesson of a class at these instants, if any: a lesson is
        closed when it overlaps a closed window at all (one that starts before a closure
        and ends inside it is closed too)."""
        for window in self.windows:
            if window.overlaps(starts_at, ends_at) and self.covers_class(
                window.closure, location=location, programme_id=programme_id
            ):
                return window.closure
        return None

    def closure_for(self, session: Session) -> Closure | None:
        """The closure covering ``session`` (needs ``session.klass`` loaded)."""
        return self.closure_at(
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            location=session.klass.location,
            programme_id=session.klass.programme_id,
        )

    def __bool__(self) -> bool:
        return bool(self.windows)


def _closures(companies: Q, first: date, last: date) -> QuerySet[Closure]:
    return Closure.objects.filter(
        companies, removed_at__isnull=True, first_day__lte=last, last_day__gte=first
    ).order_by("first_day", "pk")


_ONE_COMPANYS = Shape(
    lambda company_id, first, last: _closures(Q(company_id=company_id), first, last)
)


def closure_calendars(
    companies: Iterable[Company], first: date, last: date
) -> dict[int, ClosureCalendar]:
    """The calendars of several companies over the same days, keyed by company id: one
    query for their closures and one for the closures' programmes (none when nothing is
    closed), however many companies. The filter names the companies given; a caller reading
    a partner company's calendar has lifted the scope itself (franchise)."""
    companies = {company.pk: company for company in companies}
    by_company: dict[int, list[Closure]] = defaultdict(list)
    if len(companies) == 1:  # the usual case: one company's own pages, compiled once
        (company_id,) = companies
        closures = _ONE_COMPANYS(company_id=company_id, first=first, last=last)
    elif companies:
        closures = list(_closures(Q(company_id__in=list(companies)), first, last))
    else:
        closures = []
    prefetch_related_objects(closures, "programmes")
    for closure in closures:
        by_company[closure.company_id].append(closure)
    return {
        pk: ClosureCalendar(by_company[pk], company.tzinfo) for pk, company in companies.items()
    }


def closures_for_sessions(
    sessions: list[Session], calendars: dict[int, ClosureCalendar] | None = None
) -> dict[int, Closure | None]:
    """{session id: the closure covering it, or ``None``} for ``sessions`` (each with its
    ``company`` and ``klass`` loaded), of one company or several (a partner's). Each
    company's calendar is read once for all its sessions (:func:`closure_calendars`: two
    queries at most, however many sessions), over their local days and the day after (a late
    lesson may run past midnight into a closed day); none is read for ``calendars`` given."""
    if not sessions:
        return {}
    calendars = dict(calendars or {})
    missing = {s.company_id: s.company for s in sessions if s.company_id not in calendars}
    if missing:
        days = [s.local_date for s in sessions]
        calendars |= closure_calendars(missing.values(), min(days), max(days) + timedelta(days=1))
    return {s.pk: calendars[s.company_id].closure_for(s) for s in sessions}


def closure_sessions_q(closure: Closure, tz, *, prefix: str = "") -> Q:
    """A filter for the sessions ``closure`` covers (its windows and its scope), for a
    queryset of ``Session`` — or of a model reaching a session through ``prefix``
    (e.g. ``"session__"``)."""
    windows = Q()
    for window in closure_windows(closure, tz):
        windows |= Q(
            **{f"{prefix}starts_at__lt": window.ends_at, f"{prefix}ends_at__gt": window.starts_at}
        )
    q = windows
    if closure.locations:
        q &= Q(**{f"{prefix}klass__location__in": closure.locations})
    programme_ids = [p.pk for p in closure.programmes.all()]
    if programme_ids:
        q &= Q(**{f"{prefix}klass__programme_id__in": programme_ids})
    return q


def closed_sessions_q(calendar: ClosureCalendar, tz, *, prefix: str = "") -> Q | None:
    """A filter matching every session any of the calendar's closures covers, or ``None``
    when nothing is closed (so callers add no condition at all). The make-up search
    excludes it: a closed day is never offered (CLO-5)."""
    closures = {w.closure.pk: w.closure for w in calendar.windows}
    if not closures:
        return None
    q = Q()
    for closure in closures.values():
        q |= closure_sessions_q(closure, tz, prefix=prefix)
    return q


def closure_sessions(closure: Closure) -> QuerySet[Session]:
    """The sessions a closure covers, cancelled or not, soonest first."""
    return Session.objects.filter(
        closure_sessions_q(closure, closure.company.tzinfo), company_id=closure.company_id
    ).order_by("starts_at", "pk")


def closure_scope_classes(closure: Closure) -> QuerySet[Class]:
    """The classes a closure's scope reaches whose term meets its days and that are not
    archived: the ones whose schedule it kept lessons out of (CLO-2), to generate again
    when it is removed (CLO-6)."""
    classes = Class.objects.filter(
        company_id=closure.company_id,
        archived_at__isnull=True,
        start_date__lte=closure.last_day,
        end_date__gte=closure.first_day,
    )
    if closure.locations:
        classes = classes.filter(location__in=closure.locations)
    programme_ids = [p.pk for p in closure.programmes.all()]
    if programme_ids:
        classes = classes.filter(programme_id__in=programme_ids)
    return classes.select_related("company").order_by("pk")
