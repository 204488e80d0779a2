"""What franchise adds to the back office's Today page (DAY-2): partner invitations waiting
for this company's answer (FRN-1). Registered with ``makeup.hooks`` in
``FranchiseConfig.ready()`` for owners, who alone answer them."""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.hooks import TodayItem
from makeup.models import Company

from ..models import CompanyLink


def today_pending_invitations(*, company: Company, user, now: datetime) -> TodayItem:
    """How many partner invitations wait for ``company``'s answer; one query. Links are
    shared by two companies and not scoped: the filter names the company asking."""
    count = CompanyLink.objects.filter(invitee=company, state=CompanyLink.State.PENDING).count()
    return TodayItem(
        key="partner_invitations",
        title=ngettext(
            "partner invitation waiting for your answer",
            "partner invitations waiting for your answer",
            count,
        ),
        count=count,
        url=f"{reverse('manage:franchise')}#incoming-heading",
        tone="warning",
        done_title=_("No partner invitation is waiting for an answer"),
    )
