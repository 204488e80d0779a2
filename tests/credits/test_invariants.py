"""Property-based: random sequences of cancellations, corrections, make-up uses, sweeps and
clock advances on one enrolment never break the credit invariants (POL-5, POL-6, POL-10,
CRD-2)."""

from datetime import UTC, date, datetime, time, timedelta

from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from credits.models import (
    CLIENT_PATHS,
    CancellationPolicy,
    CreditEvent,
    CreditState,
    MakeupCredit,
)
from credits.services.sweeps import credits_expire_due
from tests import factories as f

T0 = datetime(2026, 10, 1, tzinfo=UTC)
ON_TIME_CAP, LATE_CAP, WINDOW_N, WINDOW_DAYS = 2, 1, 3, 45

operations = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(min_value=1, max_value=24 * 9)),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=11)),
        st.tuples(
            st.just("correct"),
            st.integers(min_value=0, max_value=11),
            st.sampled_from([S.PRESENT, S.NO_SHOW, S.STAFF_CANCELLED, S.CANCELLED, S.EXPECTED]),
        ),
        st.tuples(st.just("use"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("sweep")),
    ),
    min_size=1,
    max_size=40,
)


def _use(credit: MakeupCredit, now: datetime) -> None:
    """Spend a credit as a make-up booking would (CRD-3): available → used, with history."""
    MakeupCredit.objects.filter(pk=credit.pk).update(state=CreditState.USED, state_changed_at=now)
    CreditEvent.objects.create(
        company_id=credit.company_id,
        credit=credit,
        kind="used",
        from_state=CreditState.AVAILABLE,
        to_state=CreditState.USED,
        at=now,
    )


class CreditInvariants(TestCase):
    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(ops=operations)
    def test_pol_5_pol_6_pol_10_crd_2_invariants_hold_for_any_sequence(self, ops):
        company = f.CompanyFactory()
        klass = f.ClassFactory(
            programme__company=company, start_date=date(2026, 9, 1), end_date=date(2027, 3, 1)
        )
        enrolment = f.EnrolmentFactory(klass=klass, start_date=date(2026, 9, 1))
        sessions = [
            f.SessionFactory(
                klass=klass,
                local_date=date(2026, 10, 6) + timedelta(weeks=i),
                local_time=time(17, 0),
            )
            for i in range(12)
        ]
        with scope(company=company):
            policy = CancellationPolicy.objects.get(programme=klass.programme)
            policy.issue_late = True
            policy.on_time_outstanding_cap, policy.late_outstanding_cap = ON_TIME_CAP, LATE_CAP
            policy.window_credits, policy.window_days = WINDOW_N, WINDOW_DAYS
            policy.on_time_validity_days, policy.late_validity_days = 20, 10
            policy.save()
            now = T0
            for op in ops:
                if op[0] == "advance":
                    now += timedelta(hours=op[1])
                elif op[0] == "cancel":
                    session = sessions[op[1]]
                    if session.starts_at > now:
                        attendance_set_state(
                            enrolment=enrolment,
                            session=session,
                            state=S.CANCELLED,
                            cancelled_at=now,
                            now=now,
                        )
                elif op[0] == "correct":
                    session, state = sessions[op[1]], op[2]
                    told = now if now <= session.starts_at + timedelta(days=2) else None
                    if state == S.CANCELLED and told is None:
                        continue
                    attendance_set_state(
                        enrolment=enrolment,
                        session=session,
                        state=state,
                        cancelled_at=told,
                        now=now,
                    )
                elif op[0] == "use":
                    usable = list(
                        MakeupCredit.objects.filter(
                            enrolment=enrolment, state=CreditState.AVAILABLE, expires_at__gt=now
                        ).order_by("pk")
                    )
                    if usable:
                        _use(usable[op[1] % len(usable)], now)
                else:
                    credits_expire_due(now=now)
                self._check(enrolment)

    def _check(self, enrolment) -> None:
        credits = list(MakeupCredit.objects.filter(enrolment=enrolment).order_by("pk"))
        live = [c for c in credits if c.state != CreditState.REVOKED]
        # POL-5: never more unused credits of a client path than its cap.
        for path, cap in (("on_time", ON_TIME_CAP), ("late", LATE_CAP)):
            assert sum(1 for c in live if c.path == path and c.state == "available") <= cap
        # POL-6: no window of WINDOW_DAYS before a client credit's cancellation holds more
        # than WINDOW_N live client credits.
        client = [c for c in live if c.path in CLIENT_PATHS]
        for credit in client:
            start = credit.cancelled_at - timedelta(days=WINDOW_DAYS)
            in_window = [c for c in client if start < c.cancelled_at <= credit.cancelled_at]
            assert len(in_window) <= WINDOW_N
        # POL-10: one attendance never yields two live credits.
        attendance_ids = [c.attendance_id for c in live if c.attendance_id]
        assert len(attendance_ids) == len(set(attendance_ids))
        # CRD-2: every credit's history replays to its state.
        events = {}
        for event in CreditEvent.objects.filter(credit__enrolment=enrolment).order_by("pk"):
            events.setdefault(event.credit_id, []).append(event)
        for credit in credits:
            history = events[credit.pk]
            assert history[0].kind == "issued" and history[0].from_state == ""
            state = history[0].to_state
            for event in history[1:]:
                assert event.from_state == state, (credit.pk, [e.kind for e in history])
                state = event.to_state
            assert state == credit.state
