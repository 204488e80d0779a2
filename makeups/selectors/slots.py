"""BEY-3: the "expiring soon" e-mail lists up to three bookable sessions, each a signed link
straight to the booking confirmation (login still required).

A link carries the credit, the session and the moment the credit last changed state. It is
single-use: booking with it spends the credit, which changes that moment, so this link and
the e-mail's others stop working (and stay dead if the make-up is later cancelled and the
credit comes back). It also dies with the credit's expiry; the view says which happened.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from credits.models import CreditState, MakeupCredit
from makeup.formats import local_datetime

from .eligibility import Candidate, makeup_candidates

# The salt links already e-mailed were signed with (kept when the module moved from credits).
SALT = "credits.slot-link"
SLOTS_IN_EMAIL = 3


def _stamp(credit: MakeupCredit) -> str:
    return credit.state_changed_at.isoformat(timespec="microseconds")


def slot_token(credit: MakeupCredit, session_id: int) -> str:
    return signing.dumps({"c": credit.pk, "s": session_id, "v": _stamp(credit)}, salt=SALT)


@dataclass(frozen=True)
class SlotLink:
    credit_id: int
    session_id: int
    stamp: str


def slot_link_read(token: str) -> SlotLink | None:
    """The link's contents, or ``None`` if it was tampered with or is not ours."""
    try:
        data = signing.loads(token, salt=SALT)
        return SlotLink(int(data["c"]), int(data["s"]), str(data["v"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def slot_link_problem(link: SlotLink, credit: MakeupCredit, now: datetime) -> str:
    """Why the link can't be used any more ("" if it can): used, credit spent or expired."""
    if credit.state == CreditState.EXPIRED or (
        credit.expires_at is not None and credit.expires_at <= now
    ):
        when = local_datetime(credit.expires_at, fmt="TEXT_DATETIME_FORMAT")
        return _("This make-up credit expired on {date}, so the link no longer works.").format(
            date=when
        )
    if link.stamp != _stamp(credit) or credit.state != CreditState.AVAILABLE:
        return _(
            "This link has already been used: the credit was spent or changed since the "
            "e-mail was sent."
        )
    return ""


def bookable_slots(
    credit: MakeupCredit, now: datetime, *, count: int = SLOTS_IN_EMAIL, after=None
) -> list[Candidate]:
    """The credit's next ``count`` bookable sessions at the family's company, soonest first
    (the same eligibility function as the portal), optionally after a session start."""
    candidates = makeup_candidates(credit=credit, now=now, offered_only=True, limit=40)
    return [c for c in candidates if c.bookable and (after is None or c.session.starts_at > after)][
        :count
    ]


def expiry_offers(*, company, credit: MakeupCredit, now: datetime) -> list[dict]:
    """The "credit expiring" e-mail's offers (BEY-3, registered with ``credits.hooks``): up
    to three bookable sessions, each with its single-use link to the booking confirmation."""
    return [
        {
            "session": c.session,
            "places_left": c.places_left,
            "url": reverse(
                "portal:slot_link",
                kwargs={"company_slug": company.slug, "token": slot_token(credit, c.session.pk)},
            ),
        }
        for c in bookable_slots(credit, now)
    ]
