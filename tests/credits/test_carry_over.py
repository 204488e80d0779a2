"""WAL-4: unused credits carried into the student's next enrolment when a class's term ends —
the credit's holder moves (WAL-1: the enrolment whose child may spend it), never the enrolment
that earned it.

Every instant is fixed (the clock is an argument, or frozen with time-machine for the task):
the old term's last day is Sunday 4 April 2027, the day Sydney leaves daylight saving (a
25-hour day), so the term is over at 00:00 on 5 April, AEST — 14:00 UTC, not the 13:00 a
"start of the last day + 24 hours" would give."""

import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_scopes import scope, scopes_disabled

from bookings.models import Enrolment, MakeupBooking, Student
from bookings.services import attendance_set_state
from credits.models import (
    CancellationPolicy,
    CreditDecision,
    CreditEvent,
    CreditState,
    MakeupCredit,
)
from credits.selectors.carry_over import carry_over_plan, term_end
from credits.services import (
    credit_spend,
    credit_transfer,
    credits_carry_over,
    credits_expire_due,
    credits_held_for_carry_over,
)
from credits.services.carry_over import carried_message_key
from credits.tasks import carry_over_credits
from makeup.errors import DomainError
from makeup.models import AuditEntry, OutboxMessage
from makeups.selectors.eligibility import credit_checks
from makeups.services import makeup_book
from programmes.models import Class, Programme
from tests import factories as f

pytestmark = pytest.mark.django_db

SYDNEY = ZoneInfo("Australia/Sydney")
OLD_FIRST, OLD_LAST = date(2027, 2, 1), date(2027, 4, 4)
NEW_FIRST, NEW_LAST = date(2027, 4, 19), date(2027, 6, 27)
TERM_END = datetime(2027, 4, 5, 0, 0, tzinfo=SYDNEY)
ISSUED = datetime(2027, 3, 1, 9, 0, tzinfo=SYDNEY)
CARRY = {"term_end_credits": "carry", "carry_extra_days": 30}


@dataclass
class Terms:
    programme: Programme
    child: Student
    old: Enrolment
    new: Enrolment


def _set_policy(programme, **values):
    """The programme's policy: staff-path credits valid until the end of the term, plus
    ``values`` (the carry-over settings)."""
    with scopes_disabled():
        CancellationPolicy.objects.filter(programme=programme).update(
            staff_validity="term_end", staff_validity_days=None, **values
        )


def _terms(world, *, old_last=OLD_LAST, new_last=NEW_LAST, **policy) -> Terms:
    programme = f.ProgrammeFactory(company=world.company_a)
    _set_policy(programme, **policy)
    old_class = f.ClassFactory(
        programme=programme,
        name="Dolphins T1",
        start_date=old_last - (OLD_LAST - OLD_FIRST),
        end_date=old_last,
    )
    new_class = f.ClassFactory(
        programme=programme,
        name="Dolphins T2",
        start_date=old_last + (NEW_FIRST - OLD_LAST),
        end_date=new_last,
    )
    old = f.EnrolmentFactory(klass=old_class, student__first_name="Ada")
    new = f.EnrolmentFactory(klass=new_class, student=old.student)
    return Terms(programme=programme, child=old.student, old=old, new=new)


_lessons = iter(range(10_000))


def _credit(enrolment, *, expires_at=None, keep_term_end=True) -> MakeupCredit:
    """A credit earned the real way: the school cancelled one of the class's lessons (the
    staff path), so it expires with the term; ``expires_at`` sets another expiry (``None``
    with ``keep_term_end=False``: open-ended)."""
    day = enrolment.klass.start_date + timedelta(days=next(_lessons) % 50)
    session = f.SessionFactory(klass=enrolment.klass, local_date=day)
    with scope(company=enrolment.company):
        attendance_set_state(
            enrolment=enrolment,
            session=session,
            state="staff_cancelled",
            now=datetime.combine(day, time(9), tzinfo=SYDNEY),
        )
        credit = MakeupCredit.objects.get(attendance__session=session)
        if expires_at is not None or not keep_term_end:
            MakeupCredit.objects.filter(pk=credit.pk).update(expires_at=expires_at)
            credit.refresh_from_db()
    return credit


