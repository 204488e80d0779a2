"""A programme's cancellation policy: saving it with its weekly cut-off table (POL-1…POL-6,
POL-11, WAL-4)."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from makeup.audit import audit_record
from makeup.errors import DomainError
from makeup.models import AuditEntry

from ..models import CancellationPolicy, PolicyMode, TermEndCredits, WeeklyCutoff


@transaction.atomic
def policy_update(
    *, policy: CancellationPolicy, values: dict, cutoffs: list[dict], now: datetime, actor=None
) -> CancellationPolicy:
    """Save a programme's cancellation policy and its weekly cut-off table (POL-1…POL-6,
    POL-11, WAL-4). A weekly-cut-off policy needs at least one row; lesson weekdays without a
    row fall back to hours-before.

    Every rule of a policy holds here, whoever calls: each field's own, and those across
    fields (:meth:`CancellationPolicy.clean`: days for a validity in days, both or neither
    of the rolling window, instructions when late portal cancellations are refused, extra
    days when unused credits carry into the next term), which refuse with a
    ``ValidationError`` keyed by field (the policy page shows each on its field)."""
    policy = CancellationPolicy.objects.select_for_update().get(pk=policy.pk)
    rows = [c for c in cutoffs if c.get("cutoff_weekday") is not None and c.get("cutoff_time")]
    if values.get("mode") == PolicyMode.WEEKLY_CUTOFF and not rows:
        raise DomainError(_("A weekly cut-off policy needs a cut-off for at least one weekday."))
    for field, value in values.items():
        setattr(policy, field, value)
    # The rules across fields first, so a half-filled window is refused on its field
    # rather than as the database constraint behind it.
    policy.full_clean(validate_constraints=False)
    policy.validate_constraints()
    policy.save()
    WeeklyCutoff.objects.filter(policy=policy).delete()
    WeeklyCutoff.objects.bulk_create(
        [
            WeeklyCutoff(
                company_id=policy.company_id,
                policy=policy,
                lesson_weekday=row["lesson_weekday"],
                cutoff_weekday=row["cutoff_weekday"],
                cutoff_time=row["cutoff_time"],
            )
            for row in rows
        ]
    )
    audit_record(
        company_id=policy.company_id,
        actor=actor,
        now=now,
        area=AuditEntry.Area.POLICY,
        summary=_summary(policy),
    )
    return policy


def _summary(policy: CancellationPolicy) -> str:
    """The audit log's line for a saved policy (in the actor's language)."""
    summary = _("Policy of %(programme)s saved: %(mode)s, %(hours)s hours before.") % {
        "programme": policy.programme.name,
        "mode": policy.get_mode_display(),
        "hours": policy.hours_before,
    }
    if policy.term_end_credits != TermEndCredits.CARRY:
        return summary
    if policy.carry_max_credits:
        carry = _(
            "Unused credits move to the next term with %(days)s more days, at most %(limit)s "
            "per class."
        ) % {"days": policy.carry_extra_days, "limit": policy.carry_max_credits}
    else:
        carry = _("Unused credits move to the next term with %(days)s more days.") % {
            "days": policy.carry_extra_days
        }
    return f"{summary} {carry}"
