"""Make-up eligibility (MKP-1…MKP-7, CRD-4, WAL-2, CLO-5): the one function the portal, the
staff pages and the booking service all use. For a student's credit and candidate sessions it
returns every check, passed or failed, with the figures behind it (MKP-12)."""

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractHour
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import (
    Enrolment,
    MakeupBooking,
    Student,
)
from bookings.services.places import row_count
from credits.models import CreditState, MakeupCredit, SessionWatch
from makeup.dbplans import planned_for_its_values
from makeup.formats import local_datetime
from makeup.models import Company
from makeup.shapes import Shape
from programmes.models import Closure, Session, age_in_months
from programmes.selectors import MapEntry, accepting_programme_ids, credit_map
from programmes.selectors.closures import (
    ClosureCalendar,
    closed_sessions_q,
    closure_calendars,
    closures_for_sessions,
)

from .. import hooks

# What the checks and the parent's search list read of a session, its class and programme.
SEARCH_FIELDS = (
    "company_id",
    "klass_id",
    "starts_at",
    "ends_at",
    "local_date",
    "cancelled_at",
    "places_taken",
    "one_off",
    "klass__name",
    "klass__location",
    "klass__min_age_months",
    "klass__max_age_months",
    "klass__capacity",
    "klass__start_date",
    "klass__price_per_session",
    "klass__allow_makeups",
    "klass__extra_makeup_capacity",
    "klass__extra_capacity_mode",
    "klass__programme_id",
    "klass__programme__name",
    "klass__programme__code",
    "klass__programme__makeups_enabled",
)

# Rules staff may override with a recorded reason (MKP-11); capacity never.
PORTAL_ONLY_RULES = {"MKP-5"}


# What people read for each check: a plain title, never the rule code (DAY-4).
RULE_TITLES = {
    "CRD-1": gettext_lazy("The student's own credit"),
    "CRD-4": gettext_lazy("Credit usable"),
    "MKP-1": gettext_lazy("Programme"),
    "MKP-2": gettext_lazy("Age on the day"),
    "MKP-3": gettext_lazy("Class takes make-ups"),
    "MKP-4": gettext_lazy("Price for one session"),
    "MKP-5": gettext_lazy("Lead time before the class starts"),
    "MKP-6": gettext_lazy("Date, expiry, not already in"),
    "MKP-7": gettext_lazy("Places"),
    "FRN-1": gettext_lazy("Partner company"),
    "FRN-2": gettext_lazy("Partner's programme takes make-ups"),
    "FRN-3": gettext_lazy("Partner's terms"),
    "CLO-5": gettext_lazy("School open that day"),
}


@dataclass(frozen=True)
class Check:
    """One rule's verdict and the sentence saying why. ``message`` is the sentence, or a
    function writing it: the parent's search evaluates hundreds of checks and shows none of
    their sentences, so those with dates and figures are written only when read."""

    rule: str
    passed: bool
    message: str | Callable[[], str] = field(compare=False)

    @property
    def text(self) -> str:
        return str(self.message() if callable(self.message) else self.message)

    @property
    def overridable(self) -> bool:
        return self.rule in PORTAL_ONLY_RULES

    @property
    def title(self) -> str:
        """The check's name for people (the rule code stays in the code)."""
        return RULE_TITLES.get(self.rule, gettext_lazy("Check"))


