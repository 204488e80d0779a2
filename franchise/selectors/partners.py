"""Make-ups across companies (FRN-1…FRN-7): the named functions that read another company's
data. With :func:`franchise.selectors.reports.partner_report` (FRN-8), these are the only
places scoping is lifted for franchise reads; each function filters by an approved link and
by the ids it was given, and returns only what the asking side may see.

``partner_rules``, ``approved_partner_ids`` and ``guest_contacts`` are registered with the
lower apps' hooks in :meth:`franchise.apps.FranchiseConfig.ready`.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scopes_disabled

from bookings.models import Guardian, MakeupBooking
from credits.models import CancellationPolicy, MakeupCredit
from credits.selectors.policies import cutoff_instant
from makeup.models import Company
from makeup.shapes import Shape
from makeups.selectors.eligibility import (
    Candidate,
    Check,
    evaluate,
    makeup_candidates,
    with_occupancy,
)
from programmes.models import Programme, Session

from ..models import CompanyLink, IncomingRestriction


def approved_partner_ids(company_id: int) -> list[int]:
    """Companies with an approved link to ``company_id`` (FRN-1), either side invited."""
    ids = set()
    for inviter, invitee in _APPROVED_LINKS(company_id=company_id):
        ids.add(invitee if inviter == company_id else inviter)
    ids.discard(None)
    return sorted(ids)


_APPROVED_LINKS = Shape(
    lambda company_id: (
        CompanyLink.objects.filter(state=CompanyLink.State.APPROVED)
        .filter(Q(inviter_id=company_id) | Q(invitee_id=company_id))
        .values_list("inviter_id", "invitee_id")
    )
)


def _credit_partner_ids(credit: MakeupCredit) -> list[int]:
    """The credit's company's approved partners, read once per credit instance: the search
    evaluates every partner's sessions with the same credit (a booking reloads the credit
    under its lock, so it reads the links afresh)."""
    cached = getattr(credit, "_approved_partner_ids", None)
    if cached is None:
        cached = credit._approved_partner_ids = approved_partner_ids(credit.company_id)
    return cached


def _restrictions(host_ids, partner_id: int) -> dict[int, IncomingRestriction]:
    with scopes_disabled():
        rows = IncomingRestriction.objects.filter(
            company_id__in=host_ids, partner_id=partner_id
        ).prefetch_related("programmes")
        return {r.company_id: r for r in rows}


def partner_rules(*, credit: MakeupCredit, sessions: list[Session], now: datetime):
    """FRN-1…FRN-3 for sessions of other companies than the credit's, registered with the
    eligibility function (so the portal, the staff pages and the booking service all run
    them). A fixed number of queries for any number of sessions."""
    home = credit.company_id
    partners = set(_credit_partner_ids(credit))
    hosts = {s.company_id for s in sessions}
    restrictions = _restrictions(hosts & partners, home)
    with scopes_disabled():
        guests = dict(
            MakeupBooking.objects.filter(
                session_id__in=[s.pk for s in sessions],
                home_company_id=home,
                state=MakeupBooking.State.BOOKED,
            )
            .values("session_id")
            .annotate(n=Count("pk"))
            .values_list("session_id", "n")
        )
    result: dict[int, list[Check]] = {}
    for session in sessions:
        host = session.company
        programme = session.klass.programme
        if session.company_id not in partners:
            result[session.pk] = [
                Check(
                    "FRN-1",
                    False,
                    _("%(host)s is not a linked partner company.") % {"host": host.name},
                )
            ]
            continue
        checks = [Check("FRN-1", True, _("%(host)s is a linked partner.") % {"host": host.name})]
        takes = programme.accept_partner_makeups
        checks.append(
            Check(
                "FRN-2",
                takes,
                (
                    _("%(programme)s at %(host)s takes make-ups from partner companies.")
                    if takes
                    else _("%(programme)s at %(host)s takes no make-ups from other companies.")
                )
                % {"programme": programme.name, "host": host.name},
            )
        )
        terms = restrictions.get(session.company_id)
        if terms is not None:
            allowed = {p.pk for p in terms.programmes.all()}
            if allowed and programme.pk not in allowed:
                checks.append(
                    Check(
                        "FRN-3",
                        False,
                        _("%(host)s takes your families' make-ups only in other programmes.")
                        % {"host": host.name},
                    )
                )
            if terms.max_guests_per_session is not None:
                taken = guests.get(session.pk, 0)
                cap = terms.max_guests_per_session
                checks.append(
                    Check(
                        "FRN-3",
                        taken < cap,
                        # English says "places" for any number; Czech needs its plural forms.
                        ngettext(
                            "%(taken)s of %(cap)s places for guests from partner branches taken.",
                            "%(taken)s of %(cap)s places for guests from partner branches taken.",
                            cap,
                        )
                        % {"taken": taken, "cap": cap},
                    )
                )
            if terms.max_days_ahead is not None:
                horizon = now + timedelta(days=terms.max_days_ahead)
                checks.append(
                    Check(
                        "FRN-3",
                        session.starts_at <= horizon,
                        ngettext(
                            "%(host)s takes guests at most %(days)s days ahead.",
                            "%(host)s takes guests at most %(days)s days ahead.",
                            terms.max_days_ahead,
                        )
                        % {"host": host.name, "days": terms.max_days_ahead},
                    )
                )
        result[session.pk] = checks
    return result


def partner_candidates(
    *, credit: MakeupCredit, now: datetime, partner_ids: list[int] | None = None, **filters
) -> list[Candidate]:
    """FRN-6: the credit's make-up options at every approved partner — sessions of their
    programmes with the credit's programme code, or that also accept credits from one of
    theirs with that code (WAL-3), and the switch on (FRN-2, FRN-4), inside the partner's
    incoming restrictions — with every check on the host's class (FRN-5).
    ``filters`` are those of :func:`makeups.selectors.eligibility.makeup_candidates`;
    ``partner_ids``: the credit's company's :func:`approved_partner_ids`, when the caller has
    read them already."""
    code = credit.enrolment.klass.programme.code
    partners = _credit_partner_ids(credit) if partner_ids is None else partner_ids
    if not code or not partners:
        return []
    restrictions = _restrictions(partners, credit.company_id)
    found: list[Candidate] = []
    with scopes_disabled():
        programmes = defaultdict(list)
        matching = Q(code=code) | Q(
            pk__in=Programme.accepts_credits_from.through.objects.filter(
                to_programme__code=code
            ).values("from_programme_id")
        )
        for programme in Programme.objects.filter(
            matching,
            company_id__in=partners,
            accept_partner_makeups=True,
            archived_at__isnull=True,
        ):
            terms = restrictions.get(programme.company_id)
            allowed = {p.pk for p in terms.programmes.all()} if terms else set()
            if not allowed or programme.pk in allowed:
                programmes[programme.company_id].append(programme.pk)
        companies = Company.objects.select_related("settings").in_bulk(list(programmes))
        days_ahead = filters.pop("days_ahead", 56)
        for company_id, programme_ids in programmes.items():
            days = days_ahead
            terms = restrictions.get(company_id)
            if terms is not None and terms.max_days_ahead is not None:
                days = min(days, terms.max_days_ahead)
            found += makeup_candidates(
                credit=credit,
                now=now,
                host=companies[company_id],
                programme_ids=programme_ids,
                days_ahead=days,
                **filters,
            )
    found.sort(key=lambda c: (c.session.starts_at, c.session.pk))
    return found


# --- one make-up at a partner: the session and its checks (booking and cancelling are
# makeups.services.makeup_book / makeup_cancel, the one entry point for any session) -----


def makeup_session(*, credit: MakeupCredit, session_pk: int) -> Session | None:
    """The session ``session_pk`` if it is the credit's company's or an approved partner's
    (else ``None``, answered 404 by the views)."""
    companies = [credit.company_id, *_credit_partner_ids(credit)]
    with scopes_disabled():
        session = _SESSION.first(session_id=session_pk)
    return session if session is not None and session.company_id in companies else None


_SESSION = Shape(
    lambda session_id: Session.objects.filter(pk=session_id).select_related(
        "klass__programme", "company__settings"
    )
)


def makeup_check(*, credit: MakeupCredit, session: Session, now: datetime) -> Candidate:
    """Every check for one session, fresh, at home or at a partner."""
    with scopes_disabled():
        fresh = with_occupancy(Session.objects.filter(pk=session.pk), now=now).get()
        return evaluate(student=credit.holder_student, credit=credit, sessions=[fresh], now=now)[0]


def family_partner_makeups(
    *, family, now: datetime, with_cutoffs: bool = False
) -> list[MakeupBooking]:
    """FRN-7, the home side: the family's upcoming make-ups booked at partners — the partner
    and the session, nothing else of the host's. With ``with_cutoffs``, each also carries
    ``cancel_by``: the last instant a cancellation gets the credit back, by the host
    programme's policy (CRD-3; the host's defaults where it has saved none). One query, three
    with the cut-offs when there are bookings."""
    with scopes_disabled():
        bookings = list(
            _family_makeups(family.company_id, family.pk, now).exclude(company_id=family.company_id)
        )
    if with_cutoffs:
        partner_cutoffs(bookings)
    return bookings


def family_makeups_everywhere(
    *, family, now: datetime
) -> tuple[list[MakeupBooking], list[MakeupBooking]]:
    """The family's upcoming booked make-ups at home, and at partners with their
    ``cancel_by`` (as :func:`family_partner_makeups` with the cut-offs), read in one query:
    the portal's home page lists both."""
    with scopes_disabled():
        bookings = _FAMILY_MAKEUPS(company_id=family.company_id, family_id=family.pk, now=now)
    home = [b for b in bookings if b.company_id == family.company_id]
    away = [b for b in bookings if b.company_id != family.company_id]
    partner_cutoffs(away)
    return home, away