def _carry(world, now):
    with scope(company=world.company_a):
        return credits_carry_over(company=world.company_a, now=now)


def _fresh(credit) -> MakeupCredit:
    with scopes_disabled():
        return MakeupCredit.objects.get(pk=credit.pk)


def _events(credit, kind="carried") -> list[CreditEvent]:
    with scopes_disabled():
        return list(CreditEvent.objects.filter(credit_id=credit.pk, kind=kind))


def _messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(task="credits.tasks.send_credits_carried"))


def test_wal_4_default_policy_lets_credits_expire_as_issued(world):
    terms = _terms(world)  # the default: expire as issued
    credit = _credit(terms.old)
    assert credit.expires_at == TERM_END
    after = TERM_END + timedelta(days=1)
    assert _carry(world, after).carried == []
    assert credits_held_for_carry_over(now=after) == []
    assert credits_expire_due(now=after) == 1
    credit = _fresh(credit)
    assert (credit.state, credit.holder_id, credit.enrolment_id, credit.expires_at) == (
        CreditState.EXPIRED,
        terms.old.pk,
        terms.old.pk,
        TERM_END,
    )
    assert _events(credit) == [] and _messages() == []


def test_wal_4_carries_once_the_terms_last_day_is_over_in_the_companys_zone(world):
    """The term is over at local midnight after its last day; on a 25-hour day (DST ends)
    that is 14:00 UTC. A second before, nothing moves (and the credit is still valid);
    at the instant, it moves."""
    terms = _terms(world, **CARRY)
    credit = _credit(terms.old)
    assert term_end(OLD_LAST, SYDNEY) == TERM_END == datetime(2027, 4, 4, 14, 0, tzinfo=UTC)
    before = TERM_END - timedelta(seconds=1)
    assert _carry(world, before).carried == []
    assert credits_expire_due(now=before) == 0
    assert _fresh(credit).holder_id == terms.old.pk
    # At the instant the term is over, the sweep leaves it to the carry-over (carry first,
    # then expire), however often it runs before the carry-over does.
    assert credits_held_for_carry_over(now=TERM_END) == [credit.pk]
    assert credits_expire_due(now=TERM_END) == 0
    assert credits_expire_due(now=TERM_END + timedelta(hours=10)) == 0
    result = _carry(world, TERM_END + timedelta(hours=10))
    assert [(c.credit_id, c.from_enrolment_id, c.to_enrolment_id) for c in result.carried] == [
        (credit.pk, terms.old.pk, terms.new.pk)
    ]
    credit = _fresh(credit)
    # The holder moves; the enrolment that earned it stays (its programme, its caps).
    assert (credit.state, credit.holder_id, credit.enrolment_id) == (
        CreditState.AVAILABLE,
        terms.new.pk,
        terms.old.pk,
    )
    assert credit.holder_student == terms.child and not credit.is_transferred
    assert credit.transferred_at is None
    assert credit.expires_at == datetime(2027, 5, 5, 0, 0, tzinfo=SYDNEY)
    assert credits_expire_due(now=TERM_END + timedelta(days=29)) == 0  # the new expiry governs
    [event] = _events(credit)
    assert (event.from_enrolment_id, event.to_enrolment_id) == (terms.old.pk, terms.new.pk)
    assert (event.from_state, event.to_state, event.actor) == ("available", "available", None)
    assert "Dolphins T1" in event.note and "Dolphins T2" in event.note


