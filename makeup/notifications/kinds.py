"""What a family can be told (NTF-1), grouped the way parents choose channels (NTF-2).

A kind fixes its e-mail template, its text message, the group a parent's preference is read
from, whether its e-mail is *essential* (it cannot be switched off: a booking made for the
family, a lesson the school cancelled) and whether it is *time-critical* (NTF-3: it also goes
by text message, where the company and the parent allow it, by default).
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    EMAIL = "email", pgettext_lazy("notification", "E-mail")
    SMS = "sms", pgettext_lazy("notification", "Text message")


class Group(models.TextChoices):
    """The four choices on a parent's notification page."""

    REMINDERS = "reminders", pgettext_lazy("notification", "Reminders")
    BOOKINGS = "bookings", pgettext_lazy("notification", "Offers and bookings")
    CREDITS = "credits", pgettext_lazy("notification", "Credits")
    NEWS = "news", pgettext_lazy("notification", "School news")


class Kind(models.TextChoices):
    CREDIT_ISSUED = "credit_issued", pgettext_lazy("notification", "Credit issued")
    LESSON_CANCELLED_CREDIT = (
        "lesson_cancelled_credit",
        pgettext_lazy("notification", "Lesson cancelled by the school"),
    )
    LESSON_CANCELLED = (
        "lesson_cancelled",
        pgettext_lazy("notification", "Lesson cancelled by the school, no credit"),
    )
    CREDIT_EXPIRING = "credit_expiring", pgettext_lazy("notification", "Credit expiring")
    CREDITS_CARRIED = "credits_carried", pgettext_lazy("notification", "Credits carried over")
    CLAIM_ANSWERED = "claim_answered", pgettext_lazy("notification", "Claim answered")
    LESSON_REMINDER = "lesson_reminder", pgettext_lazy("notification", "Lesson reminder")
    MAKEUP_BOOKED = "makeup_booked", pgettext_lazy("notification", "Make-up booked")
    MAKEUP_MOVED = "makeup_moved", pgettext_lazy("notification", "Make-up moved")
    MAKEUP_CANCELLED = "makeup_cancelled", pgettext_lazy("notification", "Make-up cancelled")
    MAKEUP_CANCELLED_BY_SCHOOL = (
        "makeup_cancelled_by_school",
        pgettext_lazy("notification", "Make-up cancelled by the school"),
    )
    WATCH_BOOKED = "watch_booked", pgettext_lazy("notification", "Watched place booked")
    WATCH_OFFER = "watch_offer", pgettext_lazy("notification", "Place offered")
    WATCH_SKIPPED = "watch_skipped", pgettext_lazy("notification", "Place passed on")
    CLOSURE_NOTICE = (
        "closure_notice",
        pgettext_lazy("notification", "Lessons cancelled by the school"),
    )
    CLOSURE_RESTORED = "closure_restored", pgettext_lazy("notification", "Lessons going ahead")
    MOBILE_CODE = "mobile_code", pgettext_lazy("notification", "Mobile number code")


@dataclass(frozen=True)
class KindInfo:
    template: str
    group: Group | None
    essential: bool = False
    time_critical: bool = False


KINDS: dict[str, KindInfo] = {
    Kind.CREDIT_ISSUED: KindInfo("credit_issued", Group.CREDITS),
    # The credit for a lesson the school cancelled (ATT-7): the family learns of the
    # cancellation from it, so it is urgent (NTF-3) and cannot be switched off.
    Kind.LESSON_CANCELLED_CREDIT: KindInfo(
        "credit_issued", Group.NEWS, essential=True, time_critical=True
    ),
    # The same lesson when the programme's policy gives no credit for it (POL-2, POL-7): the
    # family must still hear of it, as urgently (NTF-3).
    Kind.LESSON_CANCELLED: KindInfo(
        "lesson_cancelled", Group.NEWS, essential=True, time_critical=True
    ),
    Kind.CREDIT_EXPIRING: KindInfo("credit_expiring", Group.REMINDERS),
    Kind.CREDITS_CARRIED: KindInfo("credits_carried", Group.CREDITS),
    Kind.CLAIM_ANSWERED: KindInfo("claim_answered", Group.CREDITS),
    Kind.LESSON_REMINDER: KindInfo("lesson_reminder", Group.REMINDERS),
    Kind.MAKEUP_BOOKED: KindInfo("makeup_booked", Group.BOOKINGS, essential=True),
    Kind.MAKEUP_MOVED: KindInfo("makeup_moved", Group.BOOKINGS, essential=True),
    Kind.MAKEUP_CANCELLED: KindInfo("makeup_cancelled", Group.BOOKINGS, essential=True),
    Kind.MAKEUP_CANCELLED_BY_SCHOOL: KindInfo(
        "makeup_cancelled", Group.BOOKINGS, essential=True, time_critical=True
    ),
    Kind.WATCH_BOOKED: KindInfo(
        "makeup_booked", Group.BOOKINGS, essential=True, time_critical=True
    ),
    Kind.WATCH_OFFER: KindInfo("watch_offer", Group.BOOKINGS, time_critical=True),
    Kind.WATCH_SKIPPED: KindInfo("watch_skipped_balance", Group.BOOKINGS),
    Kind.CLOSURE_NOTICE: KindInfo("closure_notice", Group.NEWS, essential=True, time_critical=True),
    Kind.CLOSURE_RESTORED: KindInfo("closure_restored", Group.NEWS, essential=True),
    # Not a family message: the code that confirms a parent's mobile number (by text only).
    Kind.MOBILE_CODE: KindInfo("", None, essential=True),
}

#: The e-mail templates only :func:`makeup.notifications.notify_family` may send.
FAMILY_TEMPLATES = frozenset(info.template for info in KINDS.values() if info.template)


def group_defaults(group: str) -> dict[str, bool]:
    """What a parent who never chose gets for ``group``: e-mail always, and text messages for
    the groups holding time-critical kinds (NTF-3), once the parent confirmed a mobile number
    and the company connected a provider."""
    texts = any(info.time_critical for info in KINDS.values() if info.group == group)
    return {Channel.EMAIL: True, Channel.SMS: texts}
