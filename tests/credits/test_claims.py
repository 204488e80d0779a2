"""BEY-6 "I cancelled in time": a parent disputes a late cancellation or a no-show from the
portal; staff approve (the state is corrected through ``attendance_set_state`` and the
credit decision re-runs) or decline with a reason; the family is e-mailed; all is kept.

Ava (Parker family, ``world.parent_a``) missed Tue 17 Nov 2026 17:00 Sydney; the default
policy's cut-off is 24 hours before, Mon 16 Nov 17:00. Time is frozen on Sat 21 Nov, 11:00
in Sydney."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import AttendanceChange, Guardian
from bookings.models import AttendanceState as S
from bookings.services import attendance_set_state
from credits.models import (
    AbsenceClaim,
    CancellationPolicy,
    CreditDecision,
    CreditPath,
    CreditState,
    MakeupCredit,
)
from credits.services.claims import claim_approve, claim_decline, claim_submit
from makeup.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # Sat 21 Nov, 11:00 in Sydney


@pytest.fixture
def cw(world):
    with time_machine.travel(NOW, tick=False):
        c = SimpleNamespace(world=world, company=world.company_a)
        with scopes_disabled():
            c.guardian = Guardian.objects.select_related("family").get(user=world.parent_a)
        c.klass = f.ClassFactory(programme__company=c.company, name="Home Dolphins")
        c.enrolment = f.EnrolmentFactory(
            klass=c.klass, student__family=c.guardian.family, student__first_name="Ava"
        )
        c.session = f.SessionFactory(klass=c.klass, local_date=date(2026, 11, 17))
        c.cutoff = c.session.starts_at - timedelta(hours=24)
        with scope(company=c.company):
            yield c


def _set(c, state, *, cancelled_at=None, session=None):
    session = session or c.session
    moment = cancelled_at or session.starts_at + timedelta(hours=1)
    return attendance_set_state(
        enrolment=c.enrolment,
        session=session,
        state=state,
        cancelled_at=cancelled_at,
        actor=c.world.staff_a,
        now=min(moment, NOW),
    )


def _late(c):
    """Told us two hours before the lesson: late, no credit."""
    return _set(c, S.CANCELLED, cancelled_at=c.session.starts_at - timedelta(hours=2))


def _claim(c, attendance, message="I phoned on Monday morning."):
    return claim_submit(
        now=timezone.now(), attendance=attendance, guardian_user=c.world.parent_a, message=message
    )


def _claim_url(attendance) -> str:
    return reverse(
        "portal:claim_create", kwargs={"company_slug": "alpha", "attendance_pk": attendance.pk}
    )


# --- submitting ---------------------------------------------------------------------------


def test_bey_6_claim_keeps_the_recorded_state_times_and_cut_off(cw):
    attendance = _late(cw)
    assert attendance.state == S.LATE_CANCELLED
    claim = _claim(cw, attendance)
    assert claim.state == AbsenceClaim.State.OPEN
    assert claim.claimed_by == cw.world.parent_a and claim.claimed_at == NOW
    assert claim.message == "I phoned on Monday morning."
    assert claim.recorded_state == S.LATE_CANCELLED
    assert claim.recorded_cancelled_at == cw.session.starts_at - timedelta(hours=2)
    assert claim.cutoff_at == cw.cutoff


def test_bey_6_a_no_show_can_be_claimed_without_a_message(cw):
    claim = _claim(cw, _set(cw, S.NO_SHOW), message="")
    assert claim.recorded_state == S.NO_SHOW and claim.recorded_cancelled_at is None
    assert claim.message == ""


@pytest.mark.parametrize("state", [S.CANCELLED, S.PRESENT, S.STAFF_CANCELLED])
def test_bey_6_only_a_late_cancellation_or_a_no_show_can_be_claimed(cw, state):
    cancelled_at = cw.session.starts_at - timedelta(days=3) if state == S.CANCELLED else None
    attendance = _set(cw, state, cancelled_at=cancelled_at)
    with pytest.raises(DomainError, match="Only a late cancellation or a missed lesson"):
        _claim(cw, attendance)
    assert not AbsenceClaim.objects.exists()


def test_bey_6_a_lesson_still_ahead_cannot_be_claimed(cw):
    ahead = f.SessionFactory(klass=cw.klass, local_date=date(2026, 11, 24))
    attendance = _set(cw, S.NO_SHOW, session=ahead)
    with pytest.raises(DomainError, match="from its day on"):
        _claim(cw, attendance)


def test_bey_6_a_lesson_of_today_can_be_claimed(cw):
    today = f.SessionFactory(klass=cw.klass, local_date=date(2026, 11, 21))
    attendance = _set(cw, S.CANCELLED, cancelled_at=NOW, session=today)  # 6 hours before
    assert attendance.state == S.LATE_CANCELLED
    assert _claim(cw, attendance).state == AbsenceClaim.State.OPEN


def test_bey_6_one_open_claim_per_attendance(cw):
    attendance = _late(cw)
    first = _claim(cw, attendance)
    with pytest.raises(DomainError, match="already waiting"):
        _claim(cw, attendance)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        AbsenceClaim.objects.create(
            company=cw.company,
            attendance=attendance,
            claimed_at=NOW,
            recorded_state=first.recorded_state,
            cutoff_at=first.cutoff_at,
        )
    assert AbsenceClaim.objects.count() == 1


def test_bey_6_a_declined_claim_is_the_answer_until_the_state_changes(cw):
    attendance = _late(cw)
    claim_decline(
        now=timezone.now(),
        claim=_claim(cw, attendance),
        actor=cw.world.staff_a,
        reason="No call logged.",
    )
    with pytest.raises(DomainError, match="already answered"):
        _claim(cw, attendance)
    # A later correction (a no-show now) can be disputed again.
    attendance = _set(cw, S.NO_SHOW)
    assert _claim(cw, attendance).recorded_state == S.NO_SHOW


def test_bey_6_parent_can_only_claim_for_their_own_family(cw):
    other = f.GuardianFactory(family__company=cw.company, user__email="other@example.com")
    with pytest.raises(DomainError, match="not one of your family's"):
        claim_submit(now=timezone.now(), attendance=_late(cw), guardian_user=other.user, message="")
    with pytest.raises(DomainError):
        claim_submit(
            now=timezone.now(), attendance=_late(cw), guardian_user=cw.world.staff_a, message=""
        )
    assert not AbsenceClaim.objects.exists()


def test_bey_6_message_is_at_most_1000_characters(cw):
    with pytest.raises(DomainError, match="1000"):
        _claim(cw, _late(cw), message="x" * 1001)


# --- approving ----------------------------------------------------------------------------


def test_bey_6_approve_corrects_to_on_time_reruns_the_decision_and_emails(
    cw, mailoutbox, django_capture_on_commit_callbacks
):
    attendance = _late(cw)
    assert CreditDecision.objects.get(attendance=attendance).reason == "late_forfeited"
    claim = _claim(cw, attendance)
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_approve(now=timezone.now(), claim=claim, actor=cw.world.staff_a)

    attendance.refresh_from_db()
    # Counted as told exactly at the cut-off: the latest instant that is on time (POL-1).
    assert attendance.state == S.CANCELLED and attendance.cancelled_at == cw.cutoff
    assert claim.state == AbsenceClaim.State.APPROVED
    assert claim.decided_by == cw.world.staff_a and claim.decided_at == NOW
    assert claim.resulting_state == S.CANCELLED
    # The recorded facts stay as they were when the parent asked.
    assert claim.recorded_state == S.LATE_CANCELLED
    assert claim.recorded_cancelled_at == cw.session.starts_at - timedelta(hours=2)
    # ATT-6: the correction is in the attendance history, by the staff member.
    change = AttendanceChange.objects.filter(attendance=attendance).last()
    assert (change.from_state, change.to_state) == (S.LATE_CANCELLED, S.CANCELLED)
    assert change.changed_by == cw.world.staff_a and change.source == "staff"
    assert change.note.startswith("Claim approved:") and change.cancelled_at == cw.cutoff
    # POL-9: the decision re-ran and the on-time path issued a credit.
    decision = CreditDecision.objects.filter(attendance=attendance).last()
    assert decision.reason == "issued" and decision.actor == cw.world.staff_a
    credit = MakeupCredit.objects.get(attendance=attendance)
    assert credit.path == CreditPath.ON_TIME and credit.state == CreditState.AVAILABLE
    assert credit.expires_at == cw.cutoff + timedelta(days=30)  # POL-4: from the cancellation
    # The family hears about the credit (CRD-5) and the claim.
    subjects = [m.subject for m in mailoutbox]
    answer = next(m for m in mailoutbox if m.subject.startswith("Claim approved"))
    assert answer.to == ["parent.a@example.com"]
    assert "Ava, Home Dolphins 17 Nov" in answer.subject
    assert "cancelled on time" in answer.body and "Make-up credit issued" in answer.body
    assert len(subjects) == 2


def test_bey_6_approving_a_no_show_counts_it_at_the_cut_off(cw):
    attendance = _set(cw, S.NO_SHOW)
    claim_approve(now=timezone.now(), claim=_claim(cw, attendance), actor=cw.world.staff_a)
    attendance.refresh_from_db()
    assert attendance.state == S.CANCELLED and attendance.cancelled_at == cw.cutoff
    assert MakeupCredit.objects.get(attendance=attendance).path == CreditPath.ON_TIME


def test_bey_6_approve_follows_the_policy_when_on_time_issues_nothing(cw):
    policy = CancellationPolicy.objects.get(programme=cw.klass.programme)
    policy.issue_on_time = False
    policy.save()
    attendance = _late(cw)
    claim = claim_approve(now=timezone.now(), claim=_claim(cw, attendance), actor=cw.world.staff_a)
    attendance.refresh_from_db()
    assert attendance.state == S.CANCELLED and claim.state == AbsenceClaim.State.APPROVED
    assert not MakeupCredit.objects.filter(attendance=attendance).exists()
    assert CreditDecision.objects.filter(attendance=attendance).last().reason == "path_forfeited"


def test_bey_6_a_decided_claim_cannot_be_decided_again(cw):
    claim = claim_approve(now=timezone.now(), claim=_claim(cw, _late(cw)), actor=cw.world.staff_a)
    with pytest.raises(DomainError, match="already answered"):
        claim_approve(now=timezone.now(), claim=claim, actor=cw.world.staff_a)
    with pytest.raises(DomainError, match="already answered"):
        claim_decline(
            now=timezone.now(), claim=claim, actor=cw.world.staff_a, reason="Changed my mind"
        )


# --- declining ----------------------------------------------------------------------------


def test_bey_6_decline_needs_a_reason_keeps_the_state_and_emails(
    cw, mailoutbox, django_capture_on_commit_callbacks
):
    attendance = _late(cw)
    claim = _claim(cw, attendance)
    changes = AttendanceChange.objects.filter(attendance=attendance).count()
    with pytest.raises(DomainError, match="Say why"):
        claim_decline(now=timezone.now(), claim=claim, actor=cw.world.staff_a, reason="   ")
    claim.refresh_from_db()
    assert claim.state == AbsenceClaim.State.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_decline(
            now=timezone.now(),
            claim=claim,
            actor=cw.world.staff_a,
            reason="Our phone log shows your call at 15:00.",
        )
    assert claim.state == AbsenceClaim.State.DECLINED and claim.decided_by == cw.world.staff_a
    assert claim.decline_reason == "Our phone log shows your call at 15:00."
    assert claim.resulting_state == S.LATE_CANCELLED
    attendance.refresh_from_db()
    assert attendance.state == S.LATE_CANCELLED
    assert AttendanceChange.objects.filter(attendance=attendance).count() == changes
    assert not MakeupCredit.objects.filter(attendance=attendance).exists()
    (mail,) = mailoutbox
    assert mail.subject.startswith("Claim declined") and mail.to == ["parent.a@example.com"]
    assert "Our phone log shows your call at 15:00." in mail.body
    assert "Our phone log shows your call at 15:00." in mail.alternatives[0][0]


# --- back office --------------------------------------------------------------------------


def test_bey_6_staff_see_open_claims_first_with_the_recorded_times(cw, login):
    first = _claim(cw, _late(cw))
    other = f.SessionFactory(klass=cw.klass, local_date=date(2026, 11, 10))
    open_one = _claim(cw, _set(cw, S.NO_SHOW, session=other), message="Sent an e-mail")
    claim_decline(now=timezone.now(), claim=first, actor=cw.world.admin_a, reason="Too late")
    html = login(cw.world.staff_a).get(reverse("manage:claim_list")).content.decode()
    assert html.index(f'id="claim-{open_one.pk}"') < html.index(f'id="claim-{first.pk}"')
    assert "Sent an e-mail" in html and "Did not attend" in html
    assert "told us Tue 17 Nov 2026, 15:00" in html  # the recorded cancellation, local time
    assert "Mon 16 Nov 2026, 17:00" in html  # the cut-off
    assert "Sat 21 Nov 2026, 11:00" in html  # the claim time
    assert 'href="/manage/claims/"' in html  # in the navigation


def test_bey_6_staff_approve_and_decline_from_the_claim_page(cw, login):
    attendance = _late(cw)
    claim = _claim(cw, attendance)
    client = login(cw.world.staff_a)  # the lowest role decides: staff correct attendance
    url = reverse("manage:claim_detail", kwargs={"claim_pk": claim.pk})
    html = client.get(url).content.decode()
    assert "Mon 16 Nov 2026, 17:00" in html and "I phoned on Monday morning." in html
    response = client.post(url, {"action": "decline", "reason": ""})
    assert response.status_code == 400
    claim.refresh_from_db()
    assert claim.state == AbsenceClaim.State.OPEN
    assert client.post(url, {"action": "approve"}).status_code == 302
    claim.refresh_from_db()
    attendance.refresh_from_db()
    assert claim.state == AbsenceClaim.State.APPROVED and attendance.state == S.CANCELLED
    html = client.get(url).content.decode()
    assert "Claim approved:" in html  # the history note
    assert 'value="approve"' not in html
    response = client.post(url, {"action": "decline", "reason": "x"}, follow=True)
    assert "already answered" in response.content.decode()


def test_bey_6_decline_from_the_claim_page(cw, login):
    claim = _claim(cw, _late(cw))
    url = reverse("manage:claim_detail", kwargs={"claim_pk": claim.pk})
    response = login(cw.world.staff_a).post(url, {"action": "decline", "reason": "No record"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == AbsenceClaim.State.DECLINED and claim.decline_reason == "No record"


# --- permissions --------------------------------------------------------------------------


def test_bey_6_parent_cannot_reach_the_back_office_claim_pages(cw, login):
    claim = _claim(cw, _late(cw))
    client = login(cw.world.parent_a)
    assert client.get(reverse("manage:claim_list")).status_code == 403
    url = reverse("manage:claim_detail", kwargs={"claim_pk": claim.pk})
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "approve"}).status_code == 403
    claim.refresh_from_db()
    assert claim.state == AbsenceClaim.State.OPEN


def test_bey_6_staff_of_another_company_get_404_for_a_claim(cw, login):
    claim = _claim(cw, _late(cw))
    client = login(cw.world.staff_b)
    url = reverse("manage:claim_detail", kwargs={"claim_pk": claim.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "approve"}).status_code == 404
    assert client.post(url, {"action": "decline", "reason": "x"}).status_code == 404
    assert f"claim-{claim.pk}" not in client.get(reverse("manage:claim_list")).content.decode()
    claim.refresh_from_db()
    assert claim.state == AbsenceClaim.State.OPEN


def test_bey_6_parent_of_another_family_gets_404(cw, login):
    attendance = _late(cw)
    other = f.GuardianFactory(family__company=cw.company, user__email="other@example.com")
    client = login(other.user)
    assert client.get(_claim_url(attendance)).status_code == 404
    assert client.post(_claim_url(attendance), {"message": "mine"}).status_code == 404
    # Staff have no family in the portal either.
    assert login(cw.world.staff_a).get(_claim_url(attendance)).status_code == 404
    assert not AbsenceClaim.objects.exists()


def test_bey_6_another_companys_portal_does_not_find_the_attendance(cw, login):
    attendance = _late(cw)
    f.GuardianFactory(family__company=cw.world.company_b, user=cw.world.parent_a)
    url = reverse(
        "portal:claim_create", kwargs={"company_slug": "beta", "attendance_pk": attendance.pk}
    )
    assert login(cw.world.parent_a).get(url).status_code == 404


# --- portal -------------------------------------------------------------------------------


def test_bey_6_portal_claim_from_the_receipt_to_the_answer(cw, login):
    attendance = _late(cw)
    present = _set(
        cw, S.PRESENT, session=f.SessionFactory(klass=cw.klass, local_date=date(2026, 11, 3))
    )
    client = login(cw.world.parent_a)
    home = client.get("/portal/alpha/").content.decode()
    assert _claim_url(attendance) in home
    assert _claim_url(present) not in home

    page = client.get(_claim_url(attendance)).content.decode()
    assert "Cancelled late" in page and "the cut-off was Mon 16 Nov 2026, 17:00" in page
    assert "Send my claim" in page
    response = client.post(_claim_url(attendance), {"message": "Phoned Monday 9:00"})
    assert response.status_code == 302 and response.url == "/portal/alpha/"
    claim = AbsenceClaim.objects.get()
    assert claim.message == "Phoned Monday 9:00" and claim.claimed_by == cw.world.parent_a

    home = client.get("/portal/alpha/").content.decode()
    assert "Claim sent 21 Nov: waiting for the school." in home
    assert _claim_url(attendance) not in home
    page = client.get(_claim_url(attendance)).content.decode()
    assert "waiting for the school" in page and "Send my claim" not in page
    assert client.post(_claim_url(attendance), {"message": "again"}).status_code == 302
    assert AbsenceClaim.objects.count() == 1

    claim_decline(
        now=timezone.now(), claim=claim, actor=cw.world.staff_a, reason="No call in our log."
    )
    home = client.get("/portal/alpha/").content.decode()
    assert "Claim declined 21 Nov: No call in our log." in home


def test_bey_6_portal_shows_an_approved_claim(cw, login):
    attendance = _set(cw, S.NO_SHOW)
    claim_approve(now=timezone.now(), claim=_claim(cw, attendance), actor=cw.world.staff_a)
    home = login(cw.world.parent_a).get("/portal/alpha/").content.decode()
    assert "Claim approved 21 Nov: counted as cancelled on time." in home
    assert "Make-up credit issued" in home
    assert _claim_url(attendance) not in home


def test_bey_6_portal_page_explains_why_a_lesson_cannot_be_claimed(cw, login):
    attendance = _set(cw, S.CANCELLED, cancelled_at=cw.session.starts_at - timedelta(days=3))
    client = login(cw.world.parent_a)
    page = client.get(_claim_url(attendance)).content.decode()
    assert "Only a late cancellation or a missed lesson can be disputed." in page
    assert "Send my claim" not in page
    response = client.post(_claim_url(attendance), {"message": "x"}, follow=True)
    assert "Only a late cancellation" in response.content.decode()
    assert not AbsenceClaim.objects.exists()
