"""The cancellation policy's rules across fields (POL-3, POL-6, POL-11, WAL-4) are held by
``policy_update`` itself, not only by the policy page's form: a new entry point can't save a
policy the page would refuse. The page still shows each error on its field."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django_scopes import scope

from credits.models import CancellationPolicy
from credits.selectors.policies import policy_for
from credits.services import policy_update
from tests import factories as f

pytestmark = pytest.mark.django_db


NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def policy(world):
    programme = f.ProgrammeFactory(company=world.company_a)
    with scope(company=world.company_a):
        yield policy_for(programme)


def _update(policy, **values):
    return policy_update(policy=policy, values=values, cutoffs=[], actor=None, now=NOW)


def _saved(policy) -> CancellationPolicy:
    return CancellationPolicy.objects.get(pk=policy.pk)


@pytest.mark.parametrize("path", ["on_time", "late", "staff"])
def test_pol_3_policy_update_needs_the_days_of_a_validity_in_days(policy, path):
    with pytest.raises(ValidationError) as refused:
        _update(policy, **{f"{path}_validity": "days", f"{path}_validity_days": None})
    assert refused.value.message_dict == {
        f"{path}_validity_days": ["Enter the number of days, or choose another validity."]
    }
    assert getattr(_saved(policy), f"{path}_validity_days") == 30  # nothing saved
    # Another validity needs no days, and drops any that were given.
    _update(policy, **{f"{path}_validity": "open", f"{path}_validity_days": 45})
    saved = _saved(policy)
    assert getattr(saved, f"{path}_validity") == "open"
    assert getattr(saved, f"{path}_validity_days") is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"window_credits": 2, "window_days": None}, "window_days"),
        ({"window_credits": None, "window_days": 90}, "window_credits"),
    ],
)
def test_pol_6_policy_update_refuses_a_half_filled_rolling_window_on_its_field(
    policy, values, field
):
    with pytest.raises(ValidationError) as refused:
        _update(policy, **values)
    assert refused.value.message_dict == {
        field: ["Set both the number of credits and the days, or neither."]
    }
    assert (_saved(policy).window_credits, _saved(policy).window_days) == (None, None)
    _update(policy, window_credits=2, window_days=90)  # both: saved
    assert (_saved(policy).window_credits, _saved(policy).window_days) == (2, 90)


@pytest.mark.parametrize("instructions", ["", "   \n "])
def test_pol_11_policy_update_needs_instructions_when_late_portal_cancellations_are_refused(
    policy, instructions
):
    with pytest.raises(ValidationError) as refused:
        _update(
            policy,
            portal_late_cancellation="refuse",
            late_cancellation_instructions=instructions,
        )
    assert refused.value.message_dict == {
        "late_cancellation_instructions": [
            "Tell parents what to do instead when the portal refuses."
        ]
    }
    assert _saved(policy).portal_late_cancellation == "allow"
    _update(
        policy,
        portal_late_cancellation="refuse",
        late_cancellation_instructions="Call us on 02 9999 0000.",
    )
    assert _saved(policy).portal_late_cancellation == "refuse"


def test_pol_3_the_policy_page_shows_the_rules_on_their_fields(world, login, policy):
    """The form runs the same rules (the model's) and puts each error on its field."""
    from credits.forms import PolicyForm

    form = PolicyForm(
        {
            "mode": "hours_before",
            "hours_before": "24",
            "on_time_validity": "days",
            "on_time_validity_days": "",
            "on_time_validity_start": "cancellation",
            "late_validity": "term_end",
            "late_validity_days": "14",
            "late_validity_start": "cancellation",
            "staff_validity": "days",
            "staff_validity_days": "30",
            "window_credits": "2",
            "portal_late_cancellation": "refuse",
            "late_cancellation_instructions": " ",
            "term_end_credits": "carry",
        },
        instance=policy,
    )
    assert not form.is_valid()
    assert form.errors == {
        "on_time_validity_days": ["Enter the number of days, or choose another validity."],
        "window_days": ["Set both the number of credits and the days, or neither."],
        "late_cancellation_instructions": [
            "Tell parents what to do instead when the portal refuses."
        ],
        "carry_extra_days": [
            "Enter how many days moved credits get, or let them run out as issued."
        ],
    }


def test_wal_4_policy_update_needs_the_extra_days_when_credits_carry(policy):
    with pytest.raises(ValidationError) as refused:
        _update(policy, term_end_credits="carry", carry_extra_days=None, carry_max_credits=3)
    assert refused.value.message_dict == {
        "carry_extra_days": [
            "Enter how many days moved credits get, or let them run out as issued."
        ]
    }
    assert _saved(policy).term_end_credits == "expire"  # nothing saved
    _update(policy, term_end_credits="carry", carry_extra_days=14, carry_max_credits=3)
    assert (_saved(policy).carry_extra_days, _saved(policy).carry_max_credits) == (14, 3)
    # Letting credits expire as issued drops the carry-over's numbers.
    _update(policy, term_end_credits="expire")
    saved = _saved(policy)
    assert (saved.term_end_credits, saved.carry_extra_days, saved.carry_max_credits) == (
        "expire",
        None,
        None,
    )
