"""WAL-1 in the portal: a parent gives a child's credit to a brother or sister — the page lists
who can use it and why the others can't, the receipts of both children say what happened, and
the receiving child books with it. The family of ``tests.wallet``: Ava (Swim Level 2, which
allows it) with a credit, Ben (Swim Level 3, which accepts Level 2 credits), Cleo (Swim Level
4, which doesn't)."""

import html as htmllib
from datetime import date

import pytest
from django_scopes import scope

from credits.models import CreditState, MakeupCredit
from tests import factories as f
from tests.wallet import wallet_family

HOME = "/portal/alpha/"


@pytest.fixture
def fam(world, frozen):
    return wallet_family(world)


def _give_url(credit) -> str:
    return f"{HOME}credits/{credit.pk}/give/"


def _text(response) -> str:
    return htmllib.unescape(response.content.decode())


def _held_by(credit) -> int:
    with scope(company=credit.company):
        return MakeupCredit.objects.get(pk=credit.pk).holder_id


def test_wal_1_a_parent_gives_a_credit_to_a_sibling_who_can_use_it(fam, login):
    client = login(fam.parent)
    home = _text(client.get(HOME))
    assert _give_url(fam.credit) in home and "Give to a sibling" in home
    page = _text(client.get(_give_url(fam.credit)))
    assert 'name="enrolment"' in page and f'value="{fam.ben.pk}"' in page
    assert f'value="{fam.cleo.pk}"' not in page  # refused, with why
    assert "Cleo · L4 Squad: L4 Squad (Swim Level 4) doesn't take credits of Swim Level 2." in page
    response = client.post(_give_url(fam.credit), {"enrolment": fam.ben.pk}, follow=True)
    assert response.redirect_chain[-1][0] == HOME
    home = _text(response)
    assert "The credit is now Ben's, to use by" in home
    assert _held_by(fam.credit) == fam.ben.pk
    # Ben's side: the credit is listed as his, given by Ava; Ava's side: her missed lesson's
    # receipt says where the credit went.
    credit_line = home[home.index(f'id="credit-{fam.credit.pk}"') :][:900]
    assert "<strong>Ben</strong>" in credit_line and "Given by Ava on 21 Nov" in credit_line
    assert "Given to Ben on Sat 21 Nov 2026, 11:00; it is theirs to use." in home
    # The make-up search picks Ben for it, and books him.
    search = client.get(f"{HOME}makeups/?credit={fam.credit.pk}")
    assert search.context["student"] == fam.ben.student
    booked = client.post(
        f"{HOME}makeups/book/{fam.credit.pk}/{fam.l3_host.pk}/", {"note": ""}, follow=True
    )
    assert booked.status_code == 200
    with scope(company=fam.company):
        credit = MakeupCredit.objects.select_related("booking__student").get(pk=fam.credit.pk)
    assert credit.state == CreditState.USED and credit.booking.student == fam.ben.student


def test_wal_1_the_portal_shows_why_a_credit_cant_be_given(fam, login):
    client = login(fam.parent)
    # To a sibling whose class doesn't take it: refused, the reason shown, nothing moves.
    refused = _text(client.post(_give_url(fam.credit), {"enrolment": fam.cleo.pk}))
    assert "L4 Squad (Swim Level 4) doesn't take credits of Swim Level 2." in refused
    assert _held_by(fam.credit) == fam.ava.pk
    assert "Choose who gets the credit." in _text(client.post(_give_url(fam.credit), {}))
    # The programme doesn't allow it: no link home, the page says why and offers nothing.
    fam.l2.credit_transfer_allowed = False
    fam.l2.save()
    assert _give_url(fam.credit) not in _text(client.get(HOME))
    page = _text(client.get(_give_url(fam.credit)))
    assert "Swim Level 2 doesn't allow giving credits to a brother or sister." in page
    assert 'name="enrolment"' not in page
    posted = _text(client.post(_give_url(fam.credit), {"enrolment": fam.ben.pk}))
    assert "Swim Level 2 doesn't allow giving credits to a brother or sister." in posted
    assert _held_by(fam.credit) == fam.ava.pk


def test_wal_1_no_sibling_can_use_it_says_why(fam, login):
    fam.l3.accepts_credits_from.clear()
    page = _text(login(fam.parent).get(_give_url(fam.credit)))
    assert "None of the brothers and sisters can use this credit:" in page
    assert "Ben · L3 Sharks: L3 Sharks (Swim Level 3) doesn't take credits of" in page


def test_ten_1_wal_1_another_familys_credit_or_child_is_not_reachable(fam, login, world):
    other = f.EnrolmentFactory(klass=fam.l3_class, student__first_name="Olga")
    stranger = f.parent_of(other)
    assert login(stranger).get(_give_url(fam.credit)).status_code == 404
    assert login(stranger).post(_give_url(fam.credit), {"enrolment": other.pk}).status_code == 404
    # The family's own parent can't give it to another family's child.
    response = _text(login(fam.parent).post(_give_url(fam.credit), {"enrolment": other.pk}))
    assert "Choose who gets the credit." in response
    assert _held_by(fam.credit) == fam.ava.pk


def test_wal_1_the_give_page_costs_the_same_queries_for_2_and_6_children(fam, login, page_queries):
    client = login(fam.parent)
    few, _ = page_queries(client, _give_url(fam.credit))
    for n in range(4):
        f.EnrolmentFactory(
            klass=fam.l3_class if n % 2 else fam.l4_class,
            student__family=fam.family,
            student__first_name=f"Kid{n}",
            student__date_of_birth=date(2017, 1, 1),
        )
    many, response = page_queries(client, _give_url(fam.credit))
    assert few == many, (few, many)
    assert len(response.context["choices"].options) == 6
