"""How credits plugs into the lower apps: the on-time judgement for attendance (ATT-4), the
credit decision on every attendance change (ATT-5, POL-9) and a default policy for every new
programme."""

from datetime import datetime

from django.db.models.signals import post_save

from programmes.models import Programme, Session

from .models import CancellationPolicy
from .selectors.policies import is_on_time, policy_for
from .services.decisions import credit_decide


def classify_client_cancellation(*, session: Session, cancelled_at: datetime) -> bool:
    """ATT-4: on time or late by the programme's policy (POL-1)."""
    policy = policy_for(session.klass.programme)
    return is_on_time(policy=policy, session=session, cancelled_at=cancelled_at)


def decide_credit(*, attendance, previous_state: str, actor, now: datetime) -> None:
    """Every attendance change re-runs the credit decision (ATT-5, POL-9)."""
    credit_decide(attendance=attendance, actor=actor, now=now)


def _default_policy(sender, instance: Programme, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        CancellationPolicy.objects.create(company_id=instance.company_id, programme=instance)


def connect() -> None:
    post_save.connect(_default_policy, sender=Programme, dispatch_uid="credits.default_policy")