def _family_makeups(company_id: int, family_id: int, now: datetime):
    """The family's booked make-ups still ahead, wherever they are (scoping lifted by the
    caller: the rows are found through the family's own company and children)."""
    return (
        MakeupBooking.objects.filter(
            home_company_id=company_id,
            student__family_id=family_id,
            state=MakeupBooking.State.BOOKED,
            session__starts_at__gt=now,
        )
        .select_related("session__klass__programme", "session__company")
        .order_by("session__starts_at", "pk")
    )


_FAMILY_MAKEUPS = Shape(_family_makeups)


def partner_cutoffs(bookings: list[MakeupBooking]) -> None:
    """Set ``cancel_by`` on make-ups booked at partners: the host programme's cut-off (CRD-3;
    the host's defaults where it has saved none). One query for their policies, none
    without bookings."""
    if not bookings:
        return
    programmes = {b.session.klass.programme for b in bookings}
    with scopes_disabled():
        policies = {
            p.programme_id: p
            for p in CancellationPolicy.objects.filter(
                programme_id__in=[p.pk for p in programmes]
            ).prefetch_related("weekly_cutoffs")
        }
    for booking in bookings:
        programme = booking.session.klass.programme
        policy = policies.get(programme.pk) or CancellationPolicy(
            company_id=programme.company_id, programme=programme
        )
        booking.cancel_by = cutoff_instant(policy, booking.session)


