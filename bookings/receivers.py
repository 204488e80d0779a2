"""Signal receivers of the bookings app: a session's places taken (``services.places``)
follow every single-row save and delete of what they count — attendance, make-up bookings,
enrolments, new sessions — whoever writes them (services, the admin, the demo loader).
Bulk writes (``bulk_create``, ``QuerySet.update``) send no signals: they recount themselves."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from programmes.models import Session

from .models import PLACE_FREEING_STATES, Attendance, Enrolment, MakeupBooking
from .services.places import recount_places


def _changed_sessions(instance, counts) -> set[int]:
    """The sessions whose places a save of ``instance`` changed: ``counts(state)`` says
    whether a row in that state takes (or frees) a place. A row not read from the database
    changed them if it counts; a read one if it counts differently than when read, or moved
    to another session."""
    before = getattr(instance, "loaded", None)
    if before is None:
        return {instance.session_id} if counts(instance.state) else set()
    session = before.get("session_id", instance.session_id)
    if (
        "state" in before
        and counts(before["state"]) == counts(instance.state)
        and session == instance.session_id
    ):
        return set()
    return {session, instance.session_id}


def _frees(state) -> bool:
    return state in PLACE_FREEING_STATES


def _takes(state) -> bool:
    return state == MakeupBooking.State.BOOKED


@receiver(post_save, sender=Attendance, dispatch_uid="places-attendance-save")
@receiver(post_save, sender=MakeupBooking, dispatch_uid="places-booking-save")
def recount_session(sender, instance, **kwargs) -> None:
    """An attendance freeing or giving back its place, a make-up booked, cancelled or moved:
    its sessions are recounted. A save that changes neither (a roll call marking present or
    did not attend, a guest's attendance) costs nothing here."""
    if kwargs.get("raw"):  # fixtures load rows as they are
        return
    sessions = _changed_sessions(instance, _frees if sender is Attendance else _takes)
    if sessions:
        recount_places(session_ids=sessions)
    instance.mark_loaded()


@receiver(post_delete, sender=Attendance, dispatch_uid="places-attendance-delete")
@receiver(post_delete, sender=MakeupBooking, dispatch_uid="places-booking-delete")
def recount_deleted(sender, instance, **kwargs) -> None:
    if (_frees if sender is Attendance else _takes)(instance.state):
        recount_places(session_ids=[instance.session_id])


@receiver(post_save, sender=Enrolment, dispatch_uid="places-enrolment-save")
@receiver(post_delete, sender=Enrolment, dispatch_uid="places-enrolment-delete")
def recount_class(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    recount_places(klass_ids=[instance.klass_id])


@receiver(post_save, sender=Session, dispatch_uid="places-session-created")
def count_new_session(sender, instance, created, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        recount_places(session_ids=[instance.pk], locked=True)


def count_generated_sessions(*, session_ids: list[int]) -> None:
    """``programmes.hooks.sessions_created``: sessions generated in bulk, new in this
    transaction (nobody else sees them yet, so no lock to take)."""
    recount_places(session_ids=session_ids, locked=True)
