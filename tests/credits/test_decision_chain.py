"""The decision chain (POL-1…POL-10), credits (CRD-1, CRD-2), ATT-2 and ATT-5, driven through
attendance_set_state exactly as the attendance view does."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from bookings.models import AttendanceState as S
from bookings.models import Enrolment
from bookings.services import attendance_set_state
from credits.models import (
    CancellationPolicy,
    CreditDecision,
    CreditEvent,
    CreditPath,
    CreditState,
    MakeupCredit,
    PolicyMode,
    ValidityKind,
    ValidityStart,
    WeeklyCutoff,
)
from credits.services import credit_add_manual, credit_decide
from makeup.errors import DomainError
from programmes.models import Session
from tests import factories as f

pytestmark = pytest.mark.django_db
SYDNEY_TUESDAY = date(2026, 11, 24)  # 17:00 Sydney = 06:00 UTC


@pytest.fixture
def setup(world):
    klass = f.ClassFactory(programme__company=world.company_a, end_date=date(2026, 12, 15))
    enrolment = f.EnrolmentFactory(klass=klass)
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=klass.programme)
        yield world, klass, enrolment, policy


def _session(klass, day=SYDNEY_TUESDAY, hour=17):
    return f.SessionFactory(klass=klass, local_date=day, local_time=time(hour, 0))


def cancel(enrolment, session, cancelled_at, state=S.CANCELLED, now=None):
    now = now or max(cancelled_at, session.starts_at) + timedelta(hours=2)
    return attendance_set_state(
        enrolment=enrolment, session=session, state=state, cancelled_at=cancelled_at, now=now
    )


def decision(attendance) -> CreditDecision:
    return CreditDecision.objects.filter(attendance=attendance).order_by("-pk").first()


def live_credits(enrolment):
    return MakeupCredit.objects.filter(enrolment=enrolment).exclude(state=CreditState.REVOKED)


# --- POL-1 ---------------------------------------------------------------------------


def test_pol_1_exactly_at_the_cut_off_is_on_time_one_second_after_is_late(setup):
    world, klass, enrolment, policy = setup
    s1, s2, s3 = (_session(klass, SYDNEY_TUESDAY + timedelta(days=7 * i)) for i in range(3))
    a = cancel(enrolment, s1, s1.starts_at - timedelta(hours=24))
    b = cancel(enrolment, s2, s2.starts_at - timedelta(hours=24) + timedelta(seconds=1))
    c = cancel(enrolment, s3, s3.starts_at - timedelta(hours=24) - timedelta(seconds=1))
    assert (a.state, b.state, c.state) == (S.CANCELLED, S.LATE_CANCELLED, S.CANCELLED)
    assert decision(a).reason == "issued" and decision(c).reason == "issued"
    assert decision(b).reason == "late_forfeited"


def test_pol_1_weekly_cut_off_in_the_week_the_clocks_change(setup):
    """Sydney: clocks go forward 02:00 Sun 4 Oct 2026. "A Tuesday lesson is late after 20:00
    on the Monday before" — and a Sunday-evening cut-off for a Monday lesson that week."""
    world, klass, enrolment, policy = setup
    policy.mode = PolicyMode.WEEKLY_CUTOFF
    policy.save()
    WeeklyCutoff.objects.create(
        company=world.company_a,
        policy=policy,
        lesson_weekday=0,
        cutoff_weekday=6,
        cutoff_time=time(20, 0),
    )
    klass.start_date = date(2026, 9, 1)
    klass.save()
    enrolment.start_date = date(2026, 9, 1)
    enrolment.save()
    monday = _session(klass, date(2026, 10, 5), 9)
    tz = world.company_a.tzinfo
    at_cutoff = datetime(2026, 10, 4, 20, 0, tzinfo=tz)
    assert at_cutoff.utcoffset() == timedelta(hours=11)  # already daylight time
    on_time = cancel(enrolment, monday, at_cutoff)
    assert on_time.state == S.CANCELLED
    late = cancel(enrolment, monday, at_cutoff + timedelta(seconds=1))
    assert late.state == S.LATE_CANCELLED


