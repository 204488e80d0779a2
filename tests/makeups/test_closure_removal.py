"""Removing a closure (CLO-6): the admin chooses whether to restore the lessons it cancelled;
restoring goes back through the staff correction (ATT-5: unused credits taken back, spent
ones flagged), the families are told once, and the days it kept free get their lessons
again (CLO-2). A background run like applying (CLO-7): a failure midway is finished by
asking again.

The clock: the suite's frozen Saturday 21 Nov 2026, 11:00 in Sydney (``NOW``); the closure
of ``school`` covers the week after."""

from datetime import date, time, timedelta

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from credits.models import CreditDecision, CreditState, DecisionReason, MakeupCredit
from makeup.errors import DomainError
from makeups.services import closure_remove_request, closure_run_execute, makeup_book
from makeups.services import closures as closure_services
from programmes.models import ClassSchedule, Closure, ClosureRun, Session
from programmes.services import class_generate_sessions
from tests import factories as f
from tests.makeups import test_closure_apply as applying
from tests.makeups.test_closure_apply import NOW, _apply, _mails_to, _session, _url

pytestmark = pytest.mark.django_db

# The applying tests' school and their English texts, shared as fixtures.
school = applying.school
_english = applying._english


def _remove(w, *, restore: bool, now=NOW, actor=None) -> ClosureRun:
    """Request the removal and do the run's work synchronously at ``now``."""
    with scope(company=w.company):
        run = closure_remove_request(
            closure=w.closure, restore=restore, actor=actor or w.admin, now=now
        )
        return closure_run_execute(run=run, clock=lambda: now)


def _credit(enrolment, session) -> MakeupCredit:
    with scopes_disabled():
        return MakeupCredit.objects.get(
            attendance__enrolment=enrolment, attendance__session=session
        )


def test_clo_6_restoring_takes_unused_credits_back_and_flags_a_spent_one(school):
    _apply(school)
    # Cleo spends the credit of her cancelled Tuesday lesson on a Wednesday after the closure.
    wed_after = _session(school.k_dolphins2, date(2026, 12, 2))
    cleo_credit = _credit(school.cleo, school.tue)
    with scope(company=school.company):
        makeup_book(credit=cleo_credit, session=wed_after, actor=f.parent_of(school.cleo), now=NOW)

    run = _remove(school, restore=True)

    assert run.state == ClosureRun.State.DONE and run.kind == ClosureRun.Kind.RESTORE
    with scopes_disabled():
        closure = Closure.objects.get(pk=school.closure.pk)
        assert closure.removed_at == NOW and closure.removed_by == school.admin
        for session in (school.tue, school.thu, school.wed, school.sharks_tue, school.seals_thu):
            session.refresh_from_db()
            assert session.cancelled_at is None and session.closure_id is None
        # Ava's unused credits are taken back (ATT-5) ...
        assert _credit(school.ava, school.tue).state == CreditState.REVOKED
        assert _credit(school.ava, school.thu).state == CreditState.REVOKED
        # ... Cleo's spent one stays spent and is flagged for the admin.
        cleo_credit.refresh_from_db()
        assert cleo_credit.state == CreditState.USED
        flagged = CreditDecision.objects.filter(
            attendance__enrolment=school.cleo, reason=DecisionReason.SPENT_CONFLICT
        )
        assert flagged.count() == 1 and flagged.get().needs_attention
        # Dan's make-up, cancelled with the session, is not booked again (his credit is back).
        school.dan_booking.refresh_from_db()
        assert school.dan_booking.state == school.dan_booking.State.CANCELLED
        # A lesson that had started when the closure was applied was never the closure's.
        school.started.refresh_from_db()
        assert school.started.cancelled_at is None


