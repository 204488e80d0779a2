"""The owners' audit log (issue 8): who changed attendance, credits, policies, settings and
partner links, and when — one list, newest first, read from the histories each part keeps
(attendance changes, make-up guests' attendance changes, credit events, partner links) and
from the audit entries of configuration changes. A fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import AttendanceChange, MakeupAttendanceChange
from credits.models import CreditEvent, SessionWatch
from franchise.models import CompanyLink
from makeup.models import AuditEntry

from ..texts import local_time

PER_SOURCE = 200
AREAS = {
    "attendance": gettext_lazy("Attendance"),
    "credit": gettext_lazy("Credits"),
    "policy": gettext_lazy("Cancellation policy"),
    "settings": gettext_lazy("Settings"),
    "link": gettext_lazy("Partner links"),
    "programme": gettext_lazy("Programmes"),
    "watch": gettext_lazy("Watch list offers"),
}


@dataclass
class Line:
    at: datetime
    area: str
    who: str
    what: str

    @property
    def area_label(self) -> str:
        return str(AREAS[self.area])


def _who(user) -> str:
    return (user.full_name or user.email) if user is not None else _("the system")


def audit_lines(company, area: str = "") -> list[Line]:
    lines: list[Line] = []
    if area in ("", "attendance"):
        for change in AttendanceChange.objects.select_related(
            "changed_by", "attendance__enrolment__student", "attendance__session__klass"
        ).order_by("-changed_at", "-pk")[:PER_SOURCE]:
            attendance = change.attendance
            lines.append(
                Line(
                    change.changed_at,
                    "attendance",
                    _who(change.changed_by),
                    _("%(student)s, %(class)s %(when)s: %(from)s → %(to)s")
                    % {
                        "student": attendance.enrolment.student,
                        "class": attendance.session.klass.name,
                        "when": local_time(attendance.session.starts_at),
                        "from": change.get_from_state_display(),
                        "to": change.get_to_state_display(),
                    },
                )
            )
        for change in MakeupAttendanceChange.objects.select_related(
            "changed_by", "booking__student", "booking__session__klass"
        ).order_by("-changed_at", "-pk")[:PER_SOURCE]:
            booking = change.booking
            lines.append(
                Line(
                    change.changed_at,
                    "attendance",
                    _who(change.changed_by),
                    _("%(student)s (make-up), %(class)s %(when)s: %(from)s → %(to)s")
                    % {
                        "student": booking.student.first_name,
                        "class": booking.session.klass.name,
                        "when": local_time(booking.session.starts_at),
                        "from": change.get_from_state_display(),
                        "to": change.get_to_state_display(),
                    },
                )
            )
    if area in ("", "credit"):
        for event in CreditEvent.objects.select_related(
            "actor", "credit__enrolment__student"
        ).order_by("-at", "-pk")[:PER_SOURCE]:
            lines.append(
                Line(
                    event.at,
                    "credit",
                    _who(event.actor),
                    _("Credit of %(student)s: %(kind)s%(note)s")
                    % {
                        "student": event.credit.enrolment.student,
                        "kind": event.get_kind_display(),
                        "note": f" — {event.note}" if event.note else "",
                    },
                )
            )
    if area in ("", "policy", "settings", "link", "programme"):
        entries = AuditEntry.objects.select_related("actor").order_by("-at", "-pk")
        if area:
            entries = entries.filter(area=area)
        for entry in entries[:PER_SOURCE]:
            lines.append(Line(entry.at, entry.area, _who(entry.actor), entry.summary))
    if area in ("", "link"):
        lines += _link_lines(company)
    if area in ("", "watch"):
        lines += _offer_lines()
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines[:PER_SOURCE]


def _link_lines(company) -> list[Line]:
    """Partner links are shared by two companies: only the asking company's links."""
    lines = []
    links = CompanyLink.objects.filter(
        Q(inviter_id=company.pk) | Q(invitee_id=company.pk)
    ).select_related("inviter", "invitee", "created_by", "answered_by", "ended_by")
    for link in links.order_by("-created_at")[:PER_SOURCE]:
        partner = link.other(company.pk)
        name = partner.name if partner is not None else link.invitee_email
        lines.append(
            Line(
                link.created_at,
                "link",
                _who(link.created_by),
                _("%(inviter)s invited %(invitee)s.")
                % {"inviter": link.inviter.name, "invitee": link.invitee or link.invitee_email},
            )
        )
        if link.answered_at:
            lines.append(
                Line(
                    link.answered_at,
                    "link",
                    _who(link.answered_by),
                    _("Link with %(partner)s: %(state)s.")
                    % {
                        "partner": name,
                        "state": _("declined") if link.state == "declined" else _("approved"),
                    },
                )
            )
        if link.ended_at:
            lines.append(
                Line(
                    link.ended_at,
                    "link",
                    _who(link.ended_by),
                    _("Link with %(partner)s ended.") % {"partner": name},
                )
            )
    return lines


def _offer_lines() -> list[Line]:
    """WAL-5: the places offered to watchers — each watch's latest offer, and how the watch
    ended when it did (an offer passed on says so). Accepting one shows as the credit's
    use. One query."""
    lines = []
    watches = (
        SessionWatch.objects.filter(offered_at__isnull=False)
        .select_related("student", "session__klass")
        .order_by("-offered_at", "-pk")[:PER_SOURCE]
    )
    for watch in watches:
        lesson = {
            "student": watch.student,
            "class": watch.session.klass.name,
            "when": local_time(watch.session.starts_at),
        }
        lines.append(
            Line(
                watch.offered_at,
                "watch",
                "—",
                _("%(student)s, %(class)s %(when)s: a freed place offered until %(until)s")
                % {**lesson, "until": local_time(watch.offer_expires_at)},
            )
        )
        if watch.state == SessionWatch.State.ENDED and watch.ended_at:
            lines.append(
                Line(
                    watch.ended_at,
                    "watch",
                    "—",
                    _("%(student)s, %(class)s %(when)s: watch ended — %(reason)s")
                    % {**lesson, "reason": watch.end_reason},
                )
            )
    return lines