@dataclass
class Candidate:
    session: Session
    checks: list[Check] = field(default_factory=list)
    places_left: int = 0

    @property
    def bookable(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def reasons(self) -> list[str]:
        return [c.text for c in self.failed]

    @property
    def only_full(self) -> bool:
        """Everything passes but capacity: the session can be watched (BEY-2)."""
        return bool(self.failed) and all(c.rule == "MKP-7" for c in self.failed)


def with_occupancy(
    sessions: QuerySet[Session],
    *,
    now: datetime | None = None,
    with_company: bool = True,
    guests: bool = False,
) -> QuerySet[Session]:
    """Sessions with what MKP-7 reads: their places taken are a column kept exact by every
    write (``bookings.services.places``); this adds ``offered_to``, the student a place is
    offered to (WAL-5, at most one open offer per session), whose place is held for them
    until the offer ends. ``now``: an offer past its end by then holds nothing (without it,
    every open offer holds its place until it is passed on). ``guests``: also count the
    booked make-up guests (``makeups``)."""
    offers = SessionWatch.objects.filter(session=OuterRef("pk"), state=SessionWatch.State.OFFERED)
    if now is not None:
        offers = offers.filter(offer_expires_at__gt=now)
    related = ("klass__programme", "company__settings") if with_company else ("klass__programme",)
    sessions = sessions.select_related(*related).annotate(
        offered_to=Subquery(offers.order_by("pk").values("student_id")[:1]),
    )
    if guests:
        booked = MakeupBooking.objects.filter(
            session=OuterRef("pk"), state=MakeupBooking.State.BOOKED
        )
        sessions = sessions.annotate(makeups=row_count(booked, "session"))
    return sessions


def session_held(session: Session, student: Student | None = None) -> bool:
    """WAL-5: a place of ``session`` (annotated by :func:`with_occupancy`) is held for an
    offer to another student than ``student`` (the one offered sees it free)."""
    return session.offered_to is not None and (student is None or session.offered_to != student.pk)


def session_places(session: Session, student: Student | None = None) -> tuple[int, int]:
    """MKP-7 for a session annotated by :func:`with_occupancy`: the places taken (regulars
    of the day, minus those who cancelled, plus make-up guests, plus a place held for
    another student's open offer, WAL-5) and the limit (the class's capacity plus its extra
    places for make-ups)."""
    klass = session.klass
    limit = klass.capacity + klass.extra_capacity(session.company.settings.makeup_extra_capacity)
    held = 1 if session_held(session, student) else 0
    return session.places_taken + held, limit


def _months(months: int) -> str:
    years, rest = divmod(months, 12)
    if rest:
        return _("{years} y {months} m").format(years=years, months=rest)
    return _("{years} y").format(years=years)


def moves_with(credit: MakeupCredit, moving: MakeupBooking | None) -> bool:
    """WAL-2: ``credit`` is the one spent on ``moving``, the booked make-up being moved — it
    goes along with it, so for that move it counts as free (still within its expiry)."""
    return (
        moving is not None
        and credit.state == CreditState.USED
        and credit.booking_id == moving.pk
        and moving.state == MakeupBooking.State.BOOKED
    )


def credit_checks(
    *,
    credit: MakeupCredit,
    student: Student,
    now: datetime,
    tz,
    moving: MakeupBooking | None = None,
) -> list[Check]:
    """The credit itself: the student's own — earned by them, or given to them by a sibling
    (WAL-1) —, available, not past its expiry (CRD-4). Spent on
    ``moving`` (a make-up being moved, WAL-2), it counts as available for the move."""
    own = credit.holder_student.pk == student.pk
    moved = moves_with(credit, moving)
    usable = (
        credit.expires_at is None or credit.expires_at > now if moved else credit.is_usable(now)
    )
    if moved and usable:
        text = (
            _("The credit moves with the make-up; it is valid until {date}.").format(
                date=local_datetime(credit.expires_at, tz)
            )
            if credit.expires_at
            else _("The credit moves with the make-up; it has no expiry.")
        )
    elif moved:
        text = _("The credit expired on {date}.").format(date=local_datetime(credit.expires_at, tz))
    elif credit.state != CreditState.AVAILABLE:
        text = _("The credit is {state}.").format(state=credit.get_state_display().lower())
    elif not usable:
        text = _("The credit expired on {date}.").format(date=local_datetime(credit.expires_at, tz))
    elif credit.expires_at:
        text = _("The credit is available until {date}.").format(
            date=local_datetime(credit.expires_at, tz)
        )
    else:
        text = _("The credit is available with no expiry.")
    return [
        Check(
            "CRD-1",
            own,
            _("The credit is this student's.")
            if own
            else _("The credit belongs to another student."),
        ),
        Check("CRD-4", usable, text),
    ]


def credit_entries(*, credit: MakeupCredit, sessions) -> dict[int, list[MapEntry]]:
    """WAL-3: the "also accepts credits from" lists of the programmes of ``sessions`` other
    than the credit's own — one query, none when every session is of the credit's programme."""
    home = credit.enrolment.klass.programme_id
    return credit_map(
        programme_ids={s.klass.programme_id for s in sessions if s.klass.programme_id != home}
    )


def programme_check(
    *, session: Session, credit: MakeupCredit, entries: dict[int, list[MapEntry]] | None
) -> Check:
    """MKP-1 with the level map (WAL-3): the session's programme is the credit's, or lists
    it among the programmes it also accepts credits from — and the check names that entry.
    At a partner branch the programmes match by code (FRN-4): the host's programme has the
    credit's programme code, or lists a programme with that code."""
    programme = session.klass.programme
    home_programme = credit.enrolment.klass.programme
    if entries is None:
        entries = credit_entries(credit=credit, sessions=[session])
    listed = entries.get(programme.pk, [])
    if session.company_id == credit.company_id:
        if programme.pk == home_programme.pk:
            return Check(
                "MKP-1",
                True,
                lambda: _("Same programme ({programme}).").format(programme=programme.name),
            )
        entry = next((e for e in listed if e.entry_id == home_programme.pk), None)
        if entry is not None:
            return Check(
                "MKP-1",
                True,
                lambda: _("{programme} also accepts credits from {entry}.").format(
                    programme=programme.name, entry=entry.name
                ),
            )
        return Check(
            "MKP-1",
            False,
            lambda: _("Another programme: the credit is for {programme}.").format(
                programme=home_programme.name
            ),
        )
    # a partner's class: the programmes match by their shared code (FRN-4)
    code = home_programme.code
    if code and programme.code == code:
        return Check(
            "MKP-1",
            True,
            lambda: _(
                "Linked programme: {programme} at {company} has the same code ({code})."
            ).format(programme=programme.name, company=session.company.name, code=programme.code),
        )
    entry = next((e for e in listed if code and e.code == code), None)
    if entry is not None:
        return Check(
            "MKP-1",
            True,
            lambda: _(
                "Linked programme: {programme} at {company} also accepts credits from its "
                "{entry}, which has the credit's code ({code})."
            ).format(
                programme=programme.name,
                company=session.company.name,
                entry=entry.name,
                code=code,
            ),
        )
    return Check(
        "MKP-1",
        False,
        lambda: _(
            "{programme} at {company} has code {code}, the credit's programme {home_code}."
        ).format(
            programme=programme.name,
            company=session.company.name,
            code=programme.code,
            home_code=code or _("(no code)"),
        ),
    )


def session_checks(
    *,
    session: Session,
    credit: MakeupCredit,
    student: Student,
    now: datetime,
    busy_session_ids: set[int],
    closure: Closure | None,
    entries: dict[int, list[MapEntry]] | None = None,
) -> tuple[list[Check], int]:
    """MKP-1…MKP-7 and CLO-5 for one session annotated by :func:`with_occupancy`. Returns the
    checks and the places left for make-ups. ``entries``: the level map of the sessions'
    programmes (:func:`credit_entries`), read here for this one session when not given;
    ``closure``: the closure covering the session, if any
    (:func:`programmes.selectors.closures.closures_for_sessions`)."""
    klass, programme = session.klass, session.klass.programme
    tz = session.company.tzinfo
    settings = session.company.settings
    checks: list[Check] = []
    checks.append(programme_check(session=session, credit=credit, entries=entries))
    age = age_in_months(student.date_of_birth, session.local_date)
    lo, hi = klass.min_age_months, klass.max_age_months
    fits = (lo is None or age >= lo) and (hi is None or age <= hi)
    checks.append(
        Check(
            "MKP-2",
            fits,
            lambda: _("{name} will be {age} on {date}; the class is for {ages}.").format(
                name=student.first_name,
                age=_months(age),
                date=date_format(session.local_date, "DAY_MONTH_FORMAT"),
                ages=klass.age_range_label(),
            ),
        )
    )
    allowed = klass.allow_makeups and programme.makeups_enabled
    checks.append(
        Check(
            "MKP-3",
            allowed,
            lambda: (
                _("The class takes make-ups.")
                if allowed
                else (
                    _("The class takes no make-up bookings.")
                    if not klass.allow_makeups
                    else _("Make-ups are off for {programme}.").format(programme=programme.name)
                )
            ),
        )
    )
    priced = klass.price_per_session is not None
    checks.append(
        Check(
            "MKP-4",
            priced,
            lambda: (
                _("The class has a price for one session.")
                if priced
                else _("The class is sold only as a whole course.")
            ),
        )
    )
    lead = settings.makeup_lead_days
    opens = datetime.combine(klass.start_date - timedelta(days=lead), time(0), tzinfo=tz)
    open_now = now >= opens
    checks.append(
        Check(
            "MKP-5",
            open_now,
            lambda: _(
                "Offered for make-ups from {opens} ({days} days before the class starts on "
                "{start})."
            ).format(
                opens=local_datetime(opens, tz),
                days=lead,
                start=date_format(klass.start_date, "DAY_FORMAT"),
            ),
        )
    )
    if session.starts_at <= now:
        checks.append(Check("MKP-6", False, _("The session has already started.")))
    elif session.cancelled_at is not None:
        checks.append(Check("MKP-6", False, _("The session is cancelled.")))
    elif credit.expires_at is not None and session.starts_at > credit.expires_at:
        checks.append(
            Check(
                "MKP-6",
                False,
                lambda: _("It starts after the credit expires ({date}).").format(
                    date=local_datetime(credit.expires_at, tz)
                ),
            )
        )
    elif session.pk in busy_session_ids:
        checks.append(
            Check(
                "MKP-6",
                False,
                lambda: _("{name} is already in this session.").format(name=student.first_name),
            )
        )
    else:
        checks.append(
            Check(
                "MKP-6",
                True,
                lambda: _("Starts {date}, before the credit expires.").format(
                    date=local_datetime(session.starts_at, tz)
                ),
            )
        )
    checks.append(closure_check(closure))
    extra = klass.extra_capacity(settings.makeup_extra_capacity)
    taken, limit = session_places(session, student)
    left = max(limit - taken, 0)
    held = session_held(session, student)

    def places() -> str:
        text = _("{taken} of {limit} places taken ({capacity} + {extra} for make-ups).").format(
            taken=taken, limit=limit, capacity=klass.capacity, extra=extra
        )
        if held:
            text += " " + _(
                "One of them is offered to a family on the watch list until they answer."
            )
        return text

    checks.append(Check("MKP-7", left > 0, places))
    return checks, left


def closure_check(closure: Closure | None) -> Check:
    """CLO-5: a closed day is never offered — whoever asks, and the booking service refuses
    it. Nobody books past it (it is not a portal-only rule)."""
    if closure is None:
        return Check("CLO-5", True, _NO_CLOSURE)
    return Check("CLO-5", False, lambda: _("Closed: {name}").format(name=closure.name))


_NO_CLOSURE = gettext_lazy("No closure then.")


_BOOKED_SINCE = Shape(
    lambda student_id, since: MakeupBooking.objects.filter(
        student_id=student_id, state=MakeupBooking.State.BOOKED, session__starts_at__gte=since
    ).values_list("session_id", flat=True)
)
_STUDENT_ENROLMENTS = Shape(
    lambda student_id: Enrolment.objects.filter(student_id=student_id).values_list(
        "klass_id", "start_date", "withdrawn_from"
    )
)


def busy_sessions(*, student: Student, sessions: list[Session]) -> set[int]:
    """Ids among ``sessions`` the student is already in: enrolled that day, or booked."""
    if not sessions:
        return set()
    ids = {s.pk for s in sessions}
    # The student's make-ups from the first of these sessions on (a few), then those among them.
    since = min(s.starts_at for s in sessions)
    booked = set(_BOOKED_SINCE(student_id=student.pk, since=since)) & ids
    enrolments = _STUDENT_ENROLMENTS(student_id=student.pk)
    for session in sessions:
        for klass_id, start, withdrawn in enrolments:
            if (
                klass_id == session.klass_id
                and start <= session.local_date
                and (withdrawn is None or session.local_date < withdrawn)
            ):
                booked.add(session.pk)
    return booked


def session_company_allowed(*, credit: MakeupCredit, company_id: int) -> bool:
    """A credit is spent only on a session of its own company or of an approved partner of
    it (FRN-1, FRN-5); without the franchise app, only its own company's."""
    if company_id == credit.company_id:
        return True
    return company_id in hooks.partner_companies(credit.company_id)


def _partner_checks(credit, sessions, now) -> dict[int, list[Check]]:
    others = [s for s in sessions if s.company_id != credit.company_id]
    if not others:
        return {}
    checks = hooks.partner_rules(credit=credit, sessions=others, now=now)
    if checks is None:  # no franchise app: another company's session is never offered
        refused = Check("FRN-1", False, _("The session belongs to another company."))
        return {s.pk: [refused] for s in others}
    return checks


def evaluate(
    *,
    student: Student,
    credit: MakeupCredit,
    sessions: list[Session],
    now: datetime,
    moving: MakeupBooking | None = None,
    calendars: dict[int, ClosureCalendar] | None = None,
) -> list[Candidate]:
    """Every check for each of ``sessions`` (annotated by :func:`with_occupancy`), with the
    partner rules for another company's sessions (FRN-1…FRN-5: every MKP rule on the host's
    class as well) and the host company's closures (CLO-5). ``moving``: the booked make-up
    ``credit`` is spent on, to be moved to one of ``sessions`` (WAL-2) — the same checks, the
    credit counting as free for it. ``calendars``: closure calendars already read, by company
    id (the others are read here, once for all the sessions)."""
    busy = busy_sessions(student=student, sessions=sessions)
    entries = credit_entries(credit=credit, sessions=sessions)  # WAL-3, read once
    closures = closures_for_sessions(sessions, calendars)
    partner = _partner_checks(credit, sessions, now)
    candidates = []
    credit_part: dict[int, list[Check]] = {}  # the same for every session of a company
    for session in sessions:
        checks = credit_part.get(session.company_id)
        if checks is None:
            checks = credit_checks(
                credit=credit, student=student, now=now, tz=session.company.tzinfo, moving=moving
            )
            credit_part[session.company_id] = checks
        more, left = session_checks(
            session=session,
            credit=credit,
            student=student,
            now=now,
            busy_session_ids=busy,
            entries=entries,
            closure=closures[session.pk],
        )
        more += partner.get(session.pk, [])
        candidates.append(Candidate(session=session, checks=checks + more, places_left=left))
    return candidates


def _home_programmes(programme_id: int) -> Q:
    """The credit's own programme and those that also take its credits (WAL-3)."""
    return Q(klass__programme_id=programme_id) | Q(
        klass__programme_id__in=accepting_programme_ids(programme_id=programme_id)
    )


def _sessions_to_search(
    *,
    programmes: Q,
    closed: Q | None,
    company_id: int,
    now: datetime,
    until: datetime,
    first,
    last,
    offered_only: bool,
    weekday: int | None,
    local_hours: tuple[int, int] | None,
    tzname: str,
    limit: int | None,
    youngest: int = 0,
    oldest: int = 0,
) -> QuerySet[Session]:
    """The sessions :func:`makeup_candidates` checks, soonest first (see there)."""
    sessions = Session.objects.filter(
        programmes,
        company_id=company_id,
        starts_at__gt=now,
        starts_at__lte=until,
        local_date__gte=first,
        local_date__lte=last,
        cancelled_at__isnull=True,
        klass__archived_at__isnull=True,
    )
    if closed is not None:
        sessions = sessions.exclude(closed)
    if offered_only:
        sessions = sessions.filter(
            klass__allow_makeups=True,
            klass__programme__makeups_enabled=True,
            klass__price_per_session__isnull=False,
        ).filter(
            Q(klass__min_age_months__isnull=True) | Q(klass__min_age_months__lte=oldest),
            Q(klass__max_age_months__isnull=True) | Q(klass__max_age_months__gte=youngest),
        )
    if weekday is not None:
        sessions = sessions.filter(local_date__iso_week_day=weekday + 1)
    if local_hours is not None:
        sessions = sessions.annotate(
            local_hour=ExtractHour("starts_at", tzinfo=zoneinfo.ZoneInfo(tzname))
        ).filter(local_hour__gte=local_hours[0], local_hour__lt=local_hours[1])
    sessions = with_occupancy(sessions, now=now, with_company=False).order_by("starts_at", "pk")
    if offered_only:
        # The parent's search reads only what the checks and the list need.
        sessions = sessions.only(*SEARCH_FIELDS)
    return sessions[:limit] if limit else sessions


# The usual search: the credit's own programmes, no closure in its days (issue 20).
_HOME_SESSIONS = Shape(
    lambda programme_id, **values: _sessions_to_search(
        programmes=_home_programmes(programme_id), closed=None, **values
    ),
    fixed=("offered_only", "weekday", "local_hours", "tzname", "limit"),
)


def makeup_candidates(
    *,
    credit: MakeupCredit,
    now: datetime,
    days_ahead: int = 56,
    date_from=None,
    date_to=None,
    offered_only: bool = False,
    weekday: int | None = None,
    local_hours: tuple[int, int] | None = None,
    limit: int | None = None,
    host: Company | None = None,
    programme_ids: list[int] | None = None,
    moving: MakeupBooking | None = None,
    company: Company | None = None,
) -> list[Candidate]:
    """The make-up search for one credit (the busiest query in the product): future sessions
    of the credit's programme — and of the programmes that also accept its credits (WAL-3) —
    up to its expiry (or ``days_ahead``), with every check, for the student who holds it
    (WAL-1). A fixed number of queries however many classes and sessions the company has.

    ``offered_only`` (the parent's search) leaves out in SQL the classes that can never be
    offered to this student — no make-ups, no per-session price, ages that can't fit in the
    search's dates — so a big company's search doesn't load sessions it would only discard;
    the exact checks still run on what is left. Staff pages keep every session, with why.
    ``weekday`` (0 = Monday) and ``local_hours`` ([start, end) hours in the company's zone)
    filter in SQL too; ``limit`` caps the sessions loaded, soonest first.

    ``host`` and ``programme_ids`` search a partner company's linked programmes instead of
    the credit's own (the franchise app does, with scoping lifted, FRN-5). ``moving``: the
    booked make-up the credit is spent on, for the sessions it could move to (WAL-2).
    ``company``: the credit's company with its settings, when the caller has it loaded.

    A session the company's closures cover is never offered, to parents or to staff (CLO-5):
    it is left out in SQL, like a cancelled one (the calendar is read once, before the
    sessions); "why isn't this session offered?" names the closure."""
    student = credit.holder_student
    # One company for every row: loaded once and attached, not joined per session.
    if host is not None:
        company = host
    elif company is None or company.pk != credit.company_id:
        company = Company.objects.select_related("settings").get(pk=credit.company_id)
    until = now + timedelta(days=days_ahead)
    if credit.expires_at is not None:
        until = min(until, credit.expires_at)
    tz = company.tzinfo
    # The local days searched: from today (or the filter's first day) to the last day before
    # the credit expires (or the filter's last day). Sessions after ``now`` and up to
    # ``until`` are on those days anyway; the dates also bound the closures read.
    first, last = now.astimezone(tz).date(), until.astimezone(tz).date()
    if date_from:
        first = max(first, date_from)
    if date_to:
        last = min(last, date_to)
    calendar = closure_calendars([company], first, last + timedelta(days=1))[company.pk]
    closed = closed_sessions_q(calendar, tz)
    values = {"company_id": company.pk, "now": now, "until": until, "first": first, "last": last}
    if offered_only:
        youngest = age_in_months(student.date_of_birth, now.astimezone(tz).date())
        oldest = age_in_months(student.date_of_birth, until.astimezone(tz).date())
        if host is not None:  # another zone may be a day off: the exact check runs below
            youngest, oldest = youngest - 1, oldest + 1
        values |= {"youngest": youngest, "oldest": oldest}
    shape = {
        "offered_only": offered_only,
        "weekday": weekday,
        "local_hours": local_hours,
        "tzname": company.timezone if local_hours is not None else "",
        "limit": limit,
    }
    with planned_for_its_values():  # soonest first up to a page: see makeup.dbplans
        if programme_ids is None and closed is None:
            # The usual search (its own programmes, nothing closed): compiled once.
            home = credit.enrolment.klass.programme_id
            sessions = _HOME_SESSIONS(programme_id=home, **shape, **values)
        else:
            if programme_ids is None:
                programmes = _home_programmes(credit.enrolment.klass.programme_id)
            else:
                programmes = Q(klass__programme_id__in=programme_ids)
            sessions = list(
                _sessions_to_search(programmes=programmes, closed=closed, **shape, **values)
            )
    for session in sessions:
        session.company = company
    return evaluate(
        student=student,
        credit=credit,
        sessions=sessions,
        now=now,
        moving=moving,
        calendars={company.pk: calendar},
    )