def test_wal_4_validity_is_extended_by_n_calendar_days_from_the_credits_own_expiry(world):
    """N days after the credit's own expiry, in the company's calendar: a credit expiring at
    10:00 still expires at 10:00 after Sydney enters daylight saving (4 October 2026). An
    open-ended credit stays open-ended."""
    terms = _terms(world, old_last=date(2026, 9, 27), new_last=date(2026, 12, 13), **CARRY)
    own = datetime(2026, 10, 2, 10, 0, tzinfo=SYDNEY)  # five days after the term
    dated = _credit(terms.old, expires_at=own)
    open_ended = _credit(terms.old, keep_term_end=False)
    now = datetime(2026, 9, 28, 1, 0, tzinfo=SYDNEY)
    assert {c.credit_id for c in _carry(world, now).carried} == {dated.pk, open_ended.pk}
    moved = _fresh(dated).expires_at
    assert moved == datetime(2026, 11, 1, 10, 0, tzinfo=SYDNEY)
    assert moved - own == timedelta(days=30, hours=-1)  # one hour fewer: DST began
    assert _fresh(open_ended).expires_at is None
    assert _fresh(open_ended).holder_id == terms.new.pk


def test_wal_4_a_carried_credit_pays_for_a_make_up_after_its_old_expiry(world):
    """The next booking uses it: spending reads the credit's expiry, now the new one."""
    terms = _terms(world, **CARRY)
    credit = _credit(terms.old)
    later = f.SessionFactory(klass=terms.new.klass, local_date=date(2027, 4, 27))
    with scope(company=world.company_a), pytest.raises(DomainError) as refused:
        credit_spend(credit=credit, session=later, now=TERM_END - timedelta(days=3))
    assert refused.value.code == "after_expiry"
    _carry(world, TERM_END)
    with scope(company=world.company_a):
        spent = credit_spend(credit=_fresh(credit), session=later, now=TERM_END)
    assert spent.state == CreditState.USED


def test_wal_4_at_most_m_credits_go_into_one_enrolment_the_rest_expire_as_issued(world):
    terms = _terms(world, carry_max_credits=2, **CARRY)
    soon = _credit(terms.old)  # expires with the term
    later = _credit(terms.old, expires_at=TERM_END + timedelta(days=5))
    last = _credit(terms.old, expires_at=TERM_END + timedelta(days=9))
    now = TERM_END + timedelta(hours=1)
    result = _carry(world, now)
    assert {c.credit_id for c in result.carried} == {soon.pk, later.pk}  # soonest first
    assert result.over_limit == [last.pk]
    left = _fresh(last)
    assert (left.holder_id, left.expires_at) == (terms.old.pk, TERM_END + timedelta(days=9))
    # The one left over expires as issued: the sweep doesn't hold it.
    assert credits_held_for_carry_over(now=TERM_END + timedelta(days=9)) == []
    assert credits_expire_due(now=TERM_END + timedelta(days=9)) == 1
    assert _fresh(last).state == CreditState.EXPIRED
    assert _carry(world, TERM_END + timedelta(days=9)).carried == []


def test_wal_4_the_limit_counts_credits_carried_into_the_enrolment_before(world):
    """M counts every credit ever carried into the receiving enrolment, from any class."""
    terms = _terms(world, carry_max_credits=2, **CARRY)
    _credit(terms.old)
    _carry(world, TERM_END)
    # A second class of the programme the child attended in parallel ends a week later.
    other_class = f.ClassFactory(
        programme=terms.programme, start_date=OLD_FIRST, end_date=OLD_LAST + timedelta(days=7)
    )
    other = f.EnrolmentFactory(klass=other_class, student=terms.child)
    first, second = _credit(other), _credit(other)
    result = _carry(world, TERM_END + timedelta(days=7))
    assert [c.credit_id for c in result.carried] == [first.pk]
    assert result.over_limit == [second.pk]
    assert _fresh(second).holder_id == other.pk


@pytest.mark.parametrize("case", ["none", "withdrawn", "other_programme", "ended", "other_child"])
def test_wal_4_without_a_next_enrolment_credits_expire_as_issued(world, case):
    terms = _terms(world, **CARRY)
    credit = _credit(terms.old)
    with scopes_disabled():
        _break_next_enrolment(world, terms, case)
    assert _carry(world, TERM_END + timedelta(hours=1)).carried == []
    assert credits_expire_due(now=TERM_END + timedelta(hours=1)) == 1
    credit = _fresh(credit)
    assert (credit.state, credit.holder_id) == (CreditState.EXPIRED, terms.old.pk)


