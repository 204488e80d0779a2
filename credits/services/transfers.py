"""The family credit wallet: giving a credit to a brother or sister (WAL-1)."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from bookings.models import Enrolment
from bookings.services import check_portal_parent
from makeup.errors import DomainError
from makeup.tenancy import membership_of
from programmes.selectors import accepting_programme_ids

from ..models import CreditEvent, CreditState, MakeupCredit, SessionWatch
from ..selectors.transfers import credit_transfer_refusal, enrolment_transfer_refusal
from .ledger import record_event


def _check_actor(*, credit: MakeupCredit, actor) -> None:
    """A member of the credit's company (staff, admin, owner), or a parent of the family
    with their own confirmed login (MKP-9's check) — nobody else gives a family's credit."""
    if membership_of(actor, credit.company_id) is not None:
        return
    check_portal_parent(family=credit.enrolment.student.family, user=actor)


@transaction.atomic
def credit_transfer(
    *, credit: MakeupCredit, to_enrolment: Enrolment, actor, now: datetime
) -> MakeupCredit:
    """WAL-1: give an available credit to a brother or sister in the same family.

    Who: staff of the credit's company, or a parent of the family with their own confirmed
    login. What (:mod:`credits.selectors.transfers`, the same rules the pages show): the
    credit is available and not past its expiry; the programme it was earned in allows
    transfers (``Programme.credit_transfer_allowed``, off by default); ``to_enrolment`` is a
    current enrolment of another child of the family, in the credit's programme or in one
    that accepts its credits (WAL-3). Otherwise refused with the reason (code
    ``not_transferable``).

    The credit keeps everything it had — its expiry, its source, its history — and only its
    ``holder`` changes: the receiving enrolment, whose student spends it from now on (the
    make-up search, booking and watches all go by the holder). It stays on the enrolment that
    earned it (``MakeupCredit.enrolment``), which is where the caps count credits (POL-5,
    POL-6: ``credits.services.decisions`` counts by the earning enrolment), so the
    receiver's caps are untouched — and giving a credit away frees no room under the
    giver's caps either, so a transfer can't be used to get round them. The history gains a
    ``transferred`` entry with who, when and both children; it shows in the owners' audit
    log with the other credit events. Watches waiting with the credit end (it is no longer
    the watcher's to spend). A later correction of the attendance that earned it treats it
    like a spent credit: flagged, never revoked (ATT-5, ``credit_decide``).
    """
    credit = (
        MakeupCredit.objects.select_for_update(of=("self",))
        .select_related(
            "company",
            "enrolment__student__family",
            "enrolment__klass__programme",
            "holder__student",
        )
        .get(pk=credit.pk)
    )
    _check_actor(credit=credit, actor=actor)
    tz = credit.company.tzinfo
    refusal = credit_transfer_refusal(credit=credit, now=now, tz=tz)
    receiver = (
        Enrolment.objects.filter(pk=to_enrolment.pk, company_id=credit.company_id)
        .select_related("student", "klass__programme")
        .first()
    )
    if refusal is None and receiver is None:
        refusal = _("That class enrolment is not in this family.")
    if refusal is None:
        home = credit.enrolment.klass.programme_id
        accepting = (
            set(accepting_programme_ids(programme_id=home))
            if receiver.klass.programme_id != home
            else set()
        )
        refusal = enrolment_transfer_refusal(
            credit=credit,
            to_enrolment=receiver,
            accepting_ids=accepting,
            today=now.astimezone(tz).date(),
        )
    if refusal is not None:
        raise DomainError(refusal, code="not_transferable")
    giver = credit.holder
    credit.holder, credit.transferred_at = receiver, now
    credit.save(update_fields=["holder", "transferred_at"])
    record_event(
        credit,
        kind=CreditEvent.Kind.TRANSFERRED,
        from_state=CreditState.AVAILABLE,
        to_state=CreditState.AVAILABLE,
        at=now,
        actor=actor,
        note=_("Given by {giver} to {receiver} ({klass}).").format(
            giver=giver.student.first_name,
            receiver=receiver.student.first_name,
            klass=receiver.klass.name,
        ),
        from_enrolment=giver,
        to_enrolment=receiver,
    )
    SessionWatch.objects.filter(credit=credit, state__in=SessionWatch.WAITING).update(
        state=SessionWatch.State.ENDED,
        ended_at=now,
        end_reason=_("The credit was given to {name}.").format(name=receiver.student.first_name)[
            :200
        ],
    )
    return credit
