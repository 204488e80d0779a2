"""What makeups adds to the back office's Today page (DAY-2): upcoming sessions that families
are watching for a free place (BEY-2: they are full, or a freed place would have gone to the
first watcher). Registered with ``makeup.hooks`` in ``MakeupsConfig.ready()``."""

from datetime import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credits.models import SessionWatch
from makeup.hooks import TodayItem, TodayRow
from makeup.models import Company
from programmes.models import Session

# How many of the watched sessions the item lists by name (soonest first).
WATCHED_ROWS = 5


def today_watched_sessions(*, company: Company, user, now: datetime) -> TodayItem:
    """Upcoming, not cancelled sessions of ``company`` with active watches: how many, and the
    first :data:`WATCHED_ROWS` with their number of watchers, each linking to its session
    page; the item links to the one session, or to the calendar's week of the soonest. Two
    queries."""
    sessions = (
        Session.objects.filter(company=company, starts_at__gt=now, cancelled_at__isnull=True)
        .annotate(watchers=Count("watches", filter=Q(watches__state__in=SessionWatch.WAITING)))
        .filter(watchers__gt=0)
    )
    count = sessions.count()
    watched = list(sessions.select_related("klass").order_by("starts_at", "pk")[:WATCHED_ROWS])
    rows = [
        TodayRow(
            title=session.klass.name,
            url=reverse("manage:session_detail", args=[session.pk]),
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            note=ngettext("{n} family watching", "{n} families watching", session.watchers).format(
                n=session.watchers
            ),
        )
        for session in watched
    ]
    if count == 1:
        url = rows[0].url
    else:  # the week of the soonest (the calendar of this week when there is none)
        url = reverse("manage:session_calendar")
        if watched:
            url += "?" + urlencode({"date": watched[0].local_date.isoformat()})
    return TodayItem(
        key="watched_sessions",
        title=ngettext(
            "full session with families waiting for a place",
            "full sessions with families waiting for a place",
            count,
        ),
        note=_("A freed place goes to the first family in line automatically."),
        count=count,
        url=url,
        tone="info",
        done_title=_("No family is waiting for a place in a full session"),
        rows=rows,
    )
