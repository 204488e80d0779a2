"""Writes for classes: create, edit, archive, with their weekly schedule. Every class write
ends by regenerating the class's sessions
(:func:`programmes.services.sessions.class_generate_sessions`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from makeup.dates import check_term
from makeup.errors import DomainError
from makeup.models import Company, Membership

from ..models import WEEKDAYS, Class, ClassSchedule, ExtraCapacityMode, Programme
from .programmes import full_clean_or_refuse
from .sessions import GenerationResult, class_generate_sessions

WEEKDAY_NAMES = dict(WEEKDAYS)
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@dataclass(frozen=True)
class Slot:
    """One weekly slot of a class, as entered: weekday (0 = Monday), local start, length."""

    weekday: int
    start_time: time
    duration_minutes: int

    @property
    def week_minute(self) -> int:
        return self.weekday * MINUTES_PER_DAY + self.start_time.hour * 60 + self.start_time.minute

    def label(self) -> str:
        end_minute = (self.week_minute + self.duration_minutes) % MINUTES_PER_DAY
        end = f"{end_minute // 60:02d}:{end_minute % 60:02d}"
        return f"{WEEKDAY_NAMES[self.weekday]} {self.start_time:%H:%M}–{end}"

    def overlaps(self, other: "Slot") -> bool:
        """Time windows that share a minute, also across midnight and Sunday→Monday."""
        a, b = self.week_minute, other.week_minute
        for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
            if a < b + shift + other.duration_minutes and b + shift < a + self.duration_minutes:
                return True
        return False


def schedule_conflicts(slots: Sequence[Slot]) -> list[tuple[int, int]]:
    """Pairs of indexes (earlier, later) of slots whose windows overlap."""
    return [(i, j) for j in range(len(slots)) for i in range(j) if slots[i].overlaps(slots[j])]


CLASS_FIELDS = {
    "programme",
    "name",
    "instructor",
    "location",
    "min_age_months",
    "max_age_months",
    "capacity",
    "start_date",
    "end_date",
    "price_per_session",
    "course_price",
    "allow_makeups",
    "extra_makeup_capacity",
    "extra_capacity_mode",
    "deduct_per_attendance",
}


def _check_class(klass: Class, slots: Sequence[Slot], *, check_instructor: bool = True) -> None:
    """The rules a class must satisfy before it is saved; the form checks the same, field by
    field, so a refusal here means a caller skipped the form. An instructor who has left the
    company may stay on a class they already teach, but is not newly assigned."""
    if klass.programme.company_id != klass.company_id:
        raise DomainError(_("That programme belongs to another company."))
    if (
        check_instructor
        and klass.instructor_id is not None
        and not Membership.objects.filter(
            company_id=klass.company_id, user_id=klass.instructor_id
        ).exists()
    ):
        raise DomainError(_("The instructor must be a member of your company."))
    if not klass.name.strip():
        raise DomainError(_("A class needs a name."))
    if klass.capacity is None or klass.capacity < 1:
        raise DomainError(_("A class needs at least one place (capacity 1 or more)."))
    if klass.end_date < klass.start_date:
        raise DomainError(_("The end date must not be before the start date."))
    check_term(klass.start_date, klass.end_date)
    low, high = klass.min_age_months, klass.max_age_months
    if low is not None and high is not None and low > high:
        raise DomainError(_("The youngest age must not be above the oldest age."))
    prices = (klass.price_per_session, klass.course_price)
    if all(price is None for price in prices):
        raise DomainError(_("Give a price for one session, a price for the whole course, or both."))
    if any(price is not None and price < 0 for price in prices):
        raise DomainError(_("Prices can't be negative."))
    if klass.extra_capacity_mode not in ExtraCapacityMode.values:
        raise DomainError(_("Unknown extra capacity mode."))
    if not slots:
        raise DomainError(_("A class needs at least one weekly slot (a day and a time)."))
    for slot in slots:
        if slot.weekday not in WEEKDAY_NAMES:
            raise DomainError(_("A weekly slot needs a weekday from Monday to Sunday."))
        if not 5 <= slot.duration_minutes <= 600:
            raise DomainError(_("A lesson lasts between 5 and 600 minutes."))
    conflicts = schedule_conflicts(slots)
    if conflicts:
        first, second = conflicts[0]
        raise DomainError(
            _("{slot} overlaps {other}.").format(
                slot=slots[second].label(), other=slots[first].label()
            )
        )
    full_clean_or_refuse(klass, exclude=["company", "programme", "instructor"])


def _write_schedule(klass: Class, slots: Sequence[Slot]) -> None:
    """Make the class's weekly slots equal ``slots``. A slot kept at the same weekday and
    start keeps its row (and its sessions' link to it); others are replaced."""
    wanted = {(s.weekday, s.start_time): s for s in slots}
    existing = {(row.weekday, row.start_time): row for row in klass.schedule.all()}
    gone = [row.pk for key, row in existing.items() if key not in wanted]
    if gone:
        ClassSchedule.objects.filter(pk__in=gone).delete()
    for key, slot in wanted.items():
        row = existing.get(key)
        if row is None:
            ClassSchedule.objects.create(
                company_id=klass.company_id,
                klass=klass,
                weekday=slot.weekday,
                start_time=slot.start_time,
                duration_minutes=slot.duration_minutes,
            )
        elif row.duration_minutes != slot.duration_minutes:
            row.duration_minutes = slot.duration_minutes
            row.save(update_fields=["duration_minutes"])


_BEFORE_ANY_TERM = datetime(1970, 1, 1, tzinfo=UTC)


@transaction.atomic
def class_create(
    *,
    company: Company,
    programme: Programme,
    name: str,
    capacity: int,
    start_date: date,
    end_date: date,
    schedule: Sequence[Slot],
    instructor=None,
    location: str = "",
    min_age_months: int | None = None,
    max_age_months: int | None = None,
    price_per_session: Decimal | None = None,
    course_price: Decimal | None = None,
    allow_makeups: bool = True,
    extra_makeup_capacity: int = 0,
    extra_capacity_mode: str = ExtraCapacityMode.ADD,
    deduct_per_attendance: int = 1,
    now: datetime,
) -> tuple[Class, GenerationResult]:
    """A new class with its weekly schedule and generated sessions, in one transaction.

    Refuses what the model forbids, with a readable message: no places, term ending before
    it starts, ages upside down, no price at all or a negative one, no weekly slot, slots that
    overlap (MKP-2, MKP-4, MKP-7 read these values). The programme must be the company's and
    not archived.
    """
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.archived_at is not None:
        raise DomainError(
            _("{name} is archived; unarchive it to add classes.").format(name=programme.name)
        )
    klass = Class(
        company=company,
        programme=programme,
        name=name.strip(),
        instructor=instructor,
        location=location.strip(),
        min_age_months=min_age_months,
        max_age_months=max_age_months,
        capacity=capacity,
        start_date=start_date,
        end_date=end_date,
        price_per_session=price_per_session,
        course_price=course_price,
        allow_makeups=allow_makeups,
        extra_makeup_capacity=extra_makeup_capacity,
        extra_capacity_mode=extra_capacity_mode,
        deduct_per_attendance=deduct_per_attendance,
    )
    _check_class(klass, schedule)
    klass.save()
    _write_schedule(klass, schedule)
    # A new class gets its whole term, weeks already past included, so attendance can be
    # recorded for lessons that took place before the class was entered (``now`` is not a
    # limit here: nothing of a new class has happened yet).
    result = class_generate_sessions(klass=klass, now=_BEFORE_ANY_TERM)
    return klass, result


@transaction.atomic
def class_update(
    *,
    klass: Class,
    schedule: Sequence[Slot] | None = None,
    now: datetime,
    **changes,
) -> tuple[Class, GenerationResult]:
    """Change a class (any of :data:`CLASS_FIELDS`) and, if given, its weekly schedule, then
    regenerate its future sessions: past sessions, one-off sessions and sessions with
    attendance or bookings are kept (see ``class_generate_sessions``).

    A class with enrolments stays in its programme: its students' credits belong to that
    programme (CRD-1).
    """
    unknown = set(changes) - CLASS_FIELDS
    if unknown:
        raise DomainError(
            _("Unknown class fields: {fields}.").format(fields=", ".join(sorted(unknown)))
        )
    klass = Class.objects.select_for_update().select_related("programme").get(pk=klass.pk)
    new_programme = changes.get("programme")
    if new_programme is not None and new_programme.pk != klass.programme_id:
        if new_programme.archived_at is not None:
            raise DomainError(
                _("{name} is archived; choose an active programme.").format(name=new_programme.name)
            )
        if klass.enrolments.exists():
            raise DomainError(
                _(
                    "{name} has enrolments, whose credits belong to {programme}; "
                    "it can't move to another programme. Create a new class instead."
                ).format(name=klass.name, programme=klass.programme.name)
            )
    old_instructor_id = klass.instructor_id
    for field, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(klass, field, value)
    slots = (
        schedule
        if schedule is not None
        else [
            Slot(row.weekday, row.start_time, row.duration_minutes) for row in klass.schedule.all()
        ]
    )
    _check_class(klass, slots, check_instructor=klass.instructor_id != old_instructor_id)
    klass.updated_at = now
    klass.save()
    if schedule is not None:
        _write_schedule(klass, schedule)
    result = class_generate_sessions(klass=klass, now=now)
    return klass, result


@transaction.atomic
def class_set_archived(
    *, klass: Class, archived: bool, now: datetime
) -> tuple[Class, GenerationResult]:
    """Archive a class (its future sessions without attendance or bookings go) or bring it
    back (its sessions are generated again)."""
    klass = Class.objects.select_for_update().select_related("programme").get(pk=klass.pk)
    if archived:
        if klass.archived_at is None:
            klass.archived_at = now
    else:
        if klass.programme.archived_at is not None:
            raise DomainError(
                _("{name} is archived; unarchive the programme first.").format(
                    name=klass.programme.name
                )
            )
        klass.archived_at = None
    klass.updated_at = now
    klass.save(update_fields=["archived_at", "updated_at"])
    result = class_generate_sessions(klass=klass, now=now)
    return klass, result