# --- POL-2 ---------------------------------------------------------------------------


def test_pol_2_defaults_on_time_issues_late_forfeits_staff_issues(setup):
    world, klass, enrolment, policy = setup
    s1, s2, s3 = (_session(klass, SYDNEY_TUESDAY + timedelta(days=7 * i)) for i in range(3))
    a = cancel(enrolment, s1, s1.starts_at - timedelta(days=2))
    b = cancel(enrolment, s2, s2.starts_at - timedelta(hours=1))
    c = attendance_set_state(
        enrolment=enrolment,
        session=s3,
        state=S.STAFF_CANCELLED,
        now=s3.starts_at - timedelta(days=1),
    )
    assert [decision(x).reason for x in (a, b, c)] == ["issued", "late_forfeited", "issued"]
    assert sorted(live_credits(enrolment).values_list("path", flat=True)) == ["on_time", "staff"]


def test_pol_2_a_path_mapped_to_no_credit_forfeits(setup):
    world, klass, enrolment, policy = setup
    policy.issue_on_time, policy.issue_staff, policy.issue_late = False, False, True
    policy.save()
    s1, s2, s3 = (_session(klass, SYDNEY_TUESDAY + timedelta(days=7 * i)) for i in range(3))
    a = cancel(enrolment, s1, s1.starts_at - timedelta(days=2))
    b = attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s2, state=S.STAFF_CANCELLED
    )
    c = cancel(enrolment, s3, s3.starts_at - timedelta(hours=1))
    assert [decision(x).reason for x in (a, b, c)] == ["path_forfeited", "path_forfeited", "issued"]


# --- POL-3 / POL-4 -------------------------------------------------------------------


def test_pol_3_validity_days_term_end_or_open(setup):
    world, klass, enrolment, policy = setup
    s1, s2, s3 = (_session(klass, SYDNEY_TUESDAY - timedelta(days=7 * i)) for i in range(3))
    told = s1.starts_at - timedelta(days=2)
    a = cancel(enrolment, s1, told)
    assert decision(a).credit.expires_at == told + timedelta(days=30)
    policy.on_time_validity = ValidityKind.TERM_END
    policy.save()
    b = cancel(enrolment, s2, s2.starts_at - timedelta(days=2))
    # The whole end date counts: expires at midnight after 15 Dec 2026, Sydney time.
    assert decision(b).credit.expires_at == datetime(2026, 12, 16, tzinfo=world.company_a.tzinfo)
    policy.on_time_validity = ValidityKind.OPEN
    policy.save()
    c = cancel(enrolment, s3, s3.starts_at - timedelta(days=2))
    assert decision(c).credit.expires_at is None


def test_pol_4_clock_starts_at_the_cancellation_or_the_lesson(setup):
    """Counted from a cancellation three weeks ahead, 14 days' validity ends before the
    lesson itself; counted from the lesson it ends two weeks after it."""
    world, klass, enrolment, policy = setup
    policy.on_time_validity_days = 14
    policy.save()
    s1, s2 = _session(klass), _session(klass, SYDNEY_TUESDAY + timedelta(days=7))
    told = s1.starts_at - timedelta(weeks=3)
    a = attendance_set_state(
        enrolment=enrolment, session=s1, state=S.CANCELLED, cancelled_at=told, now=told
    )
    assert decision(a).credit.expires_at == told + timedelta(days=14) < s1.starts_at
    policy.on_time_validity_start = ValidityStart.SESSION
    policy.save()
    told2 = s2.starts_at - timedelta(weeks=3)
    b = attendance_set_state(
        enrolment=enrolment, session=s2, state=S.CANCELLED, cancelled_at=told2, now=told2
    )
    assert decision(b).credit.expires_at == s2.starts_at + timedelta(days=14)


