"""What credits adds to the back office's Today page (DAY-2): claims waiting for an answer,
spent credits a correction put in question, and credits about to expire. Registered with
``makeup.hooks`` in ``CreditsConfig.ready()``; one query each."""

from datetime import datetime, timedelta

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from makeup.hooks import TodayItem
from makeup.models import Company

from ..models import AbsenceClaim, CreditDecision, CreditState, MakeupCredit

# The id of the credits list's section of flagged corrections.
CONFLICTS_ANCHOR = "conflicts-heading"


def today_open_claims(*, company: Company, user, now: datetime) -> TodayItem:
    """ "I cancelled in time" claims waiting for the school's answer (BEY-6)."""
    count = AbsenceClaim.objects.filter(company=company, state=AbsenceClaim.State.OPEN).count()
    return TodayItem(
        key="open_claims",
        title=ngettext(
            "“I cancelled in time” claim waiting for an answer",
            "“I cancelled in time” claims waiting for an answer",
            count,
        ),
        count=count,
        url=reverse("manage:claim_list"),
        tone="warning",
        done_title=_("No claim is waiting for an answer"),
    )


def today_flagged_decisions(*, company: Company, user, now: datetime) -> TodayItem:
    """Corrections that met a spent credit, not yet marked reviewed (ATT-5); an admin marks
    them, so the item is registered for admins."""
    count = CreditDecision.objects.filter(company=company, needs_attention=True).count()
    return TodayItem(
        key="flagged_decisions",
        title=ngettext(
            "spent credit put in question by a correction",
            "spent credits put in question by a correction",
            count,
        ),
        count=count,
        url=f"{reverse('manage:credit_list')}#{CONFLICTS_ANCHOR}",
        tone="warning",
        done_title=_("No correction waits for a review"),
    )


def today_expiring_credits(*, company: Company, user, now: datetime) -> TodayItem:
    """Credits still usable that expire within the company's reminder days (CRD-5: the
    families are e-mailed about them); links to the credits list filtered the same way."""
    days = company.settings.expiry_reminder_days
    count = (
        MakeupCredit.objects.filter(company=company)
        .usable(now)
        .filter(expires_at__lte=now + timedelta(days=days))
        .count()
    )
    query = urlencode({"state": CreditState.AVAILABLE, "expiring_within": days})
    return TodayItem(
        key="expiring_credits",
        title=ngettext("credit expiring soon", "credits expiring soon", count),
        note=ngettext(
            "Within {days} day; the families are e-mailed a reminder.",
            "Within {days} days; the families are e-mailed a reminder.",
            days,
        ).format(days=days),
        count=count,
        url=f"{reverse('manage:credit_list')}?{query}",
        tone="info",
        done_title=_("No credit expires soon"),
    )
