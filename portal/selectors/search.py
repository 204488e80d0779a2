"""The parent's make-up search (MKP-9): the sessions offered for one credit, at home and at
approved partners, by day, a page at a time — also the sessions a booked make-up could move
to (WAL-2). No rules here: eligibility is the one function of
:mod:`makeups.selectors.eligibility`."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bookings.models import MakeupBooking
from credits.models import MakeupCredit, SessionWatch
from franchise.selectors.partners import partner_candidates
from makeup.models import Company
from makeup.shapes import Shape
from makeups.selectors.eligibility import Candidate, makeup_candidates
from programmes.models import Session

TIMES_OF_DAY = {
    "morning": (time(0), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), None),
}


SEARCH_WINDOW_DAYS = 14  # one page of results: two weeks from the start day
SEARCH_DAYS_AHEAD = 56  # how far ahead a credit without an earlier expiry searches
SEARCH_MAX_SESSIONS = 30  # a couple of phone screens: whole days up to this, then a page


@dataclass
class SearchDay:
    day: date
    candidates: list[Candidate]


@dataclass
class SearchResult:
    days: list[SearchDay]
    watched_session_ids: set[int]
    watch_count: int
    start: date
    end: date
    later_from: date | None = None
    earlier_from: date | None = None

    @property
    def bookable_count(self) -> int:
        return sum(1 for d in self.days for c in d.candidates if c.bookable)

    @property
    def full_count(self) -> int:
        return sum(1 for d in self.days for c in d.candidates if c.only_full)


_WATCHED = Shape(
    lambda student_id: SessionWatch.objects.filter(
        student_id=student_id, state__in=SessionWatch.WAITING
    ).values_list("session_id", flat=True)
)


def _matches(session: Session, tz, *, weekday: int | None, time_of_day: str) -> bool:
    local = session.starts_at.astimezone(tz)
    if weekday is not None and local.weekday() != weekday:
        return False
    if time_of_day:
        start, end = TIMES_OF_DAY[time_of_day]
        if local.time() < start or (end is not None and local.time() >= end):
            return False
    return True


def makeup_search(
    *,
    credit: MakeupCredit,
    now: datetime,
    tz,
    date_from: date | None = None,
    date_to: date | None = None,
    weekday: int | None = None,
    time_of_day: str = "",
    moving: MakeupBooking | None = None,
    company: Company | None = None,
    partner_ids: list[int] | None = None,
) -> SearchResult:
    """The sessions a parent is offered for ``credit`` (MKP-1…MKP-7 through the one
    eligibility function), at the family's company and at approved partners (FRN-5, FRN-6):
    bookable ones, and full ones that can be watched (BEY-2); sessions
    failing any other rule are left out. Filtered by day, weekday and time of day in the
    company's time zone, grouped by day. Without an end day, one page covers
    :data:`SEARCH_WINDOW_DAYS` days, with the start of the next page. A fixed number of
    queries whatever the company's size. ``moving``: the booked make-up ``credit`` is spent
    on — the sessions it could move to (WAL-2), the same checks with the credit counted as
    free for it. ``company`` (the credit's, with its settings) and ``partner_ids`` (its
    approved partners), when the caller has read them already, are not read again."""
    today = now.astimezone(tz).date()
    start = max(date_from or today, today)
    end = date_to or start + timedelta(days=SEARCH_WINDOW_DAYS - 1)
    last = today + timedelta(days=SEARCH_DAYS_AHEAD)
    if credit.expires_at is not None:
        last = min(last, credit.expires_at.astimezone(tz).date())
    hours = None
    if time_of_day:
        begin, finish = TIMES_OF_DAY[time_of_day]
        hours = (begin.hour, finish.hour if finish is not None else 24)
    # Weekday and time of day are filtered in SQL, and no more sessions are loaded than a
    # page can show (plus one, to know whether the last day is complete).
    filters = {
        "days_ahead": SEARCH_DAYS_AHEAD,
        "date_from": start,
        "date_to": end,
        "offered_only": True,
        "weekday": weekday,
        "local_hours": hours,
        "limit": SEARCH_MAX_SESSIONS + 1,
        "moving": moving,
    }
    # The family's own company and every approved partner branch, in one list (FRN-6).
    candidates = makeup_candidates(credit=credit, now=now, company=company, **filters)
    partner = partner_candidates(credit=credit, now=now, partner_ids=partner_ids, **filters)
    if partner:
        candidates = sorted(
            candidates + partner, key=lambda c: (c.session.starts_at, c.session.pk)
        )[: SEARCH_MAX_SESSIONS + 1]
    cut_day = None
    if len(candidates) > SEARCH_MAX_SESSIONS:
        cut_day = candidates[-1].session.local_date
        whole_days = [c for c in candidates if c.session.local_date < cut_day]
        if whole_days:
            candidates = whole_days
        else:  # one very busy day: show it, the next page starts the day after
            cut_day += timedelta(days=1)
    days: dict[date, list[Candidate]] = {}
    for candidate in candidates:
        if not (candidate.bookable or candidate.only_full):
            continue
        if not _matches(candidate.session, tz, weekday=weekday, time_of_day=time_of_day):
            continue
        days.setdefault(candidate.session.local_date, []).append(candidate)
    shown: list[SearchDay] = []
    count, cut = 0, None
    for day, offered in days.items():
        if shown and count + len(offered) > SEARCH_MAX_SESSIONS:
            cut = day
            break
        shown.append(SearchDay(day=day, candidates=offered))
        count += len(offered)
    watched = set(_WATCHED(student_id=credit.holder_student.pk))
    paged = date_to is None
    later = end + timedelta(days=1) if paged and end < last else None
    cut = min(d for d in (cut, cut_day) if d is not None) if (cut or cut_day) else None
    if cut is not None:
        later, end = cut, cut - timedelta(days=1)
    return SearchResult(
        days=shown,
        watched_session_ids=watched,
        watch_count=len(watched),
        start=start,
        end=min(end, last),
        later_from=later,
        earlier_from=(
            max(start - timedelta(days=SEARCH_WINDOW_DAYS), today)
            if paged and start > today
            else None
        ),
    )