def test_pol_4_staff_path_counts_from_issue_in_wall_clock_days(setup):
    """30 days from 20 Sep 2026 10:00 Sydney cross the DST change: still 10:00 local."""
    world, klass, enrolment, policy = setup
    klass.start_date = date(2026, 9, 1)
    klass.save()
    enrolment.start_date = date(2026, 9, 1)
    enrolment.save()
    session = _session(klass, date(2026, 9, 22))
    tz = world.company_a.tzinfo
    issued = datetime(2026, 9, 20, 10, 0, tzinfo=tz)
    a = attendance_set_state(
        enrolment=enrolment, session=session, state=S.STAFF_CANCELLED, now=issued
    )
    expires = decision(a).credit.expires_at.astimezone(tz)
    assert (expires.date(), expires.time()) == (date(2026, 10, 20), time(10, 0))


# --- POL-5 / POL-6 -------------------------------------------------------------------


def test_pol_5_outstanding_cap_counts_only_unused_credits_of_that_path(setup):
    world, klass, enrolment, policy = setup
    policy.on_time_outstanding_cap = 2
    policy.on_time_validity = ValidityKind.OPEN
    policy.save()
    sessions = [_session(klass, SYDNEY_TUESDAY - timedelta(days=7 * i)) for i in range(4)]
    a, b, c = (cancel(enrolment, s, s.starts_at - timedelta(days=2)) for s in sessions[:3])
    assert [decision(x).reason for x in (a, b)] == ["issued", "issued"]
    refused = decision(c)
    assert refused.reason == "outstanding_cap"
    assert {k: refused.figures[k] for k in ("outstanding", "cap")} == {"outstanding": 2, "cap": 2}
    assert refused.message == "No credit: 2 of 2 unused on-time credits already."
    # A used credit no longer counts: the next one is issued.
    MakeupCredit.objects.filter(pk=decision(a).credit.pk).update(state=CreditState.USED)
    d = cancel(enrolment, sessions[3], sessions[3].starts_at - timedelta(days=2))
    assert decision(d).reason == "issued"


def test_pol_6_rolling_window_counts_used_credits_and_not_staff_or_manual(setup):
    world, klass, enrolment, policy = setup
    policy.window_credits, policy.window_days = 2, 90
    policy.issue_late = True
    policy.save()
    base = _session(klass, date(2026, 11, 24))
    first = _session(klass, date(2026, 11, 17))
    second = _session(klass, date(2026, 11, 10))
    told = base.starts_at - timedelta(days=2)
    a = cancel(enrolment, second, told - timedelta(days=89))  # inside the window
    b = cancel(enrolment, first, told - timedelta(days=1), now=told)  # late path counts too
    MakeupCredit.objects.filter(pk=decision(a).credit.pk).update(state=CreditState.USED)
    attendance_set_state(
        enrolment=enrolment,
        session=_session(klass, date(2026, 11, 3)),
        state=S.STAFF_CANCELLED,
        now=told,
    )
    credit_add_manual(enrolment=enrolment, reason="Goodwill", actor=None, now=told)
    assert decision(b).reason == "issued"
    c = cancel(enrolment, base, told)
    refused = decision(c)
    assert refused.reason == "rolling_window_cap"
    assert refused.message == "No credit: 2 of 2 credits in the last 90 days."


def test_pol_6_window_boundary_and_revoked_credits(setup):
    world, klass, enrolment, policy = setup
    policy.window_credits, policy.window_days = 1, 30
    policy.save()
    old, mid, new = (
        _session(klass, d) for d in (date(2026, 10, 27), date(2026, 11, 17), date(2026, 11, 24))
    )
    told = new.starts_at - timedelta(days=2)
    a = cancel(enrolment, old, told - timedelta(days=30), now=told)
    assert decision(a).reason == "issued"
    b = cancel(enrolment, mid, told - timedelta(days=10), now=told)
    assert decision(b).reason == "rolling_window_cap"  # a is 20 days before b: inside
    c = cancel(enrolment, new, told, now=told)
    # a was cancelled exactly 30 days before c: outside c's window ("the last 30 days").
    assert decision(c).reason == "issued"
    # A revoked credit does not count: correct `new` back to present, and `mid` again.
    attendance_set_state(enrolment=enrolment, session=new, state=S.PRESENT, now=told)
    attendance_set_state(enrolment=enrolment, session=old, state=S.PRESENT, now=told)
    d = cancel(enrolment, mid, told - timedelta(days=9), now=told)
    assert decision(d).reason == "issued"


