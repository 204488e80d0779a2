"""The family credit wallet in the back office: admins set a programme's level map and its
"credits can be given to a brother or sister" switch (WAL-3, WAL-1); staff give a credit
from the family page (WAL-1) and see the map on "Why isn't this session offered?" (WAL-3).
The family of ``tests.wallet``."""

import html as htmllib
from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scope

from credits.models import MakeupCredit
from makeup.models import AuditEntry
from programmes.models import Programme
from tests import factories as f
from tests.wallet import NOW, wallet_family


@pytest.fixture
def fam(world):
    with time_machine.travel(NOW, tick=False):
        yield wallet_family(world)


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return htmllib.unescape(response.content.decode())


def _give_url(credit) -> str:
    return reverse("manage:credit_give", args=[credit.pk])


def _family_url(fam) -> str:
    return reverse("manage:family_detail", args=[fam.family.pk])


# --- WAL-3: the programme form and the explainer -------------------------------------------


def test_wal_3_admins_set_the_map_from_the_companys_other_programmes(fam, login, world):
    foreign = f.ProgrammeFactory(company=world.company_b, name="Elsewhere L2", code="SWIM-L2")
    client = login(world.admin_a)
    url = reverse("manage:programme_edit", args=[fam.l4.pk])
    form = _text(client.get(url))
    assert "Also accepts credits from" in form
    assert "credits can be given to a brother or sister" in form.lower()
    assert f'value="{fam.l2.pk}"' in form and f'value="{fam.l3.pk}"' in form
    assert f'name="accepts_credits_from" value="{fam.l4.pk}"' not in form  # not itself
    assert "Elsewhere L2" not in form  # nor another company's
    data = {
        "name": "Swim Level 4",
        "code": "SWIM-L4",
        "description": "",
        "makeups_enabled": "on",
        "accepts_credits_from": [fam.l2.pk, fam.l3.pk],
        "credit_transfer_allowed": "on",
    }
    assert client.post(url, data).status_code == 302
    with scope(company=fam.company):
        saved = Programme.objects.get(pk=fam.l4.pk)
        assert set(saved.accepts_credits_from.all()) == {fam.l2, fam.l3}
        assert saved.credit_transfer_allowed
        # The owners' audit log says who changed what.
        entry = AuditEntry.objects.get(area=AuditEntry.Area.PROGRAMME)
    assert entry.actor == world.admin_a
    assert entry.summary == (
        "Swim Level 4: credits can be given to a brother or sister; also accepts credits from "
        "Swim Level 2, Swim Level 3."
    )
    # Another company's programme can't be slipped in.
    refused = _text(client.post(url, {**data, "accepts_credits_from": [foreign.pk]}))
    assert "Nothing was saved" in refused
    with scope(company=fam.company):
        assert set(Programme.objects.get(pk=fam.l4.pk).accepts_credits_from.all()) == {
            fam.l2,
            fam.l3,
        }


def test_wal_3_the_explainer_shows_the_map_and_the_entry_that_let_the_credit_in(fam, login, world):
    client = login(world.staff_a)
    url = reverse("manage:makeup_explain")
    page = _text(client.get(url, {"credit": fam.credit.pk, "session": fam.l3_host.pk}))
    assert "Swim Level 3 also accepts credits from: Swim Level 2 (SWIM-L2)" in page
    assert "Swim Level 3 also accepts credits from Swim Level 2." in page  # the check
    other = _text(client.get(url, {"credit": fam.credit.pk, "session": fam.l4_host.pk}))
    assert "Swim Level 4 takes only its own credits" in other
    assert "Another programme: the credit is for Swim Level 2." in other


# --- WAL-1: from the family page -----------------------------------------------------------


def test_wal_1_staff_give_a_credit_from_the_family_page(fam, login, world):
    client = login(world.staff_a)
    family = _text(client.get(_family_url(fam)))
    assert _give_url(fam.credit) in family
    page = _text(client.get(_give_url(fam.credit)))
    assert f'value="{fam.ben.pk}"' in page and f'value="{fam.cleo.pk}"' not in page
    assert "doesn't take credits of Swim Level 2" in page
    response = client.post(_give_url(fam.credit), {"enrolment": fam.ben.pk}, follow=True)
    assert response.redirect_chain[-1][0] == _family_url(fam)
    family = _text(response)
    assert "The credit is now Ben's (15 Dec 2026, 17:00)." in family
    assert "given by Ava on 21 Nov" in family
    assert "Given to a sibling" in family and "Given by Ava to Ben (L3 Sharks)." in family
    with scope(company=fam.company):
        credit = MakeupCredit.objects.get(pk=fam.credit.pk)
        assert (credit.holder_id, credit.enrolment_id) == (fam.ben.pk, fam.ava.pk)


def test_wal_1_staff_see_why_a_credit_cant_be_given(fam, login, world):
    fam.l2.credit_transfer_allowed = False
    fam.l2.save()
    client = login(world.staff_a)
    assert _give_url(fam.credit) not in _text(client.get(_family_url(fam)))
    posted = _text(client.post(_give_url(fam.credit), {"enrolment": fam.ben.pk}))
    assert "Swim Level 2 doesn't allow giving credits to a brother or sister." in posted
    with scope(company=fam.company):
        assert MakeupCredit.objects.get(pk=fam.credit.pk).holder_id == fam.ava.pk


def test_ten_1_wal_1_another_companys_staff_get_404(fam, login, world):
    client = login(world.staff_b)
    assert client.get(_give_url(fam.credit)).status_code == 404
    assert client.post(_give_url(fam.credit), {"enrolment": fam.ben.pk}).status_code == 404
    assert login(world.parent_a).get(_give_url(fam.credit)).status_code in (302, 403, 404)


def test_wal_1_the_staff_give_page_costs_the_same_queries_for_2_and_6_children(
    fam, login, world, page_queries
):
    client = login(world.staff_a)
    few, _ = page_queries(client, _give_url(fam.credit))
    for n in range(4):
        f.EnrolmentFactory(
            klass=fam.l3_class if n % 2 else fam.l4_class,
            student__family=fam.family,
            student__first_name=f"Kid{n}",
            student__date_of_birth=date(2017, 1, 1),
        )
    many, _ = page_queries(client, _give_url(fam.credit))
    assert few == many, (few, many)