def _break_next_enrolment(world, terms, case):
    new = terms.new
    if case == "none":
        Enrolment.objects.filter(pk=new.pk).update(klass=terms.old.klass)
    elif case == "withdrawn":
        Enrolment.objects.filter(pk=new.pk).update(
            start_date=NEW_FIRST - timedelta(days=30), withdrawn_from=date(2027, 4, 5)
        )
    elif case == "other_programme":
        Enrolment.objects.filter(pk=new.pk).update(
            klass=f.ClassFactory(
                programme__company=world.company_a, start_date=NEW_FIRST, end_date=NEW_LAST
            )
        )
    elif case == "ended":  # a class that ended too is no next enrolment
        Class.objects.filter(pk=new.klass_id).update(start_date=OLD_FIRST, end_date=OLD_LAST)
    elif case == "other_child":
        sibling = f.StudentFactory(family=terms.child.family)
        Enrolment.objects.filter(pk=new.pk).update(student=sibling)


def test_wal_4_a_credit_that_ran_out_before_the_term_ended_stays_expired(world):
    terms = _terms(world, **CARRY)
    early = _credit(terms.old, expires_at=TERM_END - timedelta(days=2))
    assert credits_expire_due(now=TERM_END - timedelta(days=1)) == 1
    assert _carry(world, TERM_END).carried == []
    assert _fresh(early).state == CreditState.EXPIRED


def test_wal_4_rerun_the_same_day_or_later_changes_nothing(world):
    terms = _terms(world, **CARRY)
    credit = _credit(terms.old)
    now = TERM_END + timedelta(hours=1)
    assert len(_carry(world, now).carried) == 1
    moved = _fresh(credit)
    for again in (now, now + timedelta(hours=5), now + timedelta(days=3)):
        result = _carry(world, again)
        assert (result.carried, result.families, result.over_limit) == ([], [], [])
    assert _fresh(credit).expires_at == moved.expires_at
    assert len(_events(credit)) == 1
    assert len(_messages()) == 1


def test_wal_4_a_carried_credit_carries_again_only_when_the_next_term_ends(world):
    terms = _terms(world, new_last=date(2027, 4, 25), **CARRY)
    credit = _credit(terms.old, keep_term_end=False)  # open-ended: it outlives the next term
    third_class = f.ClassFactory(
        programme=terms.programme, start_date=date(2027, 5, 3), end_date=date(2027, 7, 4)
    )
    third = f.EnrolmentFactory(klass=third_class, student=terms.child)
    _carry(world, TERM_END)
    assert _fresh(credit).holder_id == terms.new.pk  # the one starting first
    assert _carry(world, datetime(2027, 4, 25, 23, 59, tzinfo=SYDNEY)).carried == []
    assert len(_carry(world, datetime(2027, 4, 26, 0, 0, tzinfo=SYDNEY)).carried) == 1
    assert (_fresh(credit).holder_id, _fresh(credit).enrolment_id) == (third.pk, terms.old.pk)
    assert [(e.from_enrolment_id, e.to_enrolment_id) for e in _events(credit)] == [
        (terms.old.pk, terms.new.pk),
        (terms.new.pk, third.pk),
    ]


