"""The signed "can't come" link of a lesson reminder: made for the e-mail, read by the
portal's page. The salt never changes: links already e-mailed must keep working."""

from django.core import signing

from bookings.models import LessonReminder

SALT = "credits.cant-come"


def cant_come_token(reminder: LessonReminder) -> str:
    return signing.dumps({"r": reminder.pk, "s": reminder.session_id}, salt=SALT)


def cant_come_read(token: str) -> int | None:
    """The reminder id in a "can't come" link, or ``None`` if it was tampered with."""
    try:
        data = signing.loads(token, salt=SALT)
        return int(data["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
