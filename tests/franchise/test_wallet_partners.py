"""The level map across companies (WAL-3 with FRN-4): a partner's programme takes a credit
when it has the credit's programme code, or lists one of its own programmes with that code.
Ava (Alpha, Swim Level 2, code SWIM-L2) has a credit; Beta, an approved partner, runs "Junior
Squad" (which also accepts credits from its own "Level 2", code SWIM-L2) and "Seniors" (which
accepts only "Level 4" credits). Time: Sat 21 Nov 2026, 11:00 in Sydney."""

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from bookings.models import Guardian
from credits.services import credit_add_manual, credit_transfer
from franchise.models import CompanyLink
from franchise.selectors.partners import makeup_check, partner_candidates
from makeups.services import makeup_book
from tests import factories as f

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


@pytest.fixture
def net(world):
    x = SimpleNamespace(home=world.company_a, host=world.company_b, parent=world.parent_a)
    with scopes_disabled():
        family = Guardian.objects.get(user=world.parent_a).family
    l2 = f.ProgrammeFactory(
        company=x.home, name="Swim Level 2", code="SWIM-L2", credit_transfer_allowed=True
    )
    l3 = f.ProgrammeFactory(company=x.home, name="Swim Level 3", code="SWIM-L3")
    l3.accepts_credits_from.add(l2)
    x.ava = f.EnrolmentFactory(
        klass=f.ClassFactory(programme=l2, name="River Dolphins"),
        student__family=family,
        student__first_name="Ava",
        student__date_of_birth=date(2020, 6, 1),
    )
    x.ben = f.EnrolmentFactory(
        klass=f.ClassFactory(programme=l3, name="River Sharks"),
        student__family=family,
        student__first_name="Ben",
        student__date_of_birth=date(2017, 3, 1),
    )
    # Beta: its own Level 2 takes no guests; Junior Squad (another code) takes its credits.
    beta_l2 = f.ProgrammeFactory(company=x.host, name="Level 2", code="SWIM-L2")
    beta_l4 = f.ProgrammeFactory(company=x.host, name="Level 4", code="SWIM-L4")
    squad = f.ProgrammeFactory(
        company=x.host, name="Junior Squad", code="BETA-JS", accept_partner_makeups=True
    )
    squad.accepts_credits_from.add(beta_l2)
    seniors = f.ProgrammeFactory(
        company=x.host, name="Seniors", code="BETA-SN", accept_partner_makeups=True
    )
    seniors.accepts_credits_from.add(beta_l4)
    any_age = {"min_age_months": None, "max_age_months": None}
    x.squad_session = f.SessionFactory(
        klass=f.ClassFactory(programme=squad, name="Lake Squad", **any_age),
        local_date=date(2026, 11, 25),
        local_time=time(16),
    )
    x.seniors_session = f.SessionFactory(
        klass=f.ClassFactory(programme=seniors, name="Lake Seniors", **any_age),
        local_date=date(2026, 11, 25),
        local_time=time(18),
    )
    CompanyLink.objects.create(
        inviter=x.home,
        invitee=x.host,
        invitee_email="owner@beta.example",
        state=CompanyLink.State.APPROVED,
        created_at=NOW,
    )
    with time_machine.travel(NOW, tick=False), scope(company=x.home):
        x.credit = credit_add_manual(
            enrolment=x.ava, reason="test", actor=None, valid_days=30, now=NOW - timedelta(1)
        )
        yield x


def _programme_check(candidate):
    return next(c for c in candidate.checks if c.rule == "MKP-1")


def test_wal_3_across_companies_the_map_works_on_programme_codes(net):
    found = {c.session.pk: c for c in partner_candidates(credit=net.credit, now=NOW)}
    assert net.seniors_session.pk not in found
    squad = found[net.squad_session.pk]
    assert squad.bookable
    assert _programme_check(squad).text == (
        "Linked programme: Junior Squad at Beta Swim also accepts credits from its Level 2, "
        "which has the credit's code (SWIM-L2)."
    )
    seniors = _programme_check(
        makeup_check(credit=net.credit, session=net.seniors_session, now=NOW)
    )
    assert not seniors.passed and "Seniors at Beta Swim has code BETA-SN" in seniors.text
    booking = makeup_book(credit=net.credit, session=net.squad_session, actor=net.parent, now=NOW)
    assert booking.company_id == net.host.pk and booking.student == net.ava.student


def test_wal_1_a_credit_given_to_a_sibling_is_booked_for_them_at_a_partner(net):
    credit = credit_transfer(credit=net.credit, to_enrolment=net.ben, actor=net.parent, now=NOW)
    candidate = makeup_check(credit=credit, session=net.squad_session, now=NOW)
    assert candidate.bookable
    assert "Ben will be 9 y 8 m" in next(c.text for c in candidate.checks if c.rule == "MKP-2")
    booking = makeup_book(credit=credit, session=net.squad_session, actor=net.parent, now=NOW)
    assert (booking.student, booking.enrolment) == (net.ben.student, net.ben)
