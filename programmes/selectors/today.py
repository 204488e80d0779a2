"""What programmes adds to the back office's Today page (DAY-2): closures on now or soon
(CLO-1), and the next one, so admins see a shut day coming. Registered with ``makeup.hooks``
in ``ProgrammesConfig.ready()`` for admins, who keep the closure calendar."""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.hooks import TodayItem
from makeup.models import Company

from .closures import closure_days_text, next_closure

#: A closure starting within this many days is listed as coming up.
CLOSURE_NOTICE_DAYS = 28


def today_next_closure(*, company: Company, user, now: datetime) -> TodayItem:
    """Closures on now or starting within :data:`CLOSURE_NOTICE_DAYS` days, with the next
    one's name and days (also when it is further ahead), linking to the Closures page; two
    queries."""
    today = now.astimezone(company.tzinfo).date()
    count, soonest = next_closure(company, today=today, within_days=CLOSURE_NOTICE_DAYS)
    next_text = ""
    if soonest is not None:
        template = (
            _("Now: {name}, {days}") if soonest.first_day <= today else _("Next: {name}, {days}")
        )
        next_text = template.format(name=soonest.name, days=closure_days_text(soonest))
    done_title = _("No closure in the next 4 weeks")
    if next_text:
        done_title = _("{nothing} ({next})").format(nothing=done_title, next=next_text)
    return TodayItem(
        key="closures",
        title=ngettext(
            "closure now or in the next 4 weeks", "closures now or in the next 4 weeks", count
        ),
        count=count,
        url=reverse("manage:closures"),
        tone="info",
        done_title=done_title,
        note=next_text,
    )
