"""WAL-1: can a credit be given to a brother or sister, and to which of their enrolments —
one answer for the pages (the parent's and the staff's "Give to a sibling") and for the
service that moves it (:func:`credits.services.credit_transfer`), so a page never offers what
the service would refuse."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from bookings.models import Enrolment
from makeup.formats import local_datetime
from programmes.selectors import accepting_programme_ids

from ..models import CreditState, MakeupCredit


def credit_transfer_refusal(*, credit: MakeupCredit, now: datetime, tz) -> str | None:
    """Why ``credit`` can't be given to anyone now, or ``None``: it must be available and
    not past its expiry, and the programme it was earned in must allow transfers (off by
    default). ``credit.enrolment.klass.programme`` is read."""
    if credit.state != CreditState.AVAILABLE:
        return _("This credit is {state}: it can't be given to anyone.").format(
            state=credit.get_state_display().lower()
        )
    if not credit.is_usable(now):
        return _("This credit expired on {date}: it can't be given to anyone.").format(
            date=local_datetime(credit.expires_at, tz)
        )
    programme = credit.enrolment.klass.programme
    if not programme.credit_transfer_allowed:
        return _("{programme} doesn't allow giving credits to a brother or sister.").format(
            programme=programme.name
        )
    return None


def enrolment_transfer_refusal(
    *, credit: MakeupCredit, to_enrolment: Enrolment, accepting_ids: set[int], today: date
) -> str | None:
    """Why ``to_enrolment`` can't receive ``credit``, or ``None``: a brother or sister in
    the same family (not the child who holds it), still in the class, whose programme is the
    credit's or accepts its credits (WAL-3, ``accepting_ids``). Reads the credit's enrolment
    and holder students and the receiving enrolment's student, class and programme."""
    student = to_enrolment.student
    if student.family_id != credit.enrolment.student.family_id:
        return _("{name} is not in the same family.").format(name=student.first_name)
    if student.pk == credit.holder_student.pk:
        return _("The credit is already {name}'s.").format(name=student.first_name)
    if to_enrolment.withdrawn_from is not None and to_enrolment.withdrawn_from <= today:
        return _("{name} has left {klass}.").format(
            name=student.first_name, klass=to_enrolment.klass.name
        )
    home = credit.enrolment.klass.programme
    programme = to_enrolment.klass.programme
    if programme.pk != home.pk and programme.pk not in accepting_ids:
        return _("{klass} ({programme}) doesn't take credits of {home}.").format(
            klass=to_enrolment.klass.name, programme=programme.name, home=home.name
        )
    return None


@dataclass
class TransferOption:
    """One enrolment of a brother or sister, and why it can't receive the credit, if not."""

    enrolment: Enrolment
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


@dataclass
class TransferChoices:
    """What "Give to a sibling" shows for one credit (WAL-1): why it can't be given at all,
    or each sibling's enrolment with why not where it can't take it."""

    credit: MakeupCredit
    refusal: str | None
    options: list[TransferOption] = field(default_factory=list)

    @property
    def allowed(self) -> list[TransferOption]:
        return [o for o in self.options if o.allowed] if self.refusal is None else []

    @property
    def refused(self) -> list[TransferOption]:
        return [o for o in self.options if not o.allowed]


def transfer_choices(*, credit: MakeupCredit, now: datetime, tz) -> TransferChoices:
    """For the pages: whether ``credit`` can be given (:func:`credit_transfer_refusal`) and to
    which enrolments of the other children of its family, each with its refusal
    (:func:`enrolment_transfer_refusal`); current enrolments only (not those already left).
    ``credit`` comes with its enrolment's student and programme and its holder's student.
    Two queries, whatever the size of the family."""
    refusal = credit_transfer_refusal(credit=credit, now=now, tz=tz)
    today = now.astimezone(tz).date()
    enrolments = list(
        Enrolment.objects.filter(student__family_id=credit.enrolment.student.family_id)
        .exclude(student_id=credit.holder_student.pk)
        .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=today))
        .select_related("student", "klass__programme")
        .order_by("student__first_name", "student_id", "klass__name", "pk")
    )
    home = credit.enrolment.klass.programme_id
    accepting = (
        set(accepting_programme_ids(programme_id=home))
        if any(e.klass.programme_id != home for e in enrolments)
        else set()
    )
    options = [
        TransferOption(
            enrolment=e,
            refusal=enrolment_transfer_refusal(
                credit=credit, to_enrolment=e, accepting_ids=accepting, today=today
            ),
        )
        for e in enrolments
    ]
    return TransferChoices(credit=credit, refusal=refusal, options=options)


def family_enrolment(*, family, pk: str) -> Enrolment | None:
    """The enrolment ``pk`` (as posted) of one of ``family``'s children, with the student, or
    ``None`` when it is not a number or not theirs: who may receive a credit (WAL-1)."""
    try:
        number = int(pk)
    except ValueError:
        return None
    return (
        Enrolment.objects.filter(pk=number, student__family=family)
        .select_related("student")
        .first()
    )
