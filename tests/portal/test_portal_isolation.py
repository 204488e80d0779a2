"""TEN-1 for the portal: a parent gets 404 for every object id of another family, on every
portal URL that takes one. The crawl walks the URL resolver, so a portal URL added later is
covered too; a new kind of id needs a filler in ``FILLERS``."""

from datetime import date, time
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import scope

from bookings.services.payments import PaymentRequest, TestProvider
from makeups.services import makeup_book, watch_create
from tests import factories as f

from .conftest import NOW, add_credit

pytestmark = pytest.mark.django_db


def _portal_routes(patterns=None, namespace=None, keys=()):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        found = keys + tuple(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            yield from _portal_routes(entry.url_patterns, entry.namespace or namespace, found)
        elif isinstance(entry, URLPattern) and namespace == "portal" and entry.name:
            yield f"portal:{entry.name}", tuple(k for k in found if k != "company_slug")


@pytest.fixture
def stranger(pf):
    """Another family of the same company with a lesson, a credit, a make-up and a watch."""
    guardian = f.GuardianFactory(family__company=pf.company, user__email="stranger@x.io")
    enrolment = f.EnrolmentFactory(
        klass=pf.home, student__family=guardian.family, student__date_of_birth=date(2020, 1, 1)
    )
    full = f.SessionFactory(klass=pf.host, local_date=date(2026, 12, 2), local_time=time(16))
    with scope(company=pf.company):
        booking = makeup_book(
            credit=add_credit(enrolment), actor=f.parent_of(enrolment), session=pf.session, now=NOW
        )
        f.EnrolmentFactory.create_batch(2, klass=pf.host, student__date_of_birth=date(2019, 1, 1))
        watch = watch_create(
            credit=add_credit(enrolment), actor=f.parent_of(enrolment), session=full, now=NOW
        )
    return {
        "enrolment_pk": enrolment,
        "session_pk": pf.lesson,
        "credit_pk": add_credit(enrolment),
        "booking_pk": booking,
        "watch_pk": watch,
        "attendance_pk": f.AttendanceFactory(enrolment=enrolment, session=pf.lesson),
        "token": TestProvider.token(
            PaymentRequest(
                family=guardian.family,
                amount=Decimal("10.00"),
                currency="AUD",
                success_url="/",
                cancel_url="/",
            )
        ),
    }


def test_ten_1_every_portal_url_with_an_id_is_404_for_another_family(pf, stranger, login):
    client = login(pf.user)
    checked = []
    for name, keys in _portal_routes():
        if not keys:
            continue
        missing = [k for k in keys if k not in stranger]
        assert not missing, f"{name}: add a filler for {missing}"
        values = {k: getattr(stranger[k], "pk", stranger[k]) for k in keys}
        url = reverse(name, kwargs={"company_slug": "alpha", **values})
        answers = {client.get(url).status_code, client.post(url).status_code}
        assert answers <= {404, 405} and 404 in answers, f"{name}: {answers}"
        checked.append(name)
    assert {"portal:lesson_cancel", "portal:makeup_confirm", "portal:makeup_cancel"} <= set(checked)