def test_wal_4_caps_count_where_a_credit_was_earned_not_where_it_moved(world):
    """POL-5 on the receiving enrolment ignores a carried credit: it counts on the enrolment
    that earned it."""
    terms = _terms(world, on_time_outstanding_cap=1, **CARRY)
    with scopes_disabled():
        CancellationPolicy.objects.filter(programme=terms.programme).update(
            on_time_validity="term_end", on_time_validity_days=None
        )
    old_lesson = f.SessionFactory(klass=terms.old.klass, local_date=date(2027, 3, 23))
    with scope(company=world.company_a):
        attendance_set_state(
            enrolment=terms.old,
            session=old_lesson,
            state="cancelled",
            cancelled_at=ISSUED,
            now=ISSUED,
        )
    _carry(world, TERM_END)
    with scopes_disabled():
        carried = MakeupCredit.objects.get(attendance__session=old_lesson)
    assert (carried.holder_id, carried.enrolment_id) == (terms.new.pk, terms.old.pk)
    told = datetime(2027, 4, 20, 9, 0, tzinfo=SYDNEY)
    first = f.SessionFactory(klass=terms.new.klass, local_date=date(2027, 4, 27))
    second = f.SessionFactory(klass=terms.new.klass, local_date=date(2027, 5, 4))
    with scope(company=world.company_a):
        for lesson in (first, second):
            attendance_set_state(
                enrolment=terms.new, session=lesson, state="cancelled", cancelled_at=told, now=told
            )
        issued = set(
            MakeupCredit.objects.filter(attendance__session__in=[first, second]).values_list(
                "attendance__session_id", flat=True
            )
        )
    assert issued == {first.pk}  # the second meets the cap of credits earned in this class


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_wal_4_concurrent_runs_move_each_credit_once_and_never_past_the_limit(world):
    """Four runs at once: the receiving enrolment's lock and the re-read under it make each
    credit move once, at most M of them, with one message for the family."""
    terms = _terms(world, carry_max_credits=2, **CARRY)
    credits = [_credit(terms.old) for _ in range(4)]
    results, barrier = [], threading.Barrier(4)

    def run():
        barrier.wait()
        try:
            results.append(_carry(world, TERM_END))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(result.carried) for result in results) == 2
    with scopes_disabled():
        assert CreditEvent.objects.filter(kind="carried").count() == 2
        assert (
            MakeupCredit.objects.filter(pk__in=[c.pk for c in credits], holder=terms.new).count()
            == 2
        )
    assert len(_messages()) == 1


def test_wal_4_one_message_per_family_for_two_children(world, django_capture_on_commit_callbacks):
    """Two children's credits moved in one run: one outbox message for the family (keyed by
    family and day), one e-mail per parent in the parent's language, naming each child, the
    new class and the new expiry, and no rule codes."""
    terms = _terms(world, **CARRY)
    family = terms.child.family
    f.GuardianFactory(family=family, user=None, email="mum@example.com", full_name="Mum")
    czech = f.UserFactory(email="tata@example.com", language="cs")
    f.GuardianFactory(family=family, user=czech)
    sibling_old = f.EnrolmentFactory(
        klass=terms.old.klass, student=f.StudentFactory(family=family, first_name="Bo")
    )
    sibling_new = f.EnrolmentFactory(klass=terms.new.klass, student=sibling_old.student)
    ada, bo = _credit(terms.old), _credit(sibling_old)
    now = TERM_END + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = _carry(world, now)
    assert result.families == [family.pk]
    assert {c.to_enrolment_id for c in result.carried} == {terms.new.pk, sibling_new.pk}
    [message] = _messages()
    assert message.key == carried_message_key(family_id=family.pk, day=date(2027, 4, 5))
    assert message.args == [world.company_a.pk, family.pk, sorted([ada.pk, bo.pk])]
    assert message.done_at is not None
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"mum@example.com", "tata@example.com"}
    english = by_address["mum@example.com"]
    assert english.subject == "2 make-up credits moved to the new term at Alpha Swim"
    for text in (english.body, english.alternatives[0][0]):
        assert "Ada: " in text and "Bo: " in text and "Dolphins T2" in text
        assert "Wednesday 5 May 2027, 00:00" in text
        assert "WAL" not in text
    czech_mail = by_address["tata@example.com"]
    assert czech_mail.subject == "Alpha Swim: 2 náhradní kredity se přesunuly do nového pololetí"
    assert "Pololetí skončilo." in czech_mail.body
    assert "5. května 2027 v 00:00" in czech_mail.body
    assert "WAL" not in czech_mail.body and "Ada" in czech_mail.body


