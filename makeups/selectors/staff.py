"""Reads for the staff make-up pages (MKP-10…MKP-12, WAL-2): every check of the one
eligibility function for a credit's sessions (to book a make-up in, or move one to), for a
session's possible guests, and the credits to explain a session with."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, IntegerField, Q, Value, When

from bookings.models import Enrolment, MakeupBooking
from bookings.selectors.search import exact_first, text_match
from credits.models import MakeupCredit
from makeup.models import Company
from makeup.searchtext import parse
from programmes.models import Programme, Session
from programmes.selectors import credit_map
from programmes.selectors.closures import closures_for_sessions

from .eligibility import (
    Candidate,
    Check,
    credit_checks,
    evaluate,
    makeup_candidates,
    session_checks,
    with_occupancy,
)


@dataclass
class StaffCandidate:
    """A session as staff see it for one credit (MKP-11): every check of the eligibility
    function, and whether staff can book it as it is, only with a recorded reason (just
    portal-only rules fail, MKP-5), or not at all (a rule nobody overrides, e.g. capacity)."""

    candidate: Candidate
    credit: MakeupCredit

    @property
    def session(self) -> Session:
        return self.candidate.session

    @property
    def checks(self) -> list[Check]:
        return self.candidate.checks

    @property
    def rows(self) -> list[tuple[str, Check]]:
        """Each check with a short title, for the check tables."""
        return [(c.title, c) for c in self.candidate.checks]

    @property
    def passed(self) -> list[Check]:
        return [c for c in self.candidate.checks if c.passed]

    @property
    def failed(self) -> list[Check]:
        return self.candidate.failed

    @property
    def bookable(self) -> bool:
        return self.candidate.bookable

    @property
    def overridden(self) -> list[Check]:
        """Failed checks staff may book past with a reason."""
        return [c for c in self.candidate.failed if c.overridable]

    @property
    def blocking(self) -> list[Check]:
        """Failed checks that hold for everyone."""
        return [c for c in self.candidate.failed if not c.overridable]

    @property
    def status(self) -> str:
        if self.bookable:
            return "bookable"
        return "blocked" if self.blocking else "override"

    @property
    def places(self) -> str:
        """The capacity check's figures ("5 of 8 places taken …")."""
        return next((c.text for c in self.candidate.checks if c.rule == "MKP-7"), "")


def _one_session(session_id: int, company_id: int, now: datetime) -> Session | None:
    return with_occupancy(
        Session.objects.filter(pk=session_id, company_id=company_id), now=now
    ).first()


def staff_makeup_candidates(
    *,
    credit: MakeupCredit,
    now: datetime,
    session: Session | None = None,
    moving: MakeupBooking | None = None,
) -> list[StaffCandidate]:
    """The staff booking page (MKP-11) and "why isn't this session offered?" (MKP-12): for
    ``credit``, either one chosen ``session`` (any session of the company, offered in the
    portal or not), or the sessions the portal's make-up search considers — each with every
    check the portal runs, from the one eligibility function. ``moving``: the booked make-up
    ``credit`` is spent on, for the staff page that moves it (WAL-2)."""
    if session is not None:
        annotated = _one_session(session.pk, session.company_id, now)
        candidates = evaluate(
            student=credit.holder_student,
            credit=credit,
            sessions=[annotated],
            now=now,
            moving=moving,
        )
    else:
        candidates = makeup_candidates(credit=credit, now=now, moving=moving)
    return [StaffCandidate(candidate=c, credit=credit) for c in candidates]


