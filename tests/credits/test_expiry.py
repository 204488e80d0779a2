"""CRD-4 expiry sweep and CRD-5 e-mails."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from credits.models import CreditEvent, CreditState, MakeupCredit
from credits.services import credit_add_manual
from credits.services.sweeps import credits_claim_reminders, credits_expire_due
from credits.tasks import send_expiry_reminders
from tests import factories as f

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _credit(enrolment, expires_at, state=CreditState.AVAILABLE):
    return MakeupCredit.objects.create(
        company=enrolment.company,
        enrolment=enrolment,
        path="manual",
        reason="test",
        issued_at=NOW - timedelta(days=30),
        expires_at=expires_at,
        state=state,
        state_changed_at=NOW - timedelta(days=30),
    )


@pytest.mark.django_db
def test_crd_4_sweep_expires_at_the_expiry_instant_and_writes_history(world):
    e = f.EnrolmentFactory(klass__programme__company=world.company_a)
    at_instant = _credit(e, NOW)
    just_after = _credit(e, NOW + timedelta(microseconds=1))
    used = _credit(e, NOW - timedelta(days=1), state=CreditState.USED)
    open_ended = _credit(e, None)
    other_company = _credit(
        f.EnrolmentFactory(klass__programme__company=world.company_b), NOW - timedelta(days=3)
    )
    assert credits_expire_due(now=NOW) == 2
    with scopes_disabled():
        states = dict(MakeupCredit.objects.values_list("pk", "state"))
        events = list(
            CreditEvent.objects.values_list("credit_id", "kind", "from_state", "to_state")
        )
    assert states[at_instant.pk] == states[other_company.pk] == "expired"
    assert states[just_after.pk] == "available" and states[open_ended.pk] == "available"
    assert states[used.pk] == "used"
    assert sorted(events) == sorted(
        [
            (at_instant.pk, "expired", "available", "expired"),
            (other_company.pk, "expired", "available", "expired"),
        ]
    )


@pytest.mark.django_db
def test_crd_4_sweep_is_idempotent(world):
    e = f.EnrolmentFactory(klass__programme__company=world.company_a)
    for _ in range(3):
        _credit(e, NOW - timedelta(hours=1))
    assert credits_expire_due(now=NOW) == 3
    assert credits_expire_due(now=NOW) == 0
    with scopes_disabled():
        assert CreditEvent.objects.filter(kind="expired").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_crd_4_concurrent_sweeps_expire_each_credit_once(world):
    e = f.EnrolmentFactory(klass__programme__company=world.company_a)
    MakeupCredit.objects.bulk_create(
        [
            MakeupCredit(
                company=e.company,
                enrolment=e,
                path="manual",
                reason="bulk",
                issued_at=NOW - timedelta(days=9),
                expires_at=NOW - timedelta(hours=1),
                state_changed_at=NOW - timedelta(days=9),
            )
            for _ in range(2000)
        ]
    )
    results, barrier = [], threading.Barrier(4)

    def sweep():
        barrier.wait()
        try:
            results.append(credits_expire_due(now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 2000
    with scopes_disabled():
        assert CreditEvent.objects.filter(kind="expired").count() == 2000
        assert not MakeupCredit.objects.filter(state="available").exists()


@pytest.mark.django_db
def test_crd_5_reminder_window_is_the_companys_days_and_sent_once(world):
    e = f.EnrolmentFactory(klass__programme__company=world.company_a)
    days = world.company_a.settings.expiry_reminder_days  # 7
    due = _credit(e, NOW + timedelta(days=days))
    not_yet = _credit(e, NOW + timedelta(days=days, seconds=1))
    claimed = credits_claim_reminders(now=NOW)
    assert claimed == [(world.company_a.pk, due.pk)]
    assert credits_claim_reminders(now=NOW) == []  # exactly once
    assert not_yet.pk not in {pk for _, pk in claimed}


@pytest.mark.django_db
def test_crd_5_reminder_e_mail_goes_to_the_parents(world, django_capture_on_commit_callbacks):
    family = f.FamilyFactory(company=world.company_a)
    f.GuardianFactory(family=family, user=None, email="mum@example.com")
    e = f.EnrolmentFactory(
        klass__programme__company=world.company_a, student__family=family, student__first_name="Ada"
    )
    from django.utils import timezone

    _credit(e, timezone.now() + timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):  # the outbox hands over on commit
        send_expiry_reminders.delay()
    with django_capture_on_commit_callbacks(execute=True):
        send_expiry_reminders.delay()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mum@example.com"]
    assert message.subject == "Ada's make-up credit expires in 3 days"


@pytest.mark.django_db
def test_crd_5_credit_issued_e_mail(world, django_capture_on_commit_callbacks):
    family = f.FamilyFactory(company=world.company_a)
    f.GuardianFactory(family=family, user=None, email="dad@example.com")
    e = f.EnrolmentFactory(
        klass__programme__company=world.company_a, student__family=family, student__first_name="Bo"
    )
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        credit_add_manual(
            now=timezone.now(),
            enrolment=e,
            reason="Pool closed on Sunday",
            actor=world.admin_a,
            valid_days=30,
        )
    assert [m.to for m in mail.outbox] == [["dad@example.com"]]
    assert "Bo has a make-up credit" in mail.outbox[0].subject
    assert "Pool closed on Sunday" in mail.outbox[0].body
    assert "text/html" in mail.outbox[0].alternatives[0][1]


@pytest.mark.django_db
def test_crd_4_usable_is_one_rule_at_the_expiry_instant(world):
    """A credit is usable while available and before its expiry, never at the expiry instant;
    an open-ended one always; the queryset and the row agree (one definition)."""
    enrolment = f.EnrolmentFactory(klass__programme__company=world.company_a)
    with scope(company=world.company_a):
        dated = credit_add_manual(
            enrolment=enrolment, reason="t", actor=None, valid_days=10, now=NOW
        )
        open_ended = credit_add_manual(
            enrolment=enrolment, reason="t", actor=None, valid_days=None, now=NOW
        )
        used = credit_add_manual(
            enrolment=enrolment, reason="t", actor=None, valid_days=10, now=NOW
        )
        MakeupCredit.objects.filter(pk=used.pk).update(state=CreditState.USED)
        used.refresh_from_db()
        for moment, expected in [
            (dated.expires_at - timedelta(microseconds=1), {dated.pk, open_ended.pk}),
            (dated.expires_at, {open_ended.pk}),
        ]:
            assert set(MakeupCredit.objects.usable(moment).values_list("pk", flat=True)) == expected
            assert {c.pk for c in (dated, open_ended, used) if c.is_usable(moment)} == expected