def test_clo_6_each_family_is_told_once_listing_its_lessons(
    school, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _apply(school)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _remove(school, restore=True)
    [message] = _mails_to(school.world.parent_a.email)
    assert message.subject == "Lessons back on: Alpha Swim is open after all (Pool repairs)"
    assert message.body.count("\n- Ava: Dolphins Tue, ") == 2
    assert message.body.count("\n- Ben: Sharks Tue, ") == 1
    assert "Tuesday 24 November, 17:00" in message.body
    assert "CLO-" not in message.body and "session_restore" not in message.body
    families = {tuple(m.to) for m in mail.outbox}
    assert len(mail.outbox) == len(families)  # one message per family

    # Nothing more to restore: asking again is refused, and nobody hears twice.
    with pytest.raises(DomainError), scope(company=school.company):
        closure_remove_request(closure=school.closure, restore=True, actor=school.admin, now=NOW)
    assert len(_mails_to(school.world.parent_a.email)) == 1


def test_clo_6_removing_without_restoring_keeps_the_lessons_cancelled(school):
    _apply(school)
    run = _remove(school, restore=False)
    assert run.state == ClosureRun.State.DONE and run.kind == ClosureRun.Kind.REMOVE
    with scopes_disabled():
        school.tue.refresh_from_db()
        assert school.tue.cancelled_at is not None and school.tue.closure_id == school.closure.pk
        assert _credit(school.ava, school.tue).state == CreditState.AVAILABLE
        assert Closure.objects.get(pk=school.closure.pk).removed_at == NOW
    # The lessons can still be restored later, from the removed closure's page.
    run = _remove(school, restore=True, now=NOW + timedelta(hours=1))
    assert run.state == ClosureRun.State.DONE
    with scopes_disabled():
        school.tue.refresh_from_db()
        assert school.tue.cancelled_at is None


def test_clo_6_the_days_a_closure_kept_free_get_their_lessons_again(school):
    """CLO-2 kept a new class's Friday lesson out of the closure; removing it brings it in."""
    klass = f.ClassFactory(
        programme=school.dolphins,
        name="Dolphins Fri",
        start_date=date(2026, 11, 20),
        end_date=date(2026, 12, 11),
    )
    with scope(company=school.company):
        ClassSchedule.objects.create(
            company=school.company, klass=klass, weekday=4, start_time=time(16), duration_minutes=30
        )
        first = class_generate_sessions(klass=klass, now=NOW)
    assert first.skipped == 1  # Fri 27 Nov is closed
    run = _remove(school, restore=False)
    assert run.state == ClosureRun.State.DONE
    with scopes_disabled():
        days = set(Session.objects.filter(klass=klass).values_list("local_date", flat=True))
    assert date(2026, 11, 27) in days and len(days) == 3


def test_clo_6_a_failure_midway_stops_the_run_and_asking_again_finishes(school, monkeypatch):
    _apply(school)
    real = closure_services.session_restore
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(closure_services, "session_restore", flaky)
    run = _remove(school, restore=True)
    assert run.state == ClosureRun.State.FAILED
    assert "2 of" in run.error and "remove it again" in run.error
    assert "database went away" not in run.error  # plain words, the detail is logged
    with scopes_disabled():
        left = Session.objects.filter(closure=school.closure, cancelled_at__isnull=False)
        assert left.count() == 3  # two restored in full, the third untouched, two to go

    monkeypatch.setattr(closure_services, "session_restore", real)
    run = _remove(school, restore=True, now=NOW + timedelta(minutes=1))
    assert run.state == ClosureRun.State.DONE
    with scopes_disabled():
        assert not Session.objects.filter(closure=school.closure).exclude(pk=school.started.pk)
        assert _credit(school.ava, school.tue).state == CreditState.REVOKED


def test_clo_6_only_an_admin_removes_and_not_while_it_is_being_applied(school):
    with pytest.raises(DomainError, match="Only an admin"), scope(company=school.company):
        closure_remove_request(
            closure=school.closure, restore=True, actor=school.world.staff_a, now=NOW
        )
    with scope(company=school.company):
        from_page = closure_services.closure_apply_request(
            closure=school.closure, actor=school.admin, now=NOW
        )
        assert from_page.state == ClosureRun.State.QUEUED
        with pytest.raises(DomainError, match="being worked on"):
            closure_remove_request(
                closure=school.closure, restore=True, actor=school.admin, now=NOW
            )


def test_clo_6_the_closure_page_asks_whether_to_restore(
    school, login, django_capture_on_commit_callbacks
):
    _apply(school)
    client = login(school.admin)
    page = client.get(_url("closure_detail", school.closure)).content.decode()
    assert "It cancelled 5 lessons that haven't started. Restore them?" in page
    assert "Remove it and restore the lessons" in page
    assert "Remove it, keep the lessons cancelled" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("closure_remove", school.closure), {"restore": "yes"})
    assert response.status_code == 302
    with scopes_disabled():
        run = ClosureRun.objects.filter(kind=ClosureRun.Kind.RESTORE).get()
        assert run.state == ClosureRun.State.DONE
    page = client.get(_url("closure_detail", school.closure)).content.decode()
    assert "This closure was removed" in page and "Restoring the lessons" in page
    assert "CLO-" not in page

    other = login(school.world.owner_b)
    assert other.get(_url("closure_detail", school.closure)).status_code == 404
    assert other.post(_url("closure_remove", school.closure), {"restore": "no"}).status_code == 404
    staff = login(school.world.staff_a)
    assert staff.post(_url("closure_remove", school.closure), {"restore": "no"}).status_code == 403
