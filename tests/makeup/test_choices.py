"""A choice of several rows by id refuses an id no column can hold, as an invalid value: a
60-digit "id" posted to the programme, closure or partner-restriction page used to end in a
server error (SQLite's OverflowError; PostgreSQL's DataError). Found by the hostile-input
test (tests/makeup/test_bad_input.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from franchise.models import CompanyLink
from makeup.choices import MAX_ID, IdsChoiceField, ScopedIdsChoiceField
from programmes.models import Programme
from tests import factories as f

pytestmark = pytest.mark.django_db

HUGE = "9" * 60


@pytest.mark.parametrize("field_class", [IdsChoiceField, ScopedIdsChoiceField])
def test_an_id_too_large_for_a_column_is_an_invalid_value(world, field_class):
    programme = f.ProgrammeFactory(company=world.company_a)
    with scope(company=world.company_a):
        field = field_class(queryset=Programme.objects.all())
        field.queryset = Programme.objects.all()
        for value in ([HUGE], [str(programme.pk), HUGE], [str(MAX_ID + 1)], [f"-{HUGE}"]):
            with pytest.raises(ValidationError) as refused:
                field.clean(value)
            assert refused.value.code == "invalid_pk_value"
        assert list(field.clean([str(programme.pk)])) == [programme]
        with pytest.raises(ValidationError):  # in range, but no such programme
            field.clean([str(MAX_ID)])


def test_the_pages_answer_a_huge_id_with_the_form_not_a_server_error(world, login):
    programme = f.ProgrammeFactory(company=world.company_a, name="Swim Level 2")
    CompanyLink.objects.create(
        inviter=world.company_a,
        invitee=world.company_b,
        invitee_email="owner@beta.example",
        state=CompanyLink.State.APPROVED,
        created_at=timezone.now(),
    )
    client = login(world.owner_a)
    pages = [
        (
            reverse("manage:programme_edit", args=[programme.pk]),
            {"name": "Swim Level 2", "code": "SWIM-L2", "accepts_credits_from": HUGE},
        ),
        (
            reverse("manage:closure_new"),
            {
                "name": "Pool",
                "first_day": "2026-12-20",
                "last_day": "2026-12-21",
                "programmes": HUGE,
            },
        ),
        (
            reverse("manage:franchise_restrictions", args=[world.company_b.pk]),
            {"programmes": HUGE},
        ),
    ]
    for url, data in pages:
        response = client.post(url, data)
        assert response.status_code == 200, url
        forms = [
            value
            for context in response.context
            for value in context.flatten().values()
            if isinstance(value, BaseForm)
        ]
        assert any(HUGE in str(form.errors) for form in forms), url  # "… is not a valid value"
