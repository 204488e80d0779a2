"""WAL-5: offering a freed place to a watcher instead of booking it — how long an offer
lasts (hours between 21:00 and 07:00 in the company's zone are not counted) and the signed
link e-mailed to the family.

The link carries the watch, the moment it was offered and the offer's expiry. It works while
that very offer is open: once it is accepted, passed on to the next watcher, or the watch
ends, it stops working and the page says which happened.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from django.core import signing
from django.utils.translation import gettext as _

from credits.models import SessionWatch
from makeup.formats import local_datetime

SALT = "makeups.watch-offer"
QUIET_FROM = time(21)  # quiet hours start (local)
QUIET_UNTIL = time(7)  # …and end the next morning


def offer_expiry(start: datetime, hours: int, tz: tzinfo) -> datetime:
    """When an offer made at ``start`` for ``hours`` ends, counting only the hours between
    07:00 and 21:00 in ``tz``. Real elapsed time is counted (UTC arithmetic), so a daylight
    saving change — always inside the quiet hours — moves nothing but the wall clock; an
    offer made during the quiet hours starts counting at 07:00. Returns an aware datetime in
    ``tz``."""
    remaining = timedelta(hours=hours)
    moment = start.astimezone(UTC)
    while True:
        local = moment.astimezone(tz)
        if local.time() < QUIET_UNTIL:
            moment = datetime.combine(local.date(), QUIET_UNTIL, tzinfo=tz).astimezone(UTC)
            continue
        if local.time() >= QUIET_FROM:
            next_day = local.date() + timedelta(days=1)
            moment = datetime.combine(next_day, QUIET_UNTIL, tzinfo=tz).astimezone(UTC)
            continue
        quiet = datetime.combine(local.date(), QUIET_FROM, tzinfo=tz).astimezone(UTC)
        if moment + remaining <= quiet:
            return (moment + remaining).astimezone(tz)
        remaining -= quiet - moment
        moment = quiet


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def offer_token(watch: SessionWatch) -> str:
    """The signed link of ``watch``'s open offer."""
    return signing.dumps(
        {"w": watch.pk, "o": _iso(watch.offered_at), "e": _iso(watch.offer_expires_at)},
        salt=SALT,
    )


@dataclass(frozen=True)
class OfferLink:
    watch_id: int
    offered_at: str
    expires_at: datetime


def offer_link_read(token: str) -> OfferLink | None:
    """The link's contents, or ``None`` if it was tampered with or is not ours."""
    try:
        data = signing.loads(token, salt=SALT)
        return OfferLink(int(data["w"]), str(data["o"]), datetime.fromisoformat(data["e"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def offer_is_current(link: OfferLink, watch: SessionWatch) -> bool:
    """Whether ``link`` is of ``watch``'s latest offer (open, accepted or lapsed)."""
    return watch.offered_at is not None and link.offered_at == _iso(watch.offered_at)


def offer_link_problem(link: OfferLink, watch: SessionWatch, now: datetime) -> str:
    """Why the offer of ``link`` can't be accepted ("" if it can): it expired, or it is no
    longer open (passed on, the watch ended, or a later offer replaced it). An accepted offer
    is not a problem here: the page shows the booking."""
    if watch.state == SessionWatch.State.BOOKED and offer_is_current(link, watch):
        return ""
    if link.expires_at <= now:
        return _(
            "This offer ended on {date}, so the place was passed to the next family in line."
        ).format(date=local_datetime(link.expires_at, fmt="TEXT_DATETIME_FORMAT"))
    if watch.state != SessionWatch.State.OFFERED or not offer_is_current(link, watch):
        return _(
            "This offer is no longer open: the place was passed on or taken, or the watch "
            "ended. No make-up was booked."
        )
    return ""
