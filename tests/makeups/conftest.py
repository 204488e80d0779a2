"""Shared set-up of the make-up tests: one family's child with a credit and a class of the
same programme to make up in."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from django_scopes import scopes_disabled

from bookings.models import Guardian
from credits.services import credit_add_manual
from tests import factories as f

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


def credit_for(enrolment, *, now=NOW):
    """A manual credit for ``enrolment``, valid 30 days from the day before ``now``."""
    return credit_add_manual(
        enrolment=enrolment, reason="test", actor=None, valid_days=30, now=now - timedelta(days=1)
    )


def ava_and_host(world, *, home: str, host: str) -> SimpleNamespace:
    """Ava (born 1 Jun 2020) of the Parker family (``world.parent_a``) enrolled in ``home``;
    ``host``, a class of the same programme for any age with 2 places, and its session on
    Tue 24 Nov. No credit yet: the test adds it inside its scope (:func:`credit_for`)."""
    w = SimpleNamespace(world=world, company=world.company_a, parent=world.parent_a)
    w.programme = f.ProgrammeFactory(company=w.company)
    w.home = f.ClassFactory(programme=w.programme, name=home)
    w.host = f.ClassFactory(
        programme=w.programme, name=host, capacity=2, min_age_months=None, max_age_months=None
    )
    with scopes_disabled():
        w.family = Guardian.objects.get(user=world.parent_a).family
    w.ava = f.EnrolmentFactory(
        klass=w.home,
        student__family=w.family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    w.session = f.SessionFactory(klass=w.host)
    return w