def test_wal_4_daily_task_carries_then_sweeps_and_tells_the_family(
    world, django_capture_on_commit_callbacks
):
    """The beat task end to end: in each company whose policies carry, credits move and the
    family's message goes through the outbox (sent once, even when the task runs again that
    day); then the sweep expires what did not move."""
    terms = _terms(world, **CARRY)
    f.GuardianFactory(family=terms.child.family, user=None, email="mum@example.com")
    moving = _credit(terms.old)
    stuck_child = f.EnrolmentFactory(klass=terms.old.klass)  # no next enrolment
    stuck = _credit(stuck_child)
    with time_machine.travel(TERM_END + timedelta(hours=10, minutes=35), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert carry_over_credits.delay().get() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert carry_over_credits.delay().get() == 0
    assert _fresh(moving).holder_id == terms.new.pk
    assert _fresh(stuck).state == CreditState.EXPIRED
    [message] = _messages()
    assert message.done_at is not None and message.attempts == 0
    assert [m.to for m in mail.outbox] == [["mum@example.com"]]
    assert "Ada: " in mail.outbox[0].body


def test_wal_4_check_invariants_replays_carry_overs(world):
    terms = _terms(world, **CARRY)
    credit = _credit(terms.old)
    untouched = _credit(f.EnrolmentFactory(klass=terms.old.klass))
    _carry(world, TERM_END)
    out = StringIO()
    call_command("check_invariants", stdout=out)
    assert "credit holders: 0 problem(s)" in out.getvalue()
    stranger = f.EnrolmentFactory(klass=terms.new.klass)
    with scopes_disabled():
        # A carry-over to another child (the history says so too)…
        MakeupCredit.objects.filter(pk=credit.pk).update(holder=stranger)
        CreditEvent.objects.filter(credit_id=credit.pk, kind="carried").update(
            to_enrolment=stranger
        )
        # …and a credit whose earning enrolment was moved, the way WAL-4 must not.
        next_one = f.EnrolmentFactory(klass=terms.new.klass, student=untouched.enrolment.student)
        MakeupCredit.objects.filter(pk=untouched.pk).update(enrolment=next_one, holder=next_one)
    with pytest.raises(CommandError) as failed:
        call_command("check_invariants", stdout=StringIO())
    text = str(failed.value)
    assert f"credit {credit.pk}: carried from enrolment {terms.old.pk} to {stranger.pk}" in text
    assert f"credit {credit.pk}: held outside the family that earned it" in text
    assert f"credit {untouched.pk}: on another enrolment than the lesson that earned it" in text


def _siblings(world, **policy):
    """Ada (the credit's earner) and her brother Bo, both in the old and the new class of a
    programme that allows giving credits to a sibling; Ada's credit, given to Bo on 1 March."""
    terms = _terms(world, **policy)
    with scopes_disabled():
        Programme.objects.filter(pk=terms.programme.pk).update(credit_transfer_allowed=True)
    family = terms.child.family
    bo = f.StudentFactory(family=family, first_name="Bo")
    bo_old = f.EnrolmentFactory(klass=terms.old.klass, student=bo)
    bo_new = f.EnrolmentFactory(klass=terms.new.klass, student=bo)
    credit = _credit(terms.old)
    given = datetime(2027, 3, 1, 10, 0, tzinfo=SYDNEY)
    with scope(company=world.company_a):
        credit_transfer(credit=credit, to_enrolment=bo_old, actor=world.staff_a, now=given)
    return terms, bo_old, bo_new, _fresh(credit), given


def test_wal_4_a_credit_given_to_a_sibling_carries_into_the_siblings_next_class(
    world, django_capture_on_commit_callbacks
):
    """Ada's credit, given to Bo, moves by its holder when Bo's term ends: into Bo's next
    class (not Ada's), still Bo's to spend and still counted where Ada earned it; M counts it
    on Bo's new enrolment; the family's e-mail names Bo; Bo books with it after its old
    expiry."""
    terms, bo_old, bo_new, credit, given = _siblings(world, carry_max_credits=1, **CARRY)
    f.GuardianFactory(family=terms.child.family, user=None, email="mum@example.com")
    assert (credit.holder_id, credit.enrolment_id) == (bo_old.pk, terms.old.pk)
    now = TERM_END + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = _carry(world, now)
    assert [(c.credit_id, c.from_enrolment_id, c.to_enrolment_id) for c in result.carried] == [
        (credit.pk, bo_old.pk, bo_new.pk)
    ]
    with scopes_disabled():
        credit = MakeupCredit.objects.select_related("enrolment__student", "holder__student").get(
            pk=credit.pk
        )
        events = [
            (e.kind, e.from_enrolment_id, e.to_enrolment_id) for e in credit.events.order_by("pk")
        ]
    assert (credit.holder_id, credit.enrolment_id) == (bo_new.pk, terms.old.pk)
    assert credit.holder_student.first_name == "Bo" and credit.is_transferred
    assert credit.transferred_at == given  # carrying is no new gift
    assert credit.expires_at == datetime(2027, 5, 5, 0, 0, tzinfo=SYDNEY)
    assert events == [
        ("issued", None, None),
        ("transferred", terms.old.pk, bo_old.pk),
        ("carried", bo_old.pk, bo_new.pk),
    ]
    # M counts what landed on Bo's new enrolment: Bo's own next credit stays behind.
    bos_own = _credit(bo_old)
    again = _carry(world, now)
    assert (again.carried, again.over_limit) == ([], [bos_own.pk])
    # The family is told about Bo's credit in Bo's new class.
    [email] = mail.outbox
    assert "Bo: " in email.body and "Dolphins T2" in email.body and "Ada" not in email.body
    # Bo books a make-up with it after its old expiry; Ada can't.
    host = f.SessionFactory(
        klass=f.ClassFactory(
            programme=terms.programme,
            name="Dolphins T2 Sat",
            start_date=NEW_FIRST,
            end_date=NEW_LAST,
            min_age_months=None,
            max_age_months=None,
        ),
        local_date=date(2027, 4, 24),
        local_time=time(10),
    )
    booked_at = datetime(2027, 4, 20, 9, 0, tzinfo=SYDNEY)
    for_ada = credit_checks(credit=credit, student=terms.child, now=booked_at, tz=SYDNEY)
    assert [(c.rule, c.passed) for c in for_ada] == [("CRD-1", False), ("CRD-4", True)]
    with scope(company=world.company_a):
        booking = makeup_book(
            credit=credit,
            session=host,
            actor=world.staff_a,
            source=MakeupBooking.Source.STAFF,
            now=booked_at,
        )
    assert (booking.student.first_name, booking.enrolment_id) == ("Bo", bo_new.pk)


def test_wal_4_a_carried_credit_is_still_the_childs_and_a_correction_withdraws_it(world):
    """Carried, the credit is held by another enrolment of the same child: not "given to a
    sibling", so correcting the lesson that earned it still withdraws it while unused (ATT-5)
    instead of flagging a conflict."""
    terms = _terms(world, **CARRY)
    credit = _credit(terms.old)
    _carry(world, TERM_END)
    with scopes_disabled():
        credit = MakeupCredit.objects.select_related("attendance__session").get(pk=credit.pk)
    assert credit.holder_id == terms.new.pk and not credit.is_transferred
    lesson = credit.attendance.session
    with scope(company=world.company_a):
        attendance_set_state(
            enrolment=terms.old,
            session=lesson,
            state="present",
            actor=world.staff_a,
            now=TERM_END + timedelta(days=1),
        )
    credit = _fresh(credit)
    assert credit.state == CreditState.REVOKED
    with scopes_disabled():
        latest = CreditDecision.objects.filter(attendance=credit.attendance_id).latest("pk")
    assert latest.reason == "revoked" and not latest.needs_attention


def test_wal_4_check_invariants_replays_a_transfer_then_a_carry_over(world):
    """The holder replay follows the transfer and the carry-over in the order they happened;
    out of order, or a carry-over to another child, is found."""
    terms, bo_old, bo_new, credit, given = _siblings(world, **CARRY)
    _carry(world, TERM_END)
    out = StringIO()
    call_command("check_invariants", stdout=out)
    assert "credit holders: 0 problem(s)" in out.getvalue()
    assert "All invariants hold." in out.getvalue()
    with scopes_disabled():
        carried = CreditEvent.objects.get(credit_id=credit.pk, kind="carried")
        # Recorded before the gift: the carry-over would start from Ada's enrolment.
        CreditEvent.objects.filter(pk=carried.pk).update(at=given - timedelta(days=1))
    with pytest.raises(CommandError) as failed:
        call_command("check_invariants", stdout=StringIO())
    assert (
        f"credit {credit.pk}: carried from enrolment {bo_old.pk} while {terms.old.pk} held it"
        in str(failed.value)
    )
    with scopes_disabled():
        CreditEvent.objects.filter(pk=carried.pk).update(at=carried.at)
        # Carried into Ada's next class instead of Bo's: another child.
        CreditEvent.objects.filter(pk=carried.pk).update(to_enrolment=terms.new)
        MakeupCredit.objects.filter(pk=credit.pk).update(holder=terms.new)
    with pytest.raises(CommandError) as failed:
        call_command("check_invariants", stdout=StringIO())
    assert (
        f"credit {credit.pk}: carried from enrolment {bo_old.pk} to {terms.new.pk}, another "
        "student or programme" in str(failed.value)
    )


def test_wal_4_the_plan_is_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    terms = _terms(world, carry_max_credits=5, **CARRY)
    for _ in range(3):
        _credit(terms.old)
    for _ in range(3):
        child = f.EnrolmentFactory(klass=terms.old.klass)
        f.EnrolmentFactory(klass=terms.new.klass, student=child.student)
        _credit(child)
    with scopes_disabled(), django_assert_max_num_queries(4):
        plan = carry_over_plan(company=world.company_a, now=TERM_END)
    assert len(plan.steps) == 6


def test_wal_4_the_policy_page_sets_the_carry_over(world, login):
    programme = f.ProgrammeFactory(company=world.company_a)
    client = login(world.admin_a)
    url = f"/manage/programmes/{programme.pk}/policy/"
    page = client.get(url).content.decode()
    assert re.search(r'value="expire"[^>]*checked', page)  # the default
    assert "When the term ends" in page
    assert "keep their own expiry and run out as issued" in page
    assert "Extra days to use a moved credit" in page and "WAL" not in page
    data = {
        "mode": "hours_before",
        "hours_before": "24",
        "issue_on_time": "on",
        "issue_staff": "on",
        "on_time_validity": "days",
        "on_time_validity_days": "30",
        "on_time_validity_start": "cancellation",
        "late_validity": "days",
        "late_validity_days": "30",
        "late_validity_start": "cancellation",
        "staff_validity": "days",
        "staff_validity_days": "30",
        "portal_late_cancellation": "allow",
        "term_end_credits": "carry",
        "cutoff-TOTAL_FORMS": "7",
        "cutoff-INITIAL_FORMS": "7",
        "cutoff-MIN_NUM_FORMS": "7",
        "cutoff-MAX_NUM_FORMS": "7",
        **{f"cutoff-{d}-lesson_weekday": str(d) for d in range(7)},
    }
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Enter how many days moved credits get" in refused.content.decode()
    with scope(company=world.company_a):
        assert CancellationPolicy.objects.get(programme=programme).term_end_credits == "expire"
    saved = client.post(url, {**data, "carry_extra_days": "30", "carry_max_credits": "2"})
    assert saved.status_code == 302
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=programme)
        entry = AuditEntry.objects.get(area=AuditEntry.Area.POLICY)
    assert (policy.term_end_credits, policy.carry_extra_days, policy.carry_max_credits) == (
        "carry",
        30,
        2,
    )
    assert "move to the next term with 30 more days, at most 2 per class" in entry.summary
    assert re.search(r'value="carry"[^>]*checked', client.get(url).content.decode())
    # Back to the default: the carry-over's numbers are dropped with it.
    client.post(url, {**data, "term_end_credits": "expire", "carry_extra_days": "30"})
    with scope(company=world.company_a):
        policy = CancellationPolicy.objects.get(programme=programme)
    assert (policy.term_end_credits, policy.carry_extra_days, policy.carry_max_credits) == (
        "expire",
        None,
        None,
    )