def family_partner_booking(*, family, booking_pk: int) -> MakeupBooking | None:
    """One of the family's make-ups at a partner (to cancel it from the portal, FRN-7)."""
    with scopes_disabled():
        return (
            MakeupBooking.objects.filter(
                pk=booking_pk, home_company_id=family.company_id, student__family=family
            )
            .exclude(company_id=family.company_id)
            .select_related("session__klass", "session__company", "student")
            .first()
        )


def guest_contacts(*, bookings: list[MakeupBooking]) -> dict[int, list[Guardian]]:
    """FRN-7, the host side: the parents' names, e-mails and phones of make-up guests from
    partner branches, per student — only for the guests of the host's own sessions that it
    was given (registered with the attendance view)."""
    families = {
        (b.home_company_id, b.student.family_id)
        for b in bookings
        if b.home_company_id != b.company_id
    }
    if not families:
        return {}
    with scopes_disabled():
        rows = Guardian.objects.filter(
            Q(*[Q(company_id=c, family_id=f) for c, f in families], _connector=Q.OR)
        ).only("family_id", "full_name", "email", "phone")
        by_family = defaultdict(list)
        for guardian in rows:
            by_family[guardian.family_id].append(guardian)
    return {b.student_id: by_family.get(b.student.family_id, []) for b in bookings}
