from django.utils.translation import gettext_lazy as _

#: What a person sees when the database failed in the middle of a booking: the booking runs
#: in one transaction, so nothing of it was saved.
BOOKING_FAILED = _(
    "We could not book this make-up just now: nothing was booked and the credit is "
    "unchanged. Please try again in a moment."
)


class DomainError(Exception):
    """A refused business action, with a message a person can read."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
