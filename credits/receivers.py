"""How credits plugs into the lower apps: the on-time judgement for attendance (ATT-4) and a
default policy for every new programme."""

from datetime import datetime

from django.db.models.signals import post_save

from programmes.models import Programme, Session

from .eligibility import FREEING_STATES
from .makeups import makeups_cancel_for_cancelled_session, watch_fill
from .models import CancellationPolicy, SessionWatch
from .policy import is_on_time, policy_for
from .services import credit_decide


def classify_client_cancellation(*, session: Session, cancelled_at: datetime) -> bool:
    """ATT-4: on time or late by the programme's policy (POL-1)."""
    policy = policy_for(session.klass.programme)
    return is_on_time(policy=policy, session=session, cancelled_at=cancelled_at)


def decide_credit(*, attendance, previous_state: str, actor, now: datetime) -> None:
    """Every attendance change re-runs the credit decision (ATT-5, POL-9); a regular who
    cancels frees a place, which the first watcher in line takes (BEY-2)."""
    credit_decide(attendance=attendance, actor=actor, now=now)
    if attendance.state in FREEING_STATES and previous_state not in FREEING_STATES:
        watch_fill(session=attendance.session, now=now)


def cancel_makeups_of_cancelled_session(*, session, reason: str, actor, now: datetime) -> None:
    makeups_cancel_for_cancelled_session(session=session, reason=reason, actor=actor, now=now)


def fill_watches_after_withdrawal(*, enrolment, now: datetime) -> None:
    """A withdrawal frees the student's place in the class's sessions from that day on."""
    sessions = Session.objects.filter(
        klass_id=enrolment.klass_id,
        local_date__gte=enrolment.withdrawn_from,
        starts_at__gt=now,
        watches__state=SessionWatch.State.ACTIVE,
    ).distinct()
    for session in sessions:
        watch_fill(session=session, now=now)


def _default_policy(sender, instance: Programme, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        CancellationPolicy.objects.create(company_id=instance.company_id, programme=instance)


def connect() -> None:
    post_save.connect(_default_policy, sender=Programme, dispatch_uid="credits.default_policy")
