"""What bookings adds to the back office's Today page (DAY-2): today's sessions with their roll
call, and the families the balance gate blocks. Registered with ``makeup.hooks`` in
``BookingsConfig.ready()``."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.hooks import TodayItem, TodayRow
from makeup.models import Company
from programmes.models import Session

from ..models import Attendance, AttendanceState, MakeupBooking
from .account import blocked_families
from .sessions import sessions_with_counts

SESSIONS_ANCHOR = "today-sessions"


def _count(queryset) -> Coalesce:
    """The number of ``queryset``'s rows per session (``OuterRef("pk")``), zero when none."""
    counted = queryset.order_by().values("session").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@dataclass
class RollCall:
    """Where the roll call of one session stands at ``now``: ``students`` regulars expected
    and make-up ``guests``, ``marked`` of them with a state recorded (anything but
    expected)."""

    session: Session
    students: int
    guests: int
    marked: int
    started: bool

    @property
    def to_mark(self) -> int:
        return self.students + self.guests

    @property
    def cancelled(self) -> bool:
        return self.session.cancelled_at is not None

    @property
    def taken(self) -> bool:
        return self.to_mark > 0 and self.marked >= self.to_mark

    @property
    def overdue(self) -> bool:
        """Started, not cancelled, and somebody's state is still not recorded."""
        return self.started and not self.cancelled and self.marked < self.to_mark

    @property
    def status(self) -> str:
        if self.cancelled:
            return _("Cancelled")
        if self.to_mark == 0:
            return _("No students")
        if self.taken:
            return _("Roll call taken")
        if self.marked:
            return _("Roll call: {marked} of {total} marked").format(
                marked=self.marked, total=self.to_mark
            )
        if self.started:
            return _("Started, roll call not taken")
        return _("Not started")


def roll_calls(*, company: Company, user, now: datetime) -> list[RollCall]:
    """Today's sessions of ``company`` (its time zone's day of ``now``) with their roll call,
    the ones ``user`` teaches first, then by start time. One query for any number of
    sessions: regulars expected (enrolled on the day), make-up guests booked, and how many of
    either have a state recorded."""
    today = timezone.localdate(now, timezone=company.tzinfo)
    active_on_day = Q(enrolment__start_date__lte=OuterRef("local_date")) & (
        Q(enrolment__withdrawn_from__isnull=True)
        | Q(enrolment__withdrawn_from__gt=OuterRef("local_date"))
    )
    regulars_marked = _count(
        Attendance.objects.filter(session=OuterRef("pk"))
        .filter(active_on_day)
        .exclude(state=AttendanceState.EXPECTED)
    )
    booked = MakeupBooking.objects.filter(session=OuterRef("pk"), state=MakeupBooking.State.BOOKED)
    sessions = sessions_with_counts(
        Session.objects.filter(company=company, local_date=today)
    ).annotate(
        regulars_marked=regulars_marked,
        guests=_count(booked),
        guests_marked=_count(booked.exclude(attendance_state=AttendanceState.EXPECTED)),
    )
    calls = [
        RollCall(
            session=session,
            students=session.enrolled,
            guests=session.guests,
            marked=session.regulars_marked + session.guests_marked,
            started=session.starts_at <= now,
        )
        for session in sessions.order_by("starts_at", "pk")
    ]
    mine = getattr(user, "pk", None)
    calls.sort(key=lambda call: call.session.klass.instructor_id != mine)  # stable: by time
    return calls


def _row(call: RollCall, *, user) -> TodayRow:
    klass = call.session.klass
    note = " · ".join(
        part
        for part in (
            klass.location,
            klass.instructor.get_full_name() if klass.instructor else "",
            ngettext("{n} student", "{n} students", call.to_mark).format(n=call.to_mark),
        )
        if part
    )
    return TodayRow(
        title=klass.name,
        url=reverse("manage:session_detail", args=[call.session.pk]),
        starts_at=call.session.starts_at,
        ends_at=call.session.ends_at,
        note=note,
        status=call.status,
        flag=call.overdue,
        done=call.taken or call.cancelled or call.to_mark == 0,
        highlight=klass.instructor_id is not None and klass.instructor_id == user.pk,
    )


def today_sessions(*, company: Company, user, now: datetime) -> list[TodayItem]:
    """The day's sessions as a list (each linking to its attendance view), and, as a to-do,
    the ones that have started without their roll call taken."""
    calls = roll_calls(company=company, user=user, now=now)
    overdue = [call for call in calls if call.overdue]
    if len(overdue) == 1:
        overdue_url = reverse("manage:session_detail", args=[overdue[0].session.pk])
    else:
        overdue_url = f"#{SESSIONS_ANCHOR}"
    return [
        TodayItem(
            key="roll_call",
            title=ngettext(
                "session started without its roll call",
                "sessions started without their roll call",
                len(overdue),
            ),
            count=len(overdue),
            url=overdue_url,
            tone="danger",
            done_title=_("Every started session has its roll call"),
        ),
        TodayItem(
            key="sessions",
            title=ngettext("Today's session", "Today's sessions", len(calls)),
            count=len(calls),
            url=f"{reverse('manage:session_calendar')}?{urlencode({'view': 'day'})}",
            tone="info",
            done_title=_("No sessions today"),
            rows=[_row(call, user=user) for call in calls],
            agenda=True,
            anchor=SESSIONS_ANCHOR,
        ),
    ]


def today_blocked_families(*, company: Company, user, now: datetime) -> TodayItem | None:
    """Families the balance gate blocks now (BAL-2), counted in one query; nothing while the
    gate is off."""
    if not company.settings.balance_gate_active:
        return None
    count = blocked_families(company=company, now=now).count()
    return TodayItem(
        key="blocked_families",
        title=ngettext(
            "family blocked by an unpaid balance",
            "families blocked by an unpaid balance",
            count,
        ),
        count=count,
        url=f"{reverse('manage:family_list')}?{urlencode({'blocked': 1})}",
        tone="warning",
        done_title=_("No family is blocked by an unpaid balance"),
    )