def makeup_guest_options(*, session: Session, now: datetime) -> list[StaffCandidate]:
    """ "Book a make-up guest" on a session page (MKP-11): every student of the company with a
    usable credit of the session's programme, or of one it also accepts credits from (WAL-3),
    who is not in the session yet (enrolled that day or booked) — the student who holds the
    credit (WAL-1), with their soonest-expiring credit (MKP-9's default) and every check for
    this session, bookable first. The checks are those of
    :func:`makeups.selectors.eligibility.evaluate`, composed the same way but with the "already in
    this session" lookups done once for all students, so the page costs a fixed number of
    queries however many students have credits."""
    annotated = _one_session(session.pk, session.company_id, now)
    programme_id = annotated.klass.programme_id
    entries = credit_map(programme_ids={programme_id})  # WAL-3
    credits = (
        MakeupCredit.objects.usable(now)
        .filter(
            company_id=session.company_id,
            enrolment__klass__programme_id__in=[
                programme_id,
                *(e.entry_id for e in entries.get(programme_id, [])),
            ],
        )
        .select_related(
            "enrolment__student__family", "enrolment__klass__programme", "holder__student__family"
        )
        .order_by(
            "holder__student__first_name",
            "holder__student__last_name",
            "holder__student_id",
            F("expires_at").asc(nulls_last=True),
            "pk",
        )
    )
    soonest: dict[int, MakeupCredit] = {}
    others: dict[int, int] = {}
    for credit in credits:
        student_id = credit.holder.student_id
        if student_id in soonest:
            others[student_id] += 1
        else:
            soonest[student_id], others[student_id] = credit, 0
    ids = list(soonest)
    enrolled = set(
        Enrolment.objects.filter(
            klass_id=annotated.klass_id,
            student_id__in=ids,
            start_date__lte=annotated.local_date,
        )
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=annotated.local_date))
        .values_list("student_id", flat=True)
    )
    booked = set(
        MakeupBooking.objects.filter(
            session_id=annotated.pk, state=MakeupBooking.State.BOOKED, student_id__in=ids
        ).values_list("student_id", flat=True)
    )
    options = []
    tz = annotated.company.tzinfo
    closure = closures_for_sessions([annotated])[annotated.pk]  # the same for every student
    for student_id, credit in soonest.items():
        if student_id in enrolled or student_id in booked:
            continue  # already in the session: not a guest to book
        student = credit.holder.student
        checks = credit_checks(credit=credit, student=student, now=now, tz=tz)
        more, left = session_checks(
            session=annotated,
            credit=credit,
            student=student,
            now=now,
            busy_session_ids=set(),
            entries=entries,
            closure=closure,
        )
        option = StaffCandidate(
            candidate=Candidate(session=annotated, checks=checks + more, places_left=left),
            credit=credit,
        )
        option.other_credits = others[student_id]
        options.append(option)
    order = {"bookable": 0, "override": 1, "blocked": 2}
    options.sort(key=lambda o: order[o.status])
    return options


#: How many credits the "why isn't this session offered?" picker lists at once.
EXPLAIN_CHOICES = 20


@dataclass
class CreditChoices:
    credits: list[MakeupCredit]
    more: bool  # more credits match than are listed


def explain_credit_choices(
    *,
    company: Company,
    programme_id: int | None,
    now: datetime,
    q: str = "",
    limit: int = EXPLAIN_CHOICES,
) -> CreditChoices:
    """The credits staff can pick on "why isn't this session offered?" (MKP-12, DAY-3): the
    company's usable credits whose student — who holds it (WAL-1) — matches ``q`` (name,
    with one typo, accents folded — ``bookings.selectors.search``), those of the session's
    programme or of one it also accepts credits from (WAL-3) first, then by student and
    expiry; at most ``limit``. One query."""
    query = parse(q)
    credits = (
        MakeupCredit.objects.filter(company=company)
        .usable(now)
        .select_related("enrolment__student", "enrolment__klass__programme", "holder__student")
    )
    accepted = Programme.accepts_credits_from.through.objects.filter(
        from_programme_id=programme_id
    ).values("to_programme_id")
    programme_first = (
        Case(
            When(
                Q(enrolment__klass__programme_id=programme_id)
                | Q(enrolment__klass__programme_id__in=accepted),
                then=Value(0),
            ),
            default=Value(1),
            output_field=IntegerField(),
        )
        if programme_id
        else Value(0, output_field=IntegerField())
    )
    order = ["programme_first"]
    if query:
        field = "holder__student__search_text"
        credits = credits.filter(text_match(query, field)).annotate(
            search_rank=exact_first(query, field)
        )
        order.append("search_rank")
    rows = list(
        credits.annotate(programme_first=programme_first).order_by(
            *order,
            "holder__student__first_name",
            "holder__student__last_name",
            F("expires_at").asc(nulls_last=True),
            "pk",
        )[: limit + 1]
    )
    return CreditChoices(credits=rows[:limit], more=len(rows) > limit)
