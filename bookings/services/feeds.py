"""Writes for the private calendar feeds (iCalendar addresses) of families and instructors.

The token is the whole secret of a feed: long, random, looked up exactly, and replaced by a
reset so the old address stops working.
"""

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from makeup.errors import DomainError
from makeup.models import Company, Membership, User

from ..models import CalendarFeed, Family


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _get_or_create(*, company: Company, **owner) -> CalendarFeed:
    feed = CalendarFeed.objects.filter(company=company, **owner).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            return CalendarFeed.objects.create(company=company, token=_new_token(), **owner)
    except IntegrityError:
        # Created meanwhile by a second request of the same person: theirs is as good.
        return CalendarFeed.objects.get(company=company, **owner)


def feed_for_family(*, family: Family) -> CalendarFeed:
    """The family's calendar feed (its lessons and make-ups), created on first use."""
    return _get_or_create(company=family.company, family=family)


def feed_for_instructor(*, company: Company, user: User) -> CalendarFeed:
    """A staff member's calendar feed of the classes they teach in ``company``, created on
    first use. Only a member of the company has one (TEN-2)."""
    if not Membership.objects.filter(company=company, user=user).exists():
        raise DomainError(
            _("{user} works at {company} no longer.").format(user=user, company=company.name)
        )
    return _get_or_create(company=company, user=user)


@transaction.atomic
def feed_reset(*, feed: CalendarFeed, now: datetime) -> CalendarFeed:
    """Give the feed a new secret address: the old one answers 404 from now on."""
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk, company=feed.company_id)
    feed.token = _new_token()
    feed.reset_at = now
    feed.save(update_fields=["token", "reset_at"])
    return feed
