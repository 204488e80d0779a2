"""A programme's cancellation policy, and POL-1: is a client cancellation on time? In the
company's time zone, DST-safe. And the policy page's example sentence."""

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from makeup.shapes import Shape
from programmes.models import WEEKDAYS, Programme, Session

from ..models import CancellationPolicy, PolicyMode


def policy_for(programme: Programme) -> CancellationPolicy:
    """The programme's policy, created with the defaults on first read if it has none yet."""
    policy = _POLICY.first(programme_id=programme.pk)
    if policy is None:
        policy = CancellationPolicy.objects.create(
            company_id=programme.company_id, programme=programme
        )
    return policy


def cutoff_instant(
    policy: CancellationPolicy, session: Session, cutoffs: list | None = None
) -> datetime:
    """The last instant a cancellation of ``session`` is on time (aware, UTC).

    *Hours before*: the session start minus N real hours. *Weekly cut-off*: the wall-clock
    time on the given weekday before the lesson, in the company's zone — so "Monday 20:00"
    stays 20:00 local across a daylight-saving change. A lesson weekday missing from the
    table falls back to the hours-before rule. ``cutoffs`` replaces the saved table (the
    policy simulator tries a draft before it is saved).
    """
    if policy.mode == PolicyMode.WEEKLY_CUTOFF:
        tz = session.company.tzinfo
        local_start = session.starts_at.astimezone(tz)
        for rule in cutoffs if cutoffs is not None else policy.weekly_cutoffs.all():
            if rule.lesson_weekday == local_start.weekday():
                day = local_start.date() - timedelta(days=rule.days_before())
                local_cutoff = datetime.combine(day, rule.cutoff_time, tzinfo=tz)
                if rule.days_before() == 0 and local_cutoff > local_start:
                    local_cutoff = local_start
                # Round-trip through UTC: a wall time in a DST gap moves to a real instant.
                return local_cutoff.astimezone(session.starts_at.tzinfo)
    return session.starts_at - timedelta(hours=policy.hours_before)


def is_on_time(*, policy: CancellationPolicy, session: Session, cancelled_at: datetime) -> bool:
    """On time when cancelled at or before the cut-off instant (exactly at it counts)."""
    return cancelled_at <= cutoff_instant(policy, session)


def policy_example(policy, cutoffs: list | None = None) -> str:
    """The sentence on the policy page: what it means for a Tuesday 17:00 lesson."""
    days = [str(name) for _day, name in WEEKDAYS]
    if policy.mode == PolicyMode.WEEKLY_CUTOFF:
        rules = cutoffs if cutoffs is not None else list(policy.weekly_cutoffs.all())
        for rule in rules:
            if rule.lesson_weekday == 1:
                before = (
                    _("the same day") if rule.cutoff_weekday == 1 else days[rule.cutoff_weekday]
                )
                return _("A Tuesday 17:00 lesson cancelled after {before} {time} is late.").format(
                    before=before, time=f"{rule.cutoff_time:%H:%M}"
                )
        return _(
            "Tuesday lessons have no cut-off in the table: they use {hours} hours before."
        ).format(hours=policy.hours_before)
    when = datetime(2026, 1, 6, 17, 0) - timedelta(hours=policy.hours_before)
    return _(
        "A Tuesday 17:00 lesson cancelled after {day} {time} ({hours} hours before) is late."
    ).format(day=days[when.weekday()], time=f"{when:%H:%M}", hours=policy.hours_before)


_POLICY = Shape(
    lambda programme_id: CancellationPolicy.objects.filter(programme_id=programme_id).order_by()[:1]
)