# --- POL-7 / POL-8 / POL-9 / POL-10 ----------------------------------------------------


def test_pol_7_makeups_disabled_issues_nothing_on_any_path(setup):
    world, klass, enrolment, policy = setup
    klass.programme.makeups_enabled = False
    klass.programme.save()
    s1, s2 = _session(klass), _session(klass, SYDNEY_TUESDAY + timedelta(days=7))
    a = cancel(enrolment, s1, s1.starts_at - timedelta(days=3))
    b = attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s2, state=S.STAFF_CANCELLED
    )
    assert {decision(a).reason, decision(b).reason} == {"makeups_disabled"}
    assert not MakeupCredit.objects.exists()


def test_pol_8_manual_credit_needs_a_reason_and_ignores_caps(setup):
    world, klass, enrolment, policy = setup
    policy.window_credits, policy.window_days, policy.on_time_outstanding_cap = 0, 90, 0
    policy.save()
    with pytest.raises(DomainError, match="Say why"):
        credit_add_manual(now=timezone.now(), enrolment=enrolment, reason=" ", actor=world.admin_a)
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    credit = credit_add_manual(
        enrolment=enrolment,
        reason="Compensation for a cancelled one-off",
        actor=world.admin_a,
        valid_days=60,
        now=now,
    )
    assert credit.path == CreditPath.MANUAL and credit.state == CreditState.AVAILABLE
    assert credit.expires_at == now + timedelta(days=60)
    credit2 = credit_add_manual(
        now=timezone.now(),
        enrolment=enrolment,
        reason="Paid for a cancelled booking",
        actor=world.admin_a,
    )
    assert credit2.expires_at is None


def test_pol_9_every_decision_is_recorded_with_its_reason_and_figures(setup):
    world, klass, enrolment, policy = setup
    s = _session(klass)
    late = cancel(enrolment, s, s.starts_at - timedelta(hours=2))
    d = decision(late)
    assert d.reason == "late_forfeited"
    assert datetime.fromisoformat(d.figures["cutoff"]) == s.starts_at - timedelta(hours=24)
    assert d.message == "No credit: cancelled after the cut-off (23 Nov 2026, 17:00)."


def test_pol_10_re_running_a_decision_never_issues_a_second_credit(setup):
    world, klass, enrolment, policy = setup
    s = _session(klass)
    a = cancel(enrolment, s, s.starts_at - timedelta(days=2))
    assert credit_decide(now=timezone.now(), attendance=a) is None
    assert credit_decide(now=timezone.now(), attendance=a) is None
    cancel(enrolment, s, s.starts_at - timedelta(days=2))  # the same state again
    assert live_credits(enrolment).count() == 1
    assert CreditDecision.objects.filter(attendance=a).count() == 1


# --- ATT-2 / ATT-5 -------------------------------------------------------------------


def test_att_2_no_show_never_issues_a_credit(setup):
    world, klass, enrolment, policy = setup
    s = _session(klass)
    a = attendance_set_state(now=timezone.now(), enrolment=enrolment, session=s, state=S.NO_SHOW)
    assert decision(a).reason == "no_show"
    assert not MakeupCredit.objects.exists()


