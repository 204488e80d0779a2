"""TEN-1: staff of company B get 404 for company A's objects on every back-office URL.

The crawl walks Django's URL resolver, so every ``/manage/`` URL added later is covered
without touching this file — except that a URL with an object id the crawl does not know how
to fill makes it fail: add a filler to ``FILLERS`` for the new kwarg.
"""

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests import factories as f


@dataclass
class Route:
    name: str
    kwargs: tuple[str, ...]


def _walk(patterns, namespace: str | None, converters: tuple[str, ...]) -> Iterator[Route]:
    for entry in patterns:
        keys = converters + tuple(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if namespace and entry.namespace:
                ns = f"{namespace}:{entry.namespace}"
            yield from _walk(entry.url_patterns, ns, keys)
        elif isinstance(entry, URLPattern) and entry.name:
            full = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(full, keys)


def manage_routes() -> list[Route]:
    return [r for r in _walk(get_resolver().url_patterns, None, ()) if r.name.startswith("manage:")]


# kwarg name -> function(company, filled) giving one of ``company``'s objects; ``filled``
# holds the objects made so far for the same URL, so related ids fit together (an
# enrolment of the session's class). A filler may create rows.


_guardians = itertools.count()


def _enrolment(company, filled):
    session = filled.get("session_pk")
    if session is not None:
        return f.EnrolmentFactory(klass=session.klass, start_date=session.local_date)
    return f.EnrolmentFactory(klass__programme__company=company)


FILLERS: dict[str, Callable] = {
    "company_id": lambda company, filled: company,
    "programme_pk": lambda company, filled: f.ProgrammeFactory(company=company),
    "class_pk": lambda company, filled: f.ClassFactory(programme__company=company),
    "session_pk": lambda company, filled: f.SessionFactory(klass__programme__company=company),
    "family_pk": lambda company, filled: f.FamilyFactory(company=company),
    "student_pk": lambda company, filled: f.StudentFactory(family__company=company),
    "guardian_pk": lambda company, filled: f.GuardianFactory(
        family__company=company, user=None, email=f"invitee{next(_guardians)}@example.com"
    ),
    "enrolment_pk": _enrolment,
    "decision_pk": lambda company, filled: _decision(company),
    "credit_pk": lambda company, filled: _credit(company),
    "booking_pk": lambda company, filled: _makeup_booking(company, filled),
    "watch_pk": lambda company, filled: _watch(company),
    "link_pk": lambda company, filled: _franchise_link(company, state="pending"),
    "partner_id": lambda company, filled: _franchise_link(company, state="approved").inviter,
    "token": lambda company, filled: _invitation_token(company),
    "claim_pk": lambda company, filled: _absence_claim(company),
    "import_pk": lambda company, filled: f.FamilyImportFactory(company=company),
    "closure_pk": lambda company, filled: _closure(company),
    "key_pk": lambda company, filled: _api_key(company),
    "endpoint_pk": lambda company, filled: _webhook_endpoint(company),
    "delivery_pk": lambda company, filled: _webhook_delivery(company, filled),
}


def _api_key(company):
    """An API key of ``company`` (API-1), made by a new owner of it."""
    from api.models import ApiKey

    owner = f.MembershipFactory(company=company, role="owner").user
    return ApiKey.objects.create(
        company=company,
        name="crawl",
        prefix=f"crawl{next(_guardians)}",
        key_hash="0" * 64,
        created_by=owner,
        created_at=timezone.now(),
    )


def _webhook_endpoint(company):
    """A webhook endpoint of ``company`` (API-4)."""
    from api.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(
        company=company,
        url="https://hooks.example.com/",
        events=["credit.issued"],
        secret="whsec_crawl",
        created_at=timezone.now(),
    )


def _webhook_delivery(company, filled):
    """A delivery to the endpoint of the same URL (API-4)."""
    from api.models import WebhookDelivery

    endpoint = filled.get("endpoint_pk") or _webhook_endpoint(company)
    return WebhookDelivery.objects.create(
        company=company,
        endpoint=endpoint,
        event_id=f"evt_crawl{next(_guardians)}",
        event="credit.issued",
        key=f"crawl:{next(_guardians)}",
        payload={},
        created_at=timezone.now(),
    )


def _closure(company):
    """A closure of ``company`` next month (CLO-1)."""
    from datetime import timedelta

    from programmes.models import Closure

    day = timezone.localdate(timezone=company.tzinfo) + timedelta(days=30)
    return Closure.objects.create(
        company=company,
        name="Pool maintenance",
        first_day=day,
        last_day=day,
        created_at=timezone.now(),
    )


def _franchise_link(company, *, state):
    """A link from a new company to ``company``."""

    from franchise.models import CompanyLink

    return CompanyLink.objects.create(
        inviter=f.CompanyFactory(),
        invitee=company,
        invitee_email=company.contact_email,
        state=state,
        created_at=timezone.now(),
    )


def _invitation_token(company):
    """The e-mailed token of a pending invitation to ``company`` (``pk`` is what the URL
    takes)."""
    from types import SimpleNamespace

    from franchise.services import link_invitation_token

    return SimpleNamespace(pk=link_invitation_token(_franchise_link(company, state="pending")))


def _credit(company, enrolment=None):

    from credits.models import MakeupCredit

    enrolment = enrolment or f.EnrolmentFactory(klass__programme__company=company)
    now = timezone.now()
    return MakeupCredit.objects.create(
        company=company,
        enrolment=enrolment,
        path="manual",
        reason="crawl",
        issued_at=now,
        state_changed_at=now,
    )


def _makeup_booking(company, filled):
    """A make-up guest of the session being filled (or of a new session)."""
    from bookings.models import MakeupBooking

    session = filled.get("session_pk") or f.SessionFactory(klass__programme__company=company)
    home = f.EnrolmentFactory(klass__programme=session.klass.programme)
    return MakeupBooking.objects.create(
        company=company,
        home_company=company,
        session=session,
        student=home.student,
        enrolment=home,
        source="staff",
        booked_at=session.starts_at,
    )


def _watch(company):
    from credits.models import SessionWatch

    credit = _credit(company)
    session = f.SessionFactory(klass__programme=credit.enrolment.klass.programme)
    return SessionWatch.objects.create(
        company=company,
        session=session,
        student=credit.enrolment.student,
        credit=credit,
        created_at=session.starts_at,
    )


def _decision(company):
    from credits.models import CreditDecision

    attendance = f.AttendanceFactory(enrolment__klass__programme__company=company)
    return CreditDecision.objects.create(
        company=company,
        attendance=attendance,
        attendance_state="no_show",
        reason="no_show",
        message="No credit",
        decided_at=attendance.session.starts_at,
        needs_attention=True,
    )


def _absence_claim(company):
    from credits.models import AbsenceClaim

    attendance = f.AttendanceFactory(enrolment__klass__programme__company=company)
    return AbsenceClaim.objects.create(
        company=company,
        attendance=attendance,
        claimed_at=attendance.session.starts_at,
        recorded_state="no_show",
        cutoff_at=attendance.session.starts_at,
    )


def _fill(route: Route, company) -> dict:
    filled: dict = {}
    for key in route.kwargs:
        filled[key] = FILLERS[key](company, filled)
    return {key: obj.pk for key, obj in filled.items()}


def test_ten_1_every_manage_url_with_an_id_has_a_filler():
    routes = manage_routes()
    assert routes, "the resolver walk found no back-office URL"
    unknown = {(r.name, k) for r in routes for k in r.kwargs if k not in FILLERS}
    assert not unknown, (
        "Back-office URLs take ids the isolation crawl cannot fill; add them to FILLERS in "
        f"tests/makeup/test_isolation_crawl.py: {sorted(unknown)}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("linked", [False, True], ids=["strangers", "approved-partners"])
def test_ten_1_other_companys_ids_answer_404_on_every_manage_url(world, login, linked):
    """Also between linked partner companies (FRN-7): a link shares make-up places, not
    families, credits or enrolments."""
    if linked:
        from django.utils import timezone

        from franchise.models import CompanyLink

        CompanyLink.objects.create(
            inviter=world.company_b,
            invitee=world.company_a,
            invitee_email="owner@alpha.example",
            state=CompanyLink.State.APPROVED,
            created_at=timezone.now(),
        )
    client = login(world.owner_b)  # the highest role, so only tenancy can refuse
    routes = [r for r in manage_routes() if r.kwargs]
    assert routes, "no back-office URL with an id found"
    checked = []
    for route in routes:
        foreign = reverse(route.name, kwargs=_fill(route, world.company_a))
        own = reverse(route.name, kwargs=_fill(route, world.company_b))
        for method in ("get", "post"):
            response = getattr(client, method)(foreign)
            assert response.status_code in (404, 405), (
                f"{method.upper()} {foreign} ({route.name}) answered {response.status_code} to "
                "another company's owner"
            )
        statuses = {getattr(client, m)(foreign).status_code for m in ("get", "post")}
        assert 404 in statuses, f"{foreign} never answered 404"
        # The same URL with the company's own object is found: the 404 above is tenancy,
        # not a filler that builds a broken URL.
        own_statuses = {getattr(client, m)(own).status_code for m in ("get",)}
        if own_statuses == {405}:
            own_statuses = {client.post(own).status_code}
        assert own_statuses.isdisjoint({404, 500}), f"{own} ({route.name}): {own_statuses}"
        checked.append(route.name)
    assert "manage:switch_company" in checked
