"""How credits plugs into the lower apps: the on-time judgement for attendance (ATT-4), the
credit decision on every attendance change (ATT-5, POL-9) and a default policy for every new
programme."""

from datetime import datetime

from programmes.models import Programme, Session

from .models import CancellationPolicy
from .selectors.policies import is_on_time, policy_for
from .services.decisions import credit_decide, credits_decide_many


def classify_client_cancellation(*, session: Session, cancelled_at: datetime) -> bool:
    """ATT-4: on time or late by the programme's policy (POL-1)."""
    policy = policy_for(session.klass.programme)
    return is_on_time(policy=policy, session=session, cancelled_at=cancelled_at)


def decide_credit(*, attendance, previous_state: str, actor, now: datetime) -> None:
    """Every attendance change re-runs the credit decision (ATT-5, POL-9)."""
    credit_decide(attendance=attendance, actor=actor, now=now)


def decide_credits(*, attendances, previous_states: dict, actor, now: datetime) -> None:
    """The same for many attendances changed together (a whole session cancelled, ATT-7)."""
    credits_decide_many(attendances=attendances, actor=actor, now=now)


def default_policy(*, programme: Programme) -> None:
    """A new programme starts with the default cancellation policy (POL-1), which the admin
    then edits. Programmes made without the service (factories, load data) get theirs from
    :func:`credits.selectors.policies.policy_for` on first use."""
    CancellationPolicy.objects.get_or_create(company_id=programme.company_id, programme=programme)
