"""Applying a closure: the preview before anything changes (CLO-3), the background run that
cancels its lessons one session at a time, idempotent and whole-or-nothing per session
(CLO-7), the one message per family (CLO-4), and the closure's page.

The clock: every test passes ``now`` (the suite's frozen Saturday 21 Nov 2026, 11:00 in
Sydney) or runs the task under the frozen clock; the closures lie in the week after."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django_scopes import scope, scopes_disabled

from bookings import hooks as booking_hooks
from bookings.models import Attendance, AttendanceState, Guardian, MakeupBooking
from bookings.services import attendance as attendance_services
from bookings.services import attendance_set_state, session_cancel
from credits.models import (
    CancellationPolicy,
    CreditDecision,
    CreditPath,
    CreditState,
    DecisionReason,
    MakeupCredit,
    SessionWatch,
)
from credits.services import credit_add_manual
from makeup.errors import DomainError
from makeup.models import OutboxMessage
from makeups.selectors.closures import closure_preview, pending_sessions
from makeups.services import closure_apply_request, closure_run_execute, makeup_book
from makeups.services import closures as closure_services
from programmes.models import Closure, ClosureCredits, ClosureRun, Session
from programmes.services import closure_create, closure_mark_removed
from tests import factories as f
from tests.franchise.test_partner_makeups import fr, frozen  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture(autouse=True)
def _english():
    """Texts the services write (decisions, reasons) are in the active language."""
    with translation.override("en"):
        yield


def _session(klass, day: date, hour: int = 17, minute: int = 0, **kwargs) -> Session:
    return f.SessionFactory(klass=klass, local_date=day, local_time=time(hour, minute), **kwargs)


@pytest.fixture
def school(world):
    """Alpha Swim: three programmes — Dolphins (credits by the default policy, 25 a lesson),
    Sharks (the policy issues no credit when we cancel) and Seals (make-ups off) — with the
    Parker family's Ava (two Dolphins lessons in the closure week) and Ben (Sharks), Cleo of
    another family (Dolphins), and Dan, a make-up guest in Ava's Tuesday lesson with his
    credit. The closure "Pool repairs" covers Sat 21 – Sun 29 Nov."""
    c = world.company_a
    w = SimpleNamespace(world=world, company=c, admin=world.admin_a)
    w.dolphins = f.ProgrammeFactory(company=c, name="Dolphins")
    w.sharks = f.ProgrammeFactory(company=c, name="Sharks")
    w.seals = f.ProgrammeFactory(company=c, name="Seals", makeups_enabled=False)
    ages = {"min_age_months": None, "max_age_months": None}
    w.k_dolphins = f.ClassFactory(programme=w.dolphins, name="Dolphins Tue", **ages)
    w.k_dolphins2 = f.ClassFactory(programme=w.dolphins, name="Dolphins Wed", **ages)
    w.k_sharks = f.ClassFactory(
        programme=w.sharks, name="Sharks Tue", price_per_session=Decimal("30.00"), **ages
    )
    w.k_seals = f.ClassFactory(programme=w.seals, name="Seals Thu", **ages)
    with scopes_disabled():
        CancellationPolicy.objects.filter(programme=w.sharks).update(issue_staff=False)
        w.family = Guardian.objects.get(user=world.parent_a).family
    # Sessions: two Dolphins lessons in the closure, one after it, one that started before now.
    w.tue = _session(w.k_dolphins, date(2026, 11, 24))
    w.thu = _session(w.k_dolphins, date(2026, 11, 26))
    w.after = _session(w.k_dolphins, date(2026, 12, 1))
    w.started = _session(w.k_dolphins, date(2026, 11, 21), hour=10, minute=30)
    w.wed = _session(w.k_dolphins2, date(2026, 11, 25))
    w.sharks_tue = _session(w.k_sharks, date(2026, 11, 24), hour=16)
    w.seals_thu = _session(w.k_seals, date(2026, 11, 26), hour=9)
    start = date(2026, 10, 1)
    w.ava = f.EnrolmentFactory(
        klass=w.k_dolphins, student__family=w.family, student__first_name="Ava", start_date=start
    )
    w.ben = f.EnrolmentFactory(
        klass=w.k_sharks, student__family=w.family, student__first_name="Ben", start_date=start
    )
    w.cleo = f.EnrolmentFactory(
        klass=w.k_dolphins, student__first_name="Cleo", student__family__company=c, start_date=start
    )
    w.seal = f.EnrolmentFactory(
        klass=w.k_seals, student__first_name="Sol", student__family__company=c, start_date=start
    )
    # Dan (Dolphins Wed) books a make-up into Ava's Tuesday lesson with a credit.
    w.dan = f.EnrolmentFactory(
        klass=w.k_dolphins2, student__first_name="Dan", student__family__company=c, start_date=start
    )
    with scope(company=c):
        w.dan_credit = credit_add_manual(
            enrolment=w.dan, reason="test", actor=None, valid_days=30, now=NOW - timedelta(days=1)
        )
        w.dan_booking = makeup_book(
            credit=w.dan_credit, session=w.tue, actor=f.parent_of(w.dan), now=NOW
        )
        # Cleo's family watches the full Seals lesson with a credit of hers.
        w.cleo_credit = credit_add_manual(
            enrolment=w.cleo, reason="test", actor=None, valid_days=30, now=NOW - timedelta(days=1)
        )
        w.watch = SessionWatch.objects.create(
            company=c,
            session=w.seals_thu,
            student=w.cleo.student,
            credit=w.cleo_credit,
            created_at=NOW,
        )
        w.closure = closure_create(
            company=c,
            name="Pool repairs",
            first_day=date(2026, 11, 21),
            last_day=date(2026, 11, 29),
            actor=w.admin,
            now=NOW,
        )
    mail.outbox.clear()
    return w


def _apply(w, closure=None, *, now=NOW) -> ClosureRun:
    """Request and run the closure at ``now`` (the task's work, synchronously)."""
    closure = closure or w.closure
    with scope(company=w.company):
        run = closure_apply_request(closure=closure, actor=w.admin, now=now)
        return closure_run_execute(run=run, clock=lambda: now)


def _closure(w, **kwargs) -> Closure:
    fields = {"name": "Storm", "first_day": date(2026, 11, 21), "last_day": date(2026, 11, 29)}
    with scope(company=w.company):
        return closure_create(company=w.company, actor=w.admin, now=NOW, **{**fields, **kwargs})


def _state(enrolment, session) -> str:
    with scopes_disabled():
        row = Attendance.objects.filter(enrolment=enrolment, session=session).first()
    return row.state if row else AttendanceState.EXPECTED


def _decisions(session) -> dict[str, str]:
    with scopes_disabled():
        return {
            d.attendance.enrolment.student.first_name: d.reason
            for d in CreditDecision.objects.filter(attendance__session=session).select_related(
                "attendance__enrolment__student"
            )
        }


# --- the preview (CLO-3) ------------------------------------------------------------------


def test_clo_3_the_preview_shows_each_programmes_lessons_students_guests_credits_and_value(
    school,
):
    with scope(company=school.company):
        preview = closure_preview(closure=school.closure, now=NOW)
    by_name = {p.name: p for p in preview.programmes}
    assert set(by_name) == {"Dolphins", "Sharks", "Seals"}
    dolphins, sharks, seals = by_name["Dolphins"], by_name["Sharks"], by_name["Seals"]
    # Dolphins: Tue and Thu (Ava, Cleo each) and Wed (Dan's own class: Dan) — not the
    # lesson that started this morning nor the one after the closure.
    assert (dolphins.sessions, dolphins.students, dolphins.guests) == (3, 5, 1)
    assert (dolphins.credits, dolphins.value, dolphins.no_credit) == (5, Decimal("125.00"), "")
    # Sharks: the policy issues no credit when we cancel; Seals: make-ups are off.
    assert (sharks.sessions, sharks.students, sharks.credits, sharks.value) == (1, 1, 0, 0)
    assert sharks.no_credit == "No credit: the policy issues none when cancelled by us."
    assert (seals.students, seals.credits, seals.watches) == (1, 0, 1)
    assert seals.no_credit == "No credit: make-up sessions are off for Seals."
    assert (preview.sessions, preview.students, preview.credits) == (5, 7, 5)
    assert (preview.guests, preview.watches, preview.value) == (1, 1, Decimal("125.00"))
    # The Parkers (Ava, Ben), Cleo's, Dan's (a guest, and a regular on Wednesday), Sol's.
    assert preview.families == 4
    assert preview.left_alone == 1  # the lesson that started at 10:30
    assert preview.cancelled_here == 0


def test_clo_3_a_closure_priced_into_the_term_previews_no_credit_at_all(school):
    closure = _closure(school, credits=ClosureCredits.NONE)
    with scope(company=school.company):
        preview = closure_preview(closure=closure, now=NOW)
    assert preview.students == 7 and preview.credits == 0 and preview.value == 0
    assert {p.no_credit for p in preview.programmes} == {
        "No credit: closed for Storm, which is priced into the term."
    }
    assert preview.guests == 1  # guests still get their credits back


def test_clo_3_nothing_changes_until_the_closure_is_applied(school):
    with scope(company=school.company):
        closure_preview(closure=school.closure, now=NOW)
        assert not Session.objects.filter(cancelled_at__isnull=False).exists()
        assert not Attendance.objects.exists()


def test_clo_3_the_preview_costs_the_same_queries_for_one_lesson_or_many(school):
    def measure(closure):
        with scope(company=school.company):
            closure = Closure.objects.select_related("company").prefetch_related("programmes")
            closure = closure.get(pk=closure_pk)
            with CaptureQueriesContext(connection) as queries:
                preview = closure_preview(closure=closure, now=NOW)
        return len(queries), preview.sessions

    small = _closure(school, first_day=date(2026, 11, 26), last_day=date(2026, 11, 26))
    with scopes_disabled():
        small.programmes.set([school.seals])
    closure_pk = small.pk
    few, one = measure(small)
    for day in range(2, 9):  # more lessons, students, guests' classes
        klass = f.ClassFactory(programme=school.dolphins, name=f"Extra {day}")
        f.EnrolmentFactory(klass=klass, start_date=date(2026, 10, 1))
        f.EnrolmentFactory(klass=klass, start_date=date(2026, 10, 1))
        _session(klass, date(2026, 11, 20 + day % 7 + 2))
    closure_pk = school.closure.pk
    many, lots = measure(school.closure)
    assert one == 1 and lots > 10
    assert few == many


# --- applying (CLO-3, CLO-7) --------------------------------------------------------------


def test_clo_3_applying_cancels_exactly_the_covered_lessons_that_have_not_started(school):
    with scope(company=school.company):
        # Cancelled before for another reason: left as it is.
        session_cancel(session=school.wed, reason="Coach ill", now=NOW)
    run = _apply(school)
    assert run.state == ClosureRun.State.DONE and (run.total, run.done) == (4, 4)
    with scopes_disabled():
        cancelled = {
            s.pk: (s.closure_id, s.cancel_reason)
            for s in Session.objects.filter(cancelled_at__isnull=False)
        }
        school.closure.refresh_from_db()
    assert cancelled == {
        school.tue.pk: (school.closure.pk, "School closed: Pool repairs"),
        school.thu.pk: (school.closure.pk, "School closed: Pool repairs"),
        school.sharks_tue.pk: (school.closure.pk, "School closed: Pool repairs"),
        school.seals_thu.pk: (school.closure.pk, "School closed: Pool repairs"),
        school.wed.pk: (None, "Coach ill"),
    }
    assert school.closure.applied_at == NOW
    assert _state(school.ava, school.started) == AttendanceState.EXPECTED
    assert _state(school.ava, school.after) == AttendanceState.EXPECTED
    assert _state(school.ava, school.tue) == AttendanceState.STAFF_CANCELLED


def test_clo_3_a_part_day_closure_cancels_only_the_lessons_it_overlaps(school):
    early = _session(school.k_dolphins2, date(2026, 11, 24), hour=15, minute=30)
    late = _session(school.k_dolphins2, date(2026, 11, 24), hour=17, minute=30)
    closure = _closure(
        school,
        name="Gala",
        first_day=date(2026, 11, 24),
        last_day=date(2026, 11, 24),
        start_time=time(15, 45),
        end_time=time(17, 15),
    )
    run = _apply(school, closure)
    with scopes_disabled():
        cancelled = set(Session.objects.filter(closure=closure).values_list("pk", flat=True))
    # 15:30–16:00 overlaps the start, 16:00 and 17:00 lie inside; 17:30 is after it.
    assert cancelled == {early.pk, school.sharks_tue.pk, school.tue.pk}
    assert late.pk not in cancelled and run.total == 3


def test_clo_3_credits_follow_each_programmes_policy_for_lessons_we_cancel(school):
    _apply(school)
    assert _decisions(school.tue) == {"Ava": DecisionReason.ISSUED, "Cleo": DecisionReason.ISSUED}
    assert _decisions(school.sharks_tue) == {"Ben": DecisionReason.PATH_FORFEITED}
    assert _decisions(school.seals_thu) == {"Sol": DecisionReason.MAKEUPS_DISABLED}
    with scopes_disabled():
        credit = MakeupCredit.objects.get(attendance__session=school.tue, enrolment=school.ava)
    assert credit.path == CreditPath.STAFF and credit.state == CreditState.AVAILABLE
    assert credit.expires_at == NOW + timedelta(days=30)  # the staff path counts from issue


def test_clo_3_a_closure_priced_into_the_term_issues_no_credit(school):
    closure = _closure(school, credits=ClosureCredits.NONE)
    _apply(school, closure)
    assert set(_decisions(school.tue).values()) == {DecisionReason.CLOSURE_NO_CREDIT}
    assert set(_decisions(school.sharks_tue).values()) == {DecisionReason.CLOSURE_NO_CREDIT}
    with scopes_disabled():
        assert not MakeupCredit.objects.filter(path=CreditPath.STAFF).exists()


def test_clo_3_make_up_guests_get_their_credits_back_and_watches_end_with_the_closure(school):
    _apply(school)
    with scopes_disabled():
        school.dan_booking.refresh_from_db()
        school.dan_credit.refresh_from_db()
        school.watch.refresh_from_db()
    assert school.dan_booking.state == MakeupBooking.State.CANCELLED
    assert school.dan_credit.state == CreditState.AVAILABLE
    assert school.watch.state == SessionWatch.State.ENDED
    assert school.watch.end_reason == (
        "The school cancelled the session: School closed: Pool repairs"
    )


def test_clo_7_applying_twice_changes_nothing(school):
    _apply(school)
    with scopes_disabled():
        before = (
            Attendance.objects.count(),
            MakeupCredit.objects.count(),
            CreditDecision.objects.count(),
            OutboxMessage.objects.exclude(key__startswith="closure-run:").count(),
            list(
                Session.objects.filter(cancelled_at__isnull=False).values_list("pk", "cancelled_at")
            ),
        )
    later = NOW + timedelta(minutes=5)
    run = _apply(school, now=later)
    assert run.state == ClosureRun.State.DONE and (run.total, run.done) == (0, 0)
    with scopes_disabled():
        after = (
            Attendance.objects.count(),
            MakeupCredit.objects.count(),
            CreditDecision.objects.count(),
            OutboxMessage.objects.exclude(key__startswith="closure-run:").count(),
            list(
                Session.objects.filter(cancelled_at__isnull=False).values_list("pk", "cancelled_at")
            ),
        )
    assert after == before


@pytest.fixture
def third_lesson_fails(school, monkeypatch):
    """Cancelling the closure's third lesson (by start) fails, deep inside its transaction
    (a listener of the session cancellation raises), whichever way it is cancelled."""
    with scopes_disabled():
        third = pending_sessions(school.closure, now=NOW)[2]
    monkeypatch.setattr(
        booking_hooks, "_session_cancel_listeners", [*booking_hooks._session_cancel_listeners]
    )

    def fail_on_the_third(*, session, reason, actor, now):
        if session.pk == third.pk:
            raise RuntimeError("database went away")

    booking_hooks.register_session_cancel_listener(fail_on_the_third)
    return SimpleNamespace(
        session=third,
        undo=lambda: booking_hooks._session_cancel_listeners.remove(fail_on_the_third),
    )


def test_clo_7_a_failure_midway_leaves_each_lesson_whole_and_a_rerun_finishes(
    school, third_lesson_fails
):
    run = _apply(school)
    assert run.state == ClosureRun.State.FAILED and (run.total, run.done) == (5, 2)
    assert "Stopped at Dolphins Wed, Wed 25 Nov, 17:00" in run.error
    assert "2 of 5 lessons were cancelled" in run.error and "run it again" in run.error
    assert "database went away" not in run.error  # plain words, the details go to the log
    with scopes_disabled():
        done = set(Session.objects.filter(closure=school.closure).values_list("pk", flat=True))
        failed = Session.objects.get(pk=third_lesson_fails.session.pk)
        assert len(done) == 2 and failed.pk not in done and failed.cancelled_at is None
        assert not Attendance.objects.filter(session=failed).exists()
        assert not OutboxMessage.objects.filter(key__startswith="closure-notice:").exists()
        school.closure.refresh_from_db()
    assert school.closure.applied_at is None

    third_lesson_fails.undo()
    rerun = _apply(school, now=NOW + timedelta(minutes=2))
    assert rerun.state == ClosureRun.State.DONE and (rerun.total, rerun.done) == (3, 3)
    with scopes_disabled():
        assert Session.objects.filter(closure=school.closure).count() == 5
        # One decision and at most one credit per student and lesson: nothing issued twice.
        decisions = CreditDecision.objects.filter(attendance__session__closure=school.closure)
        marked = Attendance.objects.filter(session__closure=school.closure)
        assert decisions.count() == marked.count() == 7
        assert MakeupCredit.objects.filter(path=CreditPath.STAFF).count() == 5
        school.dan_credit.refresh_from_db()
    assert school.dan_credit.state == CreditState.AVAILABLE


def test_clo_7_a_failing_group_is_done_one_lesson_at_a_time_up_to_the_culprit(
    school, third_lesson_fails, monkeypatch
):
    """Sessions are cancelled in groups; a group that fails is retried lesson by lesson, so
    the lessons before the culprit are done and the culprit is named."""
    monkeypatch.setattr(closure_services, "CHUNK", 2)
    run = _apply(school)
    assert run.state == ClosureRun.State.FAILED and run.done == 2
    with scopes_disabled():
        assert Session.objects.filter(closure=school.closure).count() == 2


def test_clo_7_a_run_is_refused_for_a_removed_closure_while_another_runs_and_to_staff(school):
    with scope(company=school.company):
        with pytest.raises(DomainError, match="Only an admin"):
            closure_apply_request(closure=school.closure, actor=school.world.staff_a, now=NOW)
        closure_apply_request(closure=school.closure, actor=school.admin, now=NOW)
        with pytest.raises(DomainError, match="already being applied"):
            closure_apply_request(closure=school.closure, actor=school.admin, now=NOW)
    other = _closure(school, name="Gone", first_day=date(2026, 12, 20), last_day=date(2026, 12, 21))
    with scope(company=school.company):
        closure_mark_removed(closure=other, actor=school.admin, now=NOW)
        with pytest.raises(DomainError, match="was removed"):
            closure_apply_request(closure=other, actor=school.admin, now=NOW)


def test_clo_7_a_run_already_over_is_not_run_again(school):
    run = _apply(school)
    with scope(company=school.company):
        again = closure_run_execute(run=run, clock=lambda: NOW)
    assert again.state == ClosureRun.State.DONE and again.finished_at == NOW


# --- one message per family (CLO-4) -------------------------------------------------------


def _mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def test_clo_4_each_family_gets_one_message_listing_every_lesson_and_what_it_brought(
    school, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _apply(school)
    parker = _mails_to(school.world.parent_a.email)
    assert len(parker) == 1
    [message] = parker
    assert message.subject == "Lessons cancelled: Alpha Swim is closed (Pool repairs)"
    html = message.alternatives[0][0]
    # Ava's two Dolphins lessons with their credits, Ben's Sharks lesson without one (a
    # line per lesson; the parents' names are random, so the children are counted by line).
    assert message.body.count("\n- Ava: Dolphins Tue (Dolphins), ") == 2
    assert message.body.count("\n- Ben: Sharks Tue (Sharks), ") == 1
    assert html.count("<strong>Ava</strong>: Dolphins Tue") == 2
    assert html.count("<strong>Ben</strong>: Sharks Tue") == 1
    for body in (message.body, html):
        assert "Alpha Swim is closed for Pool repairs" in body
        assert "Tuesday 24 November, 17:00" in body and "Thursday 26 November, 17:00" in body
        assert body.count("A make-up credit was added: use it for a make-up lesson") == 2
        assert "No make-up credit: our cancellation policy gives none" in body
        assert "CLO-" not in body and "path_forfeited" not in body
    # Dan's family: his own Wednesday lesson (a credit) and his make-up (its credit back).
    [dan] = _mails_to(f.parent_of(school.dan).email)
    assert "This was a make-up lesson: it is cancelled and the credit used for it is back." in (
        dan.body
    )
    # No "credit issued" or "make-up cancelled" e-mail per lesson: one message per family.
    assert not [m for m in mail.outbox if "make-up credit at" in m.subject]
    assert not [m for m in mail.outbox if m.subject.startswith("Make-up cancelled")]
    families = {tuple(m.to) for m in mail.outbox}
    assert len(mail.outbox) == len(families)

    with django_capture_on_commit_callbacks(execute=True):
        _apply(school, now=NOW + timedelta(minutes=5))
    assert len(_mails_to(school.world.parent_a.email)) == 1  # exactly once per closure


def test_clo_4_a_closure_priced_into_the_term_says_why_there_is_no_credit(
    school, django_capture_on_commit_callbacks
):
    closure = _closure(school, credits=ClosureCredits.NONE)
    with django_capture_on_commit_callbacks(execute=True):
        _apply(school, closure)
    [message] = _mails_to(school.world.parent_a.email)
    assert "No make-up credit: this closure is already taken into account" in message.body
    assert "A make-up credit was added" not in message.body


def test_clo_4_the_message_is_in_the_parents_language(school, django_capture_on_commit_callbacks):
    parent = school.world.parent_a
    parent.language = "cs"
    parent.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        _apply(school)
    [message] = _mails_to(parent.email)
    assert "Ahoj" in message.body or "Dobrý den" in message.body
    assert "listopadu" in message.body and "November" not in message.body


# --- the page (CLO-3, CLO-7) --------------------------------------------------------------


def _url(name: str, closure) -> str:
    return reverse(f"manage:{name}", args=[closure.pk])


def test_clo_3_the_closure_page_shows_the_preview_and_applies_on_confirmation(
    school, login, django_capture_on_commit_callbacks
):
    client = login(school.admin)
    page = client.get(_url("closure_detail", school.closure)).content.decode()
    assert "Pool repairs" in page and "What applying it does" in page
    assert "5 lessons, from" in page and "4 families each get one message" in page
    assert "5 make-up credits issued, worth AUD 125.00" in page
    assert "No credit: the policy issues none when cancelled by us." in page
    assert "Apply: cancel these lessons" in page and "CLO-" not in page

    # Without the tick nothing happens.
    response = client.post(_url("closure_apply", school.closure), {})
    assert response.status_code == 302
    with scopes_disabled():
        assert not ClosureRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("closure_apply", school.closure), {"confirm": "yes"})
    assert response.status_code == 302
    with scopes_disabled():
        run = ClosureRun.objects.get()
        assert run.state == ClosureRun.State.DONE and run.done == run.total == 5
        assert OutboxMessage.objects.get(key=f"closure-run:{run.pk}").done_at is not None
    page = client.get(_url("closure_detail", school.closure)).content.decode()
    assert "5 lessons cancelled by this closure" in page and "5 make-up credits issued" in page
    assert "Nothing left to cancel" in page and "Apply: cancel these lessons" not in page
    assert 'hx-trigger="every 1s"' not in page


def test_clo_7_the_progress_part_polls_while_the_run_waits_and_stops_when_it_is_done(school, login):
    client = login(school.admin)
    with scope(company=school.company):
        run = closure_apply_request(closure=school.closure, actor=school.admin, now=NOW)
    url = _url("closure_run_progress", school.closure)
    part = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in part and f'hx-get="{url}"' in part
    assert "Waiting for a worker to start" in part
    with scopes_disabled():
        ClosureRun.objects.filter(pk=run.pk).update(state="running", total=40, done=10)
    part = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "10 of 40 lessons (25 %)" in part and 'value="10" max="40"' in part
    with scope(company=school.company):
        closure_run_execute(run=run, clock=lambda: NOW)
    part = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' not in part and "Done" in part


def test_clo_7_a_failed_run_shows_its_error_and_run_again(school, login, monkeypatch):
    def fails(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(closure_services, "sessions_cancel", fails)
    _apply(school)
    client = login(school.admin)
    page = client.get(_url("closure_detail", school.closure)).content.decode()
    assert (
        "Stopped at Sharks Tue, Tue 24 Nov, 16:00" in page
        and "0 of 5 lessons were cancelled" in page
    )
    assert "Run again" in page and "boom" not in page
    monkeypatch.undo()
    response = client.post(_url("closure_apply", school.closure), {"confirm": "yes"})
    assert response.status_code == 302
    with scopes_disabled():
        assert ClosureRun.objects.filter(state=ClosureRun.State.QUEUED).count() == 1


def test_clo_3_only_admins_open_the_closure_page_and_another_company_gets_404(school, login):
    url = _url("closure_detail", school.closure)
    assert login(school.world.staff_a).get(url).status_code == 403
    assert (
        login(school.world.staff_a).post(_url("closure_apply", school.closure)).status_code == 403
    )
    assert login(school.world.owner_b).get(url).status_code == 404
    assert (
        login(school.world.owner_b).get(_url("closure_run_progress", school.closure)).status_code
        == 404
    )
    assert login(school.world.owner_a).get(url).status_code == 200


def test_clo_3_the_closure_page_costs_a_fixed_number_of_queries(school, login, page_queries):
    """Before applying (the preview) and after (the run and its results), a one-lesson
    closure and a closure of many lessons, students and classes cost the same."""
    client = login(school.admin)
    small = _closure(
        school, name="One day", first_day=date(2026, 11, 26), last_day=date(2026, 11, 26)
    )
    with scopes_disabled():
        small.programmes.set([school.seals])
    for n in range(6):
        klass = f.ClassFactory(programme=school.dolphins, name=f"Extra {n}")
        for _ in range(3):
            f.EnrolmentFactory(klass=klass, start_date=date(2026, 10, 1))
        _session(klass, date(2026, 11, 22 + n))
    big = school.closure
    before_small, _ = page_queries(client, _url("closure_detail", small))
    before_big, response = page_queries(client, _url("closure_detail", big))
    assert "11 lessons, from" in response.content.decode()
    assert before_small == before_big
    _apply(school, small)
    _apply(school, big)
    after_small, _ = page_queries(client, _url("closure_detail", small))
    after_big, response = page_queries(client, _url("closure_detail", big))
    assert "10 lessons cancelled by this closure" in response.content.decode()
    assert after_small == after_big <= 14
    progress = _url("closure_run_progress", big)
    polled, _ = page_queries(client, progress)
    assert polled <= 12


# --- cancelling several sessions together (ATT-7, CLO-7) ------------------------------------


def _outcome(w) -> dict:
    """What each student's lesson came to: state, how it changed, the credit decision."""
    with scopes_disabled():
        rows = Attendance.objects.filter(session__closure=w.closure).select_related(
            "enrolment__student", "session"
        )
        result = {}
        for row in rows:
            change = row.changes.order_by("pk").last()
            decision = row.credit_decisions.order_by("pk").last()
            credit = decision.credit if decision else None
            result[(row.enrolment.student.first_name, row.session.local_date)] = (
                row.state,
                change.source,
                change.note,
                decision.reason if decision else None,
                credit.expires_at if credit else None,
            )
        return result


@pytest.mark.parametrize("together", [True, False], ids=["together", "one-by-one"])
def test_att_7_cancelling_sessions_together_does_what_cancelling_each_does(
    school, monkeypatch, together
):
    """The bulk path and the one-by-one path (taken when a row appears meanwhile) agree:
    a student already marked expected is updated, one who had cancelled in time keeps their
    state and credit, the others get a row; every change is kept with the reason."""
    with scope(company=school.company):
        attendance_set_state(
            enrolment=school.ava, session=school.tue, state="present", actor=school.admin, now=NOW
        )
        attendance_set_state(
            enrolment=school.ava, session=school.tue, state="expected", actor=school.admin, now=NOW
        )
        attendance_set_state(
            enrolment=school.cleo,
            session=school.thu,
            state="cancelled",
            cancelled_at=NOW - timedelta(days=1),
            actor=school.admin,
            now=NOW,
        )
    if not together:

        def someone_else_wrote_a_row(*args, **kwargs):
            raise IntegrityError("duplicate key value violates unique constraint")

        monkeypatch.setattr(
            attendance_services, "_mark_all_staff_cancelled", someone_else_wrote_a_row
        )
    run = _apply(school)
    assert run.state == ClosureRun.State.DONE
    expires = NOW + timedelta(days=30)  # the staff path counts from the issue
    on_time = NOW - timedelta(days=1) + timedelta(days=30)  # Cleo's, from her cancellation
    staff = ("staff_cancelled", "session_cancel", "School closed: Pool repairs")
    assert _outcome(school) == {
        ("Ava", date(2026, 11, 24)): (*staff, DecisionReason.ISSUED, expires),
        ("Cleo", date(2026, 11, 24)): (*staff, DecisionReason.ISSUED, expires),
        ("Ava", date(2026, 11, 26)): (*staff, DecisionReason.ISSUED, expires),
        ("Cleo", date(2026, 11, 26)): ("cancelled", "staff", "", DecisionReason.ISSUED, on_time),
        ("Dan", date(2026, 11, 25)): (*staff, DecisionReason.ISSUED, expires),
        ("Ben", date(2026, 11, 24)): (*staff, DecisionReason.PATH_FORFEITED, None),
        ("Sol", date(2026, 11, 26)): (*staff, DecisionReason.MAKEUPS_DISABLED, None),
    }
    with scopes_disabled():
        cleo = MakeupCredit.objects.get(enrolment=school.cleo, attendance__session=school.thu)
    assert cleo.path == CreditPath.ON_TIME and cleo.state == CreditState.AVAILABLE


def test_att_7_cancelling_one_session_costs_the_same_queries_for_few_or_many_students(school):
    def cancel(session) -> int:
        with scope(company=school.company), CaptureQueriesContext(connection) as queries:
            session_cancel(session=session, reason="Storm", now=NOW)
        return len(queries)

    few = cancel(school.thu)  # two students
    for _ in range(12):
        f.EnrolmentFactory(klass=school.k_dolphins2, start_date=date(2026, 10, 1))
    many = cancel(school.wed)  # thirteen students
    assert few == many


def test_clo_4_a_partner_branchs_make_up_guest_is_told_through_their_own_school(
    fr,  # noqa: F811 (the partner make-up fixture, imported above)
    world,
    django_capture_on_commit_callbacks,
):
    """Ava of Alpha has a make-up at Beta, which closes that day: Beta's run gives her
    credit back and her family hears once, from Alpha (through the task, end to end)."""
    with scope(company=fr.home):
        booking = makeup_book(
            credit=fr.credit, actor=f.parent_of(fr.credit), session=fr.session, now=NOW
        )
    with scope(company=fr.host):
        closure = closure_create(
            company=fr.host,
            name="Lake drained",
            first_day=fr.session.local_date,
            last_day=fr.session.local_date,
            actor=world.owner_b,
            now=NOW,
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), scope(company=fr.host):
        run = closure_apply_request(closure=closure, actor=world.owner_b, now=NOW)
    with scopes_disabled():
        run.refresh_from_db()
        booking.refresh_from_db()
        credit = MakeupCredit.objects.get(pk=fr.credit.pk)
    assert run.state == ClosureRun.State.DONE and run.done == 1
    assert booking.state == MakeupBooking.State.CANCELLED
    assert credit.state == CreditState.AVAILABLE and credit.booking_id is None
    [message] = mail.outbox
    assert message.to == [world.parent_a.email]
    assert message.subject == "Lessons cancelled: Beta Swim is closed (Lake drained)"
    assert "Ava: Lake Sharks (Level 2), Wednesday 25 November, 16:00–16:30" in message.body
    assert "This was a make-up lesson: it is cancelled and the credit used for it is back." in (
        message.body
    )
    assert "/portal/alpha/" in message.body
