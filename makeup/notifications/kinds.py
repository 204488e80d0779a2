"""What a family can be told (NTF-1), grouped the way parents choose channels (NTF-2).

A kind fixes its e-mail template, its text message, the group a parent's preference is read
from, whether its e-mail is *essential* (it cannot be switched off: a booking made for the
family, a lesson the school cancelled) and whether it is *time-critical* (NTF-3: it also goes
by text message, where the company and the parent allow it, by default).
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")


class Group(models.TextChoices):
    """The four choices on a parent's notification page."""

    REMINDERS = "reminders", _("Reminders")
    BOOKINGS = "bookings", _("Offers and bookings")
    CREDITS = "credits", _("Credits")
    NEWS = "news", _("School news")


class Kind(models.TextChoices):
    CREDIT_ISSUED = "credit_issued", _("Credit issued")
    LESSON_CANCELLED_CREDIT = "lesson_cancelled_credit", _("Lesson cancelled by the school")
    CREDIT_EXPIRING = "credit_expiring", _("Credit expiring")
    CREDITS_CARRIED = "credits_carried", _("Credits carried over")
    CLAIM_ANSWERED = "claim_answered", _("Claim answered")
    LESSON_REMINDER = "lesson_reminder", _("Lesson reminder")
    MAKEUP_BOOKED = "makeup_booked", _("Make-up booked")
    MAKEUP_MOVED = "makeup_moved", _("Make-up moved")
    MAKEUP_CANCELLED = "makeup_cancelled", _("Make-up cancelled")
    MAKEUP_CANCELLED_BY_SCHOOL = "makeup_cancelled_by_school", _("Make-up cancelled by the school")
    WATCH_BOOKED = "watch_booked", _("Watched place booked")
    WATCH_OFFER = "watch_offer", _("Place offered")
    WATCH_SKIPPED = "watch_skipped", _("Place passed on")
    CLOSURE_NOTICE = "closure_notice", _("Lessons cancelled by the school")
    CLOSURE_RESTORED = "closure_restored", _("Lessons going ahead")
    MOBILE_CODE = "mobile_code", _("Mobile number code")


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
