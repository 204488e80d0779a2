"""BEY-1: the receipt of an absence — what happened to it and why, for parents and staff."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.selectors.attendance import current_decision
from makeup.formats import local_datetime

from ..models import CreditDecision, CreditPath, MakeupCredit


@dataclass
class Receipt:
    """BEY-1: what happened to one absence and why, for parents and staff."""

    headline: str
    lines: list[str]
    credit: MakeupCredit | None


def absence_receipt(attendance, decision: CreditDecision | None = None) -> Receipt | None:
    """The receipt of an absence from its credit decision: on time or late with the cut-off
    instant, the path, the caps with their figures, and the validity (and to which sibling
    the credit was given, WAL-1) — or why there is no credit. Without ``decision``, the
    latest one if it was made for the attendance's current state (``current_decision``).
    ``None`` for an attendance that isn't an absence, or whose current state has no decision
    (corrected to present)."""
    if decision is None:
        latest = (
            CreditDecision.objects.filter(attendance=attendance)
            .select_related("credit")
            .order_by("-pk")
            .first()
        )
        decision = current_decision(attendance, [latest] if latest else [])
    if decision is None:
        return None
    tz = attendance.session.company.tzinfo
    figures = decision.figures or {}
    lines: list[str] = []
    if decision.cancelled_at:
        told = local_datetime(decision.cancelled_at, tz)
        if "cutoff" in figures:
            cutoff = datetime.fromisoformat(figures["cutoff"])
            if decision.cancelled_at <= cutoff:
                line = _("You told us on {date}: on time (the cut-off was {cutoff}).")
            else:
                line = _("You told us on {date}: late (the cut-off was {cutoff}).")
            lines.append(line.format(date=told, cutoff=local_datetime(cutoff, tz)))
        else:
            lines.append(_("You told us on {date}.").format(date=told))
    if decision.path:
        lines.append(_("Counted as: {path}.").format(path=CreditPath(decision.path).label.lower()))
    if "cap" in figures:
        lines.append(
            _("Unused credits of this kind before it: {outstanding} of at most {cap}.").format(
                outstanding=figures["outstanding"], cap=figures["cap"]
            )
        )
    if "limit" in figures:
        lines.append(
            ngettext(
                "Credits in the day before: {count} of at most {limit}.",
                "Credits in the {days} days before: {count} of at most {limit}.",
                figures["days"],
            ).format(days=figures["days"], count=figures["count"], limit=figures["limit"])
        )
    credit = decision.credit if decision.reason == "issued" else None
    if credit is not None:
        if credit.expires_at:
            lines.append(
                _("Make-up credit valid until {date}.").format(
                    date=local_datetime(credit.expires_at, tz)
                )
            )
        else:
            lines.append(_("Make-up credit with no expiry."))
        if credit.is_transferred:  # WAL-1: whose it is now
            lines.append(
                _("Given to {name} on {date}; it is theirs to use.").format(
                    name=credit.holder.student.first_name,
                    date=local_datetime(credit.transferred_at, tz),
                )
            )
        headline = _("Make-up credit issued")
    else:
        headline = decision.message
    return Receipt(headline=headline, lines=lines, credit=credit)
