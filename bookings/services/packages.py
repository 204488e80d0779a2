"""Packages of sessions (PKG-1, PKG-2)."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from makeup.dates import check_in_range
from makeup.errors import DomainError
from makeup.shapes import Shape

from ..models import Attendance, AttendanceState, Family, Package, PackageUse
from ..selectors.packages import with_remaining, with_used

# PKG-1: the states that count against a package (and the account, BAL-1).
COUNTED_STATES = {AttendanceState.PRESENT, AttendanceState.NO_SHOW, AttendanceState.LATE_CANCELLED}


# The reads of every mark of a counted state, compiled once (makeup.shapes).
_LIVE_USE = Shape(
    lambda attendance_id: PackageUse.objects.select_for_update().filter(
        attendance_id=attendance_id, reversed_at__isnull=True
    )[:1]
)


def _covering(family_id: int, programme_id: int, day: date):
    """The family's packages of the programme that cover ``day``."""
    return Package.objects.filter(
        family_id=family_id, programme_id=programme_id, purchased_on__lte=day
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))


_LOCK_COVERING = Shape(
    lambda family_id, programme_id, day: (
        _covering(family_id, programme_id, day).select_for_update().values_list("pk", flat=True)
    )
)
_COVERING_USED = Shape(
    lambda family_id, programme_id, day: with_used(_covering(family_id, programme_id, day))
)


@transaction.atomic
def package_sell(
    *,
    family: Family,
    programme,
    sessions: int,
    price: Decimal,
    purchased_on: date,
    valid_until: date | None = None,
    note: str = "",
    actor=None,
) -> Package:
    """Record a package of ``sessions`` sessions of ``programme`` bought by ``family``."""
    if programme.company_id != family.company_id:
        raise DomainError(_("That programme belongs to another company."))
    if sessions < 1:
        raise DomainError(_("A package has at least one session."))
    if price < 0:
        raise DomainError(_("The price can't be negative."))
    check_in_range(purchased_on, valid_until)
    if valid_until is not None and valid_until < purchased_on:
        raise DomainError(_("A package can't end before it is bought."))
    return Package.objects.create(
        company_id=family.company_id,
        family=family,
        programme=programme,
        sessions=sessions,
        price=price,
        purchased_on=purchased_on,
        valid_until=valid_until,
        note=note.strip()[:200],
        created_by=actor,
    )


def package_apply_attendance(*, attendance: Attendance, now: datetime) -> bool:
    """PKG-1, inside attendance_set_state's transaction: a counted state (present, did not
    attend, cancelled late) takes the class's "deduct per attendance" from the family's
    active package of the programme — the one ending soonest that still covers the lesson's
    day and has enough left; a state that doesn't count (on time or by us, expected) gives
    back what this attendance took. Setting a counted state again takes nothing more.
    Returns whether a package covers the attendance now (then it is not charged, BAL-1)."""
    live = _LIVE_USE.first(attendance_id=attendance.pk)
    counts = attendance.state in COUNTED_STATES
    if live is not None and not counts:
        live.reversed_at = now
        live.save(update_fields=["reversed_at"])
        return False
    if live is not None or not counts:
        return live is not None
    session = attendance.session
    klass = session.klass
    deduct = klass.deduct_per_attendance
    if deduct == 0:
        return False
    covering = {
        "family_id": attendance.enrolment.student.family_id,
        "programme_id": klass.programme_id,
        "day": session.local_date,
    }
    # Lock the rows first (PostgreSQL refuses FOR UPDATE with the GROUP BY of the sums),
    # then sum the uses of those rows only: a package bought meanwhile is not locked here.
    locked = set(_LOCK_COVERING(**covering))
    candidates = (
        with_remaining([p for p in _COVERING_USED(**covering) if p.pk in locked]) if locked else []
    )
    candidates.sort(
        key=lambda p: (p.valid_until is None, p.valid_until or date.max, p.purchased_on, p.pk)
    )
    for package in candidates:
        if package.remaining >= deduct:
            PackageUse.objects.create(
                company_id=attendance.company_id,
                package=package,
                attendance=attendance,
                sessions=deduct,
                created_at=now,
            )
            return True
    return False


def packages_release_attendances(*, attendances: list[Attendance], now: datetime) -> None:
    """PKG-1 for many attendances moved together to a state that doesn't count (the school
    cancelling a whole session): what each had taken from a package is given back, in one
    statement. ``package_apply_attendance`` does the same for one attendance."""
    if any(attendance.state in COUNTED_STATES for attendance in attendances):
        raise ValueError("packages_release_attendances() is for states that don't count.")
    PackageUse.objects.filter(
        attendance_id__in=[attendance.pk for attendance in attendances], reversed_at__isnull=True
    ).update(reversed_at=now)
