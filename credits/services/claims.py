"""BEY-6 "I cancelled in time": a parent disputes a late cancellation or a no-show, staff
approve (the attendance is corrected and the credit decision re-runs) or decline with a
reason. The claim row keeps the timestamps as they were and the decision; the attendance's
own history (ATT-6) keeps the correction."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bookings.models import Attendance, AttendanceChange, AttendanceState, Guardian
from bookings.services import attendance_set_state
from makeup import outbox
from makeup.errors import DomainError
from makeup.formats import local_datetime

from ..models import AbsenceClaim
from ..selectors.claims import claim_refusal
from ..selectors.policies import cutoff_instant, policy_for

MESSAGE_MAX = 1000
REASON_MAX = 1000


def _attendance_locked(pk: int) -> Attendance:
    return (
        Attendance.objects.select_for_update()
        .select_related("session__klass__programme", "session__company", "enrolment__student")
        .get(pk=pk)
    )


@transaction.atomic
def claim_submit(
    *, attendance: Attendance, guardian_user, message: str = "", now: datetime
) -> AbsenceClaim:
    """BEY-6: a parent says they cancelled in time. Only for their own family's lesson
    (TEN-1), for the states and days :func:`claim_refusal` allows. The attendance's state,
    its recorded cancellation time (ATT-3) and the policy's cut-off instant (POL-1) are
    copied onto the claim, so staff see them as they were when the parent asked."""
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise DomainError(_("Keep the message under {count} characters.").format(count=MESSAGE_MAX))
    attendance = _attendance_locked(attendance.pk)
    is_parent = Guardian.objects.filter(
        company_id=attendance.company_id,
        user=guardian_user,
        family_id=attendance.enrolment.student.family_id,
    ).exists()
    if guardian_user is None or not is_parent:
        raise DomainError(_("That lesson is not one of your family's."), code="not_family")
    latest = AbsenceClaim.objects.filter(attendance=attendance).order_by("-pk").first()
    refusal = claim_refusal(attendance=attendance, latest_claim=latest, now=now)
    if refusal is not None:
        raise DomainError(refusal)
    session = attendance.session
    try:
        with transaction.atomic():
            return AbsenceClaim.objects.create(
                company_id=attendance.company_id,
                attendance=attendance,
                claimed_by=guardian_user,
                claimed_at=now,
                message=message,
                recorded_state=attendance.state,
                recorded_cancelled_at=attendance.cancelled_at,
                cutoff_at=cutoff_instant(policy_for(session.klass.programme), session),
            )
    except IntegrityError as exc:  # a second submit raced this one past the lock (SQLite)
        raise DomainError(
            _("Your claim for this lesson is already waiting for the school.")
        ) from exc


def _open_claim_locked(claim: AbsenceClaim) -> AbsenceClaim:
    claim = AbsenceClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.state != AbsenceClaim.State.OPEN:
        raise DomainError(
            _("This claim was already answered ({state}).").format(state=claim.get_state_display())
        )
    return claim


@transaction.atomic
def claim_approve(*, claim: AbsenceClaim, actor, now: datetime) -> AbsenceClaim:
    """BEY-6, ATT-4, ATT-5: staff accept that the client cancelled in time.

    The state is corrected through :func:`attendance_set_state` as a client cancellation, so
    the policy — not this function — says it is on time, the change is in the history
    (ATT-6) and the credit decision re-runs (POL-9, POL-10). The cancellation time given is
    the recorded one when the policy finds it on time today (e.g. the policy changed), else
    the cut-off instant itself: cancelling exactly at the cut-off counts as on time
    (:func:`credits.selectors.policies.is_on_time`), and it is the latest time that is. A
    no-show has no recorded time, so it gets the cut-off too. (Never later than now: a lesson
    still ahead today whose cut-off is not past yet is on time now.) The family is e-mailed."""
    attendance = _attendance_locked(claim.attendance_id)  # attendance first, as claim_submit
    claim = _open_claim_locked(claim)
    session = attendance.session
    cutoff = cutoff_instant(policy_for(session.klass.programme), session)
    told = attendance.cancelled_at
    cancelled_at = told if told is not None and told <= cutoff else min(cutoff, now)
    tz = session.company.tzinfo
    attendance = attendance_set_state(
        enrolment=attendance.enrolment,
        session=session,
        state=AttendanceState.CANCELLED,
        cancelled_at=cancelled_at,
        actor=actor,
        source=AttendanceChange.Source.STAFF,
        note=_("Claim approved: cancelled in time, counted as told on {date}.").format(
            date=local_datetime(cancelled_at, tz)
        ),
        now=now,
    )
    if attendance.state != AttendanceState.CANCELLED:  # the classifier disagreed: roll back
        raise DomainError(_("The policy still counts this as late: nothing was changed."))
    claim.state = AbsenceClaim.State.APPROVED
    claim.decided_by = actor
    claim.decided_at = now
    claim.resulting_state = attendance.state
    claim.save(update_fields=["state", "decided_by", "decided_at", "resulting_state"])
    _notify(claim)
    return claim


@transaction.atomic
def claim_decline(*, claim: AbsenceClaim, actor, reason: str, now: datetime) -> AbsenceClaim:
    """BEY-6: staff decline a claim with a reason the family reads; the attendance keeps its
    state. The family is e-mailed."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the claim is declined (the family reads it)."))
    if len(reason) > REASON_MAX:
        raise DomainError(_("Keep the reason under {count} characters.").format(count=REASON_MAX))
    claim = _open_claim_locked(claim)
    state = Attendance.objects.filter(pk=claim.attendance_id).values_list("state", flat=True)
    claim.state = AbsenceClaim.State.DECLINED
    claim.decided_by = actor
    claim.decided_at = now
    claim.decline_reason = reason
    claim.resulting_state = state.get()
    claim.save(
        update_fields=["state", "decided_by", "decided_at", "decline_reason", "resulting_state"]
    )
    _notify(claim)
    return claim


def _notify(claim: AbsenceClaim) -> None:
    outbox.enqueue(
        "credits.tasks.send_claim_answered",
        claim.company_id,
        claim.pk,
        key=f"claim-answered:{claim.pk}",
    )
