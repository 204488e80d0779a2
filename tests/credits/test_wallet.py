"""The family credit wallet through its services: the level map (WAL-3) in the make-up checks,
and giving a credit to a sibling (WAL-1) — refusals, what the credit keeps, booking with it,
the caps, a later correction, the invariants. The Parker family (``world.parent_a``): Ava in
Swim Level 2 (which allows transfers), Ben in Swim Level 3 (which also accepts Level 2
credits), Cleo in Swim Level 4 (which doesn't). Time: Sat 21 Nov 2026, 11:00 in Sydney."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceState as S
from bookings.models import MakeupBooking
from bookings.services import attendance_set_state
from credits.models import (
    CancellationPolicy,
    CreditDecision,
    CreditEvent,
    CreditState,
    MakeupCredit,
    SessionWatch,
)
from credits.services import (
    credit_add_manual,
    credit_revoke,
    credit_transfer,
    decision_mark_reviewed,
)
from makeup.errors import DomainError
from makeups.selectors.eligibility import evaluate, makeup_candidates, with_occupancy
from makeups.services import lesson_cancel_by_parent, lesson_cancel_undo, makeup_book, watch_create
from portal.selectors.audit import audit_lines
from programmes.models import Session
from programmes.services import programme_update
from tests import factories as f
from tests.wallet import NOW, any_age_class, wallet_family


@pytest.fixture
def fam(world):
    with scope(company=world.company_a):
        yield wallet_family(world)


def _checks(credit, session, student=None):
    credit.refresh_from_db()
    target = with_occupancy(Session.objects.filter(pk=session.pk)).get()
    student = student or credit.holder_student
    return evaluate(student=student, credit=credit, sessions=[target], now=NOW)[0]


def _programme_check(credit, session):
    return next(c for c in _checks(credit, session).checks if c.rule == "MKP-1")


PARENT = object()


def _give(fam, to, actor=PARENT, credit=None):
    """Give the credit (Ava's, unless another) to ``to``; by the family's parent unless
    another ``actor`` (``None``: nobody) is named."""
    return credit_transfer(
        credit=credit or fam.credit,
        to_enrolment=to,
        actor=fam.parent if actor is PARENT else actor,
        now=NOW,
    )


# --- WAL-3: the level map in the make-up checks --------------------------------------------


def test_wal_3_a_programme_takes_the_credits_on_its_map_and_says_which_entry(fam):
    ben = fam.ben.student
    l2_credit_at_l3 = _checks(fam.credit, fam.l3_host, student=ben)
    check = next(c for c in l2_credit_at_l3.checks if c.rule == "MKP-1")
    assert check.passed
    assert check.text == "Swim Level 3 also accepts credits from Swim Level 2."
    # Not on Level 4's map: refused as another programme.
    refused = _programme_check(fam.credit, fam.l4_host)
    assert not refused.passed and "the credit is for Swim Level 2" in refused.text
    # Not symmetrical: Level 3 taking Level 2's credits says nothing of Level 2 taking Level 3's.
    with scope(company=fam.company):
        l3_credit = credit_add_manual(
            enrolment=fam.ben, reason="test", actor=None, valid_days=30, now=NOW
        )
    assert not _programme_check(l3_credit, fam.l2_host).passed
    # The search offers the sessions of the programmes that accept the credit.
    offered = {c.session.pk for c in makeup_candidates(credit=fam.credit, now=NOW)}
    assert {fam.l2_host.pk, fam.l3_host.pk} <= offered and fam.l4_host.pk not in offered


def test_wal_3_the_map_changes_what_is_offered_from_then_on(fam):
    with scope(company=fam.company):
        programme_update(
            programme=fam.l4,
            name=fam.l4.name,
            code=fam.l4.code,
            description="",
            makeups_enabled=True,
            accept_partner_makeups=False,
            accepts_credits_from=[fam.l2],
            now=NOW,
        )
    check = _programme_check(fam.credit, fam.l4_host)
    assert check.passed and check.text == "Swim Level 4 also accepts credits from Swim Level 2."
    with scope(company=fam.company):
        # Left out of the call: the map stays as it is.
        programme_update(
            programme=fam.l4,
            name="Swim Level 4",
            code="SWIM-L4",
            description="",
            makeups_enabled=True,
            accept_partner_makeups=False,
            now=NOW,
        )
        assert list(fam.l4.accepts_credits_from.all()) == [fam.l2]
        programme_update(
            programme=fam.l4,
            name="Swim Level 4",
            code="SWIM-L4",
            description="",
            makeups_enabled=True,
            accept_partner_makeups=False,
            accepts_credits_from=[],
            now=NOW,
        )
    assert not _programme_check(fam.credit, fam.l4_host).passed
    # The owners' audit log has each change of the map (none for the call that kept it).
    with scope(company=fam.company):
        lines = [line.what for line in audit_lines(fam.company, "programme")]
    assert lines == [
        "Swim Level 4: accepts credits of no other programme.",
        "Swim Level 4: also accepts credits from Swim Level 2.",
    ]


def test_wal_3_the_map_lists_only_other_programmes_of_the_company(fam, world):
    foreign = f.ProgrammeFactory(company=world.company_b, name="Elsewhere", code="SWIM-L2")
    values = {
        "name": "Swim Level 3",
        "code": "SWIM-L3",
        "description": "",
        "makeups_enabled": True,
        "accept_partner_makeups": False,
        "now": NOW,
    }
    with scope(company=fam.company):
        with pytest.raises(DomainError, match="always takes its own credits"):
            programme_update(programme=fam.l3, accepts_credits_from=[fam.l3], **values)
        with pytest.raises(DomainError, match="Only your own programmes"):
            programme_update(programme=fam.l3, accepts_credits_from=[foreign], **values)
        assert list(fam.l3.accepts_credits_from.all()) == [fam.l2]


def test_wal_3_the_map_is_read_once_per_evaluation_whatever_the_sessions(fam):
    credit = fam.credit
    credit.refresh_from_db()
    l3_classes = [any_age_class(fam.l3, f"L3 extra {n}") for n in range(4)]
    many = [fam.l3_host, fam.l4_host] + [
        f.SessionFactory(klass=k, local_date=date(2026, 11, 28)) for k in l3_classes
    ]
    own = [fam.l2_host] + [
        f.SessionFactory(
            klass=any_age_class(fam.l2, f"L2 extra {n}"), local_date=date(2026, 11, 28)
        )
        for n in range(4)
    ]

    evaluate(student=credit.holder_student, credit=credit, sessions=[], now=NOW)
    _programme_check(credit, fam.l3_host)  # what a credit reads of itself, loaded once

    def queries(sessions) -> int:
        annotated = list(with_occupancy(Session.objects.filter(pk__in=[s.pk for s in sessions])))
        with CaptureQueriesContext(connection) as captured:
            evaluate(student=credit.holder_student, credit=credit, sessions=annotated, now=NOW)
        return len(captured.captured_queries)

    assert queries(many[:1]) == queries(many)
    # Sessions of the credit's own programme only: the map is not read at all.
    assert queries(own[:1]) == queries(own) == queries(many) - 1


# --- WAL-1: giving a credit to a sibling ---------------------------------------------------


def test_wal_1_is_off_by_default_and_refused_with_the_reason(fam):
    fam.l2.credit_transfer_allowed = False
    fam.l2.save()
    with pytest.raises(DomainError, match="Swim Level 2 doesn't allow giving credits") as refused:
        _give(fam, fam.ben)
    assert refused.value.code == "not_transferable"
    assert f.ProgrammeFactory(company=fam.company).credit_transfer_allowed is False
    fam.credit.refresh_from_db()
    assert fam.credit.holder_id == fam.ava.pk


def test_wal_1_to_a_sibling_whose_programme_does_not_accept_it_is_refused(fam):
    with pytest.raises(DomainError, match=r"L4 Squad \(Swim Level 4\) doesn't take credits of"):
        _give(fam, fam.cleo)
    fam.credit.refresh_from_db()
    assert not fam.credit.is_transferred
    assert not CreditEvent.objects.filter(kind=CreditEvent.Kind.TRANSFERRED).exists()


def test_wal_1_the_level_map_allows_it_and_the_credit_keeps_its_expiry_and_history(fam):
    expiry, issued = fam.credit.expires_at, fam.credit.issued_at
    credit = _give(fam, fam.ben)
    credit.refresh_from_db()
    assert credit.holder_id == fam.ben.pk and credit.enrolment_id == fam.ava.pk
    assert (credit.expires_at, credit.issued_at) == (expiry, issued)
    assert credit.state == CreditState.AVAILABLE and credit.transferred_at == NOW
    events = list(credit.events.order_by("at", "pk"))
    assert [e.kind for e in events] == ["issued", "transferred"]
    moved = events[-1]
    assert (moved.from_enrolment_id, moved.to_enrolment_id) == (fam.ava.pk, fam.ben.pk)
    assert (moved.actor, moved.at) == (fam.parent, NOW)
    assert (moved.from_state, moved.to_state) == ("available", "available")
    assert moved.note == "Given by Ava to Ben (L3 Sharks)."
    # The owners' audit log lists it with the other credit events.
    lines = [line.what for line in audit_lines(fam.company, "credit")]
    assert any("Given to a sibling — Given by Ava to Ben" in line for line in lines)
    # And it can be given back the same way, by staff this time.
    back = _give(fam, fam.ava, actor=fam.staff)
    assert back.holder_id == fam.ava.pk and back.expires_at == expiry


def test_wal_1_the_receiving_child_books_with_it_through_eligibility(fam):
    _give(fam, fam.ben)
    credit = MakeupCredit.objects.get(pk=fam.credit.pk)
    offered = {c.session.pk: c for c in makeup_candidates(credit=credit, now=NOW)}
    assert offered[fam.l3_host.pk].bookable
    ben_check = next(c for c in offered[fam.l3_host.pk].checks if c.rule == "CRD-1")
    assert ben_check.passed
    # Ava no longer holds it.
    for_ava = _checks(credit, fam.l2_host, student=fam.ava.student)
    assert [c.rule for c in for_ava.failed] == ["CRD-1"]
    booking = makeup_book(credit=credit, session=fam.l3_host, actor=fam.parent, now=NOW)
    assert (booking.student, booking.enrolment) == (fam.ben.student, fam.ben)
    credit.refresh_from_db()
    assert credit.state == CreditState.USED and credit.booking == booking
    assert MakeupBooking.objects.filter(student=fam.ava.student).count() == 0


def test_wal_1_the_receivers_caps_are_untouched_and_the_givers_still_count_it(fam):
    # Level 3: one unused on-time credit at most, and one client credit in 90 days.
    ben_policy = CancellationPolicy.objects.get(programme=fam.l3)
    ben_policy.on_time_outstanding_cap = 1
    ben_policy.window_credits, ben_policy.window_days = 1, 90
    ben_policy.save()
    _give(fam, fam.ben)
    # Ben now holds one available on-time credit, but it was earned on Ava's enrolment:
    # his own cancellation still earns a credit (0 of 1 unused, 0 of 1 in 90 days).
    lesson = f.SessionFactory(klass=fam.l3_class, local_date=date(2026, 12, 1))
    told = NOW
    mine = attendance_set_state(
        enrolment=fam.ben, session=lesson, state=S.CANCELLED, cancelled_at=told, now=told
    )
    decision = CreditDecision.objects.filter(attendance=mine).latest("pk")
    assert decision.reason == "issued"
    assert (decision.figures["outstanding"], decision.figures["count"]) == (0, 0)
    # Ava's cap counts the credit she gave away (where it was earned): giving credits away
    # frees no room under her own cap.
    ava_policy = CancellationPolicy.objects.get(programme=fam.l2)
    ava_policy.on_time_outstanding_cap = 1
    ava_policy.save()
    hers = attendance_set_state(
        enrolment=fam.ava,
        session=f.SessionFactory(klass=fam.l2_class, local_date=date(2026, 12, 1)),
        state=S.CANCELLED,
        cancelled_at=told,
        now=told,
    )
    capped = CreditDecision.objects.filter(attendance=hers).latest("pk")
    assert capped.reason == "outstanding_cap" and capped.figures["outstanding"] == 1


def test_wal_1_a_correction_of_the_source_attendance_flags_it_and_never_revokes(fam):
    _give(fam, fam.ben)
    attendance_set_state(
        enrolment=fam.ava,
        session=fam.missed,
        state=S.PRESENT,
        actor=fam.staff,
        now=fam.missed.starts_at + timedelta(hours=2),
    )
    credit = MakeupCredit.objects.get(pk=fam.credit.pk)
    assert credit.state == CreditState.AVAILABLE and credit.holder_id == fam.ben.pk
    conflict = CreditDecision.objects.filter(attendance=fam.absence).latest("pk")
    assert conflict.reason == "spent_conflict" and conflict.needs_attention
    assert "was given to Ben and stays theirs (available)" in conflict.message
    assert not MakeupCredit.objects.filter(attendance=fam.absence, state="revoked").exists()
    # Nothing else withdraws it either.
    with pytest.raises(DomainError, match="given to a brother or sister") as refused:
        credit_revoke(credit=credit, actor=fam.staff, now=NOW, note="test")
    assert refused.value.code == "credit_transferred"
    decision_mark_reviewed(decision=conflict, actor=fam.world.admin_a, now=NOW)
    reviewed = credit.events.latest("pk")
    assert reviewed.kind == "reviewed" and "stays with the brother or sister" in reviewed.note


def test_wal_1_a_cant_come_whose_credit_was_given_away_stays_cancelled(fam):
    lesson = f.SessionFactory(klass=fam.l2_class, local_date=date(2026, 11, 24))
    attendance = lesson_cancel_by_parent(
        enrolment=fam.ava, session=lesson, actor=fam.parent, now=NOW
    )
    credit = MakeupCredit.objects.get(attendance=attendance)
    _give(fam, fam.ben, credit=credit)
    with pytest.raises(DomainError, match="was given to a brother or sister"):
        lesson_cancel_undo(enrolment=fam.ava, session=lesson, actor=fam.parent, now=NOW)
    credit.refresh_from_db()
    assert credit.state == CreditState.AVAILABLE and credit.holder_id == fam.ben.pk


def test_wal_1_only_an_available_credit_to_a_current_sibling_by_the_family_or_its_school(
    fam, world
):
    # Not by staff of another company, nor a parent of another family.
    stranger = f.GuardianFactory(family__company=fam.company).user
    for outsider in (world.staff_b, stranger, None):
        with pytest.raises(DomainError, match="Only a parent of this family"):
            _give(fam, fam.ben, actor=outsider)
    # Not to a child of another family, nor to the child who holds it.
    other = f.EnrolmentFactory(klass=fam.l3_class, student__first_name="Olga")
    with pytest.raises(DomainError, match="Olga is not in the same family"):
        _give(fam, other)
    with pytest.raises(DomainError, match="already Ava's"):
        _give(fam, f.EnrolmentFactory(klass=fam.l3_class, student=fam.ava.student))
    # Not to a class the sibling has left.
    fam.ben.withdrawn_from = date(2026, 11, 20)
    fam.ben.save()
    with pytest.raises(DomainError, match="Ben has left L3 Sharks"):
        _give(fam, fam.ben)
    fam.ben.withdrawn_from = None
    fam.ben.save()
    # Not past its expiry (before the sweep too), nor once spent.
    with pytest.raises(DomainError, match="expired on"):
        credit_transfer(
            credit=fam.credit,
            to_enrolment=fam.ben,
            actor=fam.parent,
            now=fam.credit.expires_at + timedelta(seconds=1),
        )
    makeup_book(credit=fam.credit, session=fam.l2_host, actor=fam.parent, now=NOW)
    with pytest.raises(DomainError, match="This credit is used"):
        _give(fam, fam.ben)


def test_wal_1_a_watch_waiting_with_the_credit_ends_when_it_is_given(fam):
    fam.l2_host.klass.capacity = 1
    fam.l2_host.klass.save()
    f.EnrolmentFactory(klass=fam.l2_host.klass, student__date_of_birth=date(2019, 1, 1))
    watch = watch_create(credit=fam.credit, session=fam.l2_host, actor=fam.parent, now=NOW)
    _give(fam, fam.ben)
    watch.refresh_from_db()
    assert watch.state == SessionWatch.State.ENDED
    assert watch.end_reason == "The credit was given to Ben."


def test_wal_1_check_invariants_replays_transfers_to_the_holder(fam):
    _give(fam, fam.ben)
    out = StringIO()
    call_command("check_invariants", stdout=out)
    assert "credit holders: 0 problem(s)" in out.getvalue()
    # A holder outside the family, reached without a transfer entry, is found.
    stranger = f.EnrolmentFactory(klass=fam.l2_class)
    with scopes_disabled():
        MakeupCredit.objects.filter(pk=fam.credit.pk).update(holder=stranger)
    with pytest.raises(CommandError) as found:
        call_command("check_invariants", stdout=StringIO())
    text = str(found.value)
    assert f"credit {fam.credit.pk}: held outside the family that earned it" in text
    ended = f"credit {fam.credit.pk}: transfers and carry-overs end at enrolment {fam.ben.pk}"
    assert ended in text