def test_att_5_correction_revokes_an_unused_credit(setup):
    world, klass, enrolment, policy = setup
    s = _session(klass)
    a = cancel(enrolment, s, s.starts_at - timedelta(days=2))
    credit = decision(a).credit
    attendance_set_state(
        enrolment=enrolment,
        session=s,
        state=S.PRESENT,
        actor=world.staff_a,
        now=s.starts_at + timedelta(hours=3),
    )
    credit.refresh_from_db()
    assert credit.state == CreditState.REVOKED
    assert decision(a).reason == "revoked"
    # Back to cancelled: a new credit, the revoked one stays for the record.
    cancel(enrolment, s, s.starts_at - timedelta(days=2))
    assert live_credits(enrolment).count() == 1
    assert MakeupCredit.objects.filter(enrolment=enrolment).count() == 2


def test_att_5_a_spent_credit_is_never_taken_back_silently(setup):
    world, klass, enrolment, policy = setup
    s = _session(klass)
    a = cancel(enrolment, s, s.starts_at - timedelta(days=2))
    credit = decision(a).credit
    MakeupCredit.objects.filter(pk=credit.pk).update(state=CreditState.USED)
    attendance_set_state(
        now=timezone.now(), enrolment=enrolment, session=s, state=S.NO_SHOW, actor=world.staff_a
    )
    credit.refresh_from_db()
    assert credit.state == CreditState.USED
    conflict = decision(a)
    assert conflict.reason == "spent_conflict" and conflict.needs_attention
    assert "already used" in conflict.message


# --- CRD-1 / CRD-2 -------------------------------------------------------------------


def test_crd_1_crd_2_a_credit_keeps_its_source_and_history(setup):
    world, klass, enrolment, policy = setup
    s = _session(klass)
    a = cancel(enrolment, s, s.starts_at - timedelta(days=2))
    credit = decision(a).credit
    assert (credit.enrolment, credit.attendance, credit.path) == (enrolment, a, "on_time")
    assert credit.issued_at and credit.expires_at
    attendance_set_state(
        enrolment=enrolment,
        session=s,
        state=S.PRESENT,
        actor=world.staff_a,
        now=s.starts_at + timedelta(hours=3),
    )
    events = list(CreditEvent.objects.filter(credit=credit).values_list("kind", "to_state"))
    assert events == [("issued", "available"), ("revoked", "revoked")]
    assert MakeupCredit.objects.filter(pk=credit.pk).exists()  # never deleted


def test_issuing_a_credit_costs_the_same_queries_whatever_the_history(setup):
    world, klass, enrolment, policy = setup
    policy.window_credits, policy.window_days, policy.on_time_outstanding_cap = 50, 365, 50
    policy.on_time_validity = ValidityKind.OPEN
    policy.save()
    sessions = [_session(klass, date(2026, 10, 6) + timedelta(days=7 * i)) for i in range(10)]

    def cost(session) -> int:
        with CaptureQueriesContext(connection) as ctx:
            cancel(enrolment, session, session.starts_at - timedelta(days=2))
        return len(ctx.captured_queries)

    first = cost(sessions[0])
    for s in sessions[1:-1]:
        cancel(enrolment, s, s.starts_at - timedelta(days=2))
    assert cost(sessions[-1]) == first


def test_a_mark_reads_neither_the_lesson_nor_the_enrolment_again(setup):
    """The service has the lesson and the enrolment from its caller (the attendance page
    loads them): the package, charge and credit rules that react to the mark take them
    from there, not with a read of each (issue 20: staff mark a roll call at the busiest
    hour)."""
    world, klass, enrolment, policy = setup
    session = Session.objects.select_related("klass", "company").get(pk=_session(klass).pk)
    enrolment = Enrolment.objects.select_related("student").get(pk=enrolment.pk)
    with CaptureQueriesContext(connection) as ctx:
        attendance = cancel(enrolment, session, session.starts_at - timedelta(days=2))
    assert decision(attendance).reason == "issued"
    again = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith(
            tuple(
                f'SELECT "{table}"."id", '
                for table in (
                    "programmes_session",
                    "programmes_class",
                    "bookings_enrolment",
                    "bookings_student",
                )
            )
        )
    ]
    assert again == []
