"""Signal receivers of the bookings app: a session's places taken (``services.places``)
follow every single-row save and delete of what they count — attendance, make-up bookings,
enrolments, new sessions — whoever writes them (services, the admin, the demo loader).
Bulk writes (``bulk_create``, ``QuerySet.update``) send no signals: they recount themselves."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from programmes.models import Session

from .models import Attendance, Enrolment, MakeupBooking
from .services.places import recount_places


@receiver(post_save, sender=Attendance, dispatch_uid="places-attendance-save")
@receiver(post_delete, sender=Attendance, dispatch_uid="places-attendance-delete")
@receiver(post_save, sender=MakeupBooking, dispatch_uid="places-booking-save")
@receiver(post_delete, sender=MakeupBooking, dispatch_uid="places-booking-delete")
def recount_session(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):  # fixtures load rows as they are
        return
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
