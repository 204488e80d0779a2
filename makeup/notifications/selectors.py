"""Reads of the notification service: a parent's choices for their page (NTF-2) and a
family's last messages for the staff's family page (NTF-4). A fixed number of queries each."""

from dataclasses import dataclass

from ..models import Company
from .kinds import KINDS, Channel, Group, group_defaults
from .models import Notification, ParentContact, SmsProvider


@dataclass
class GroupChoice:
    group: str
    label: str
    email: bool
    sms: bool
    essential_note: bool  # some of its kinds come by e-mail whatever is chosen


@dataclass
class ContactChoices:
    contact: ParentContact | None
    sms_available: bool  # the company connected a provider
    groups: list[GroupChoice]

    @property
    def mobile(self) -> str:
        confirmed = self.contact and self.contact.mobile_confirmed_at
        return self.contact.mobile if confirmed else ""

    @property
    def pending_mobile(self) -> str:
        return self.contact.pending_mobile if self.contact else ""


def contact_choices(*, company: Company, email: str) -> ContactChoices:
    """What the parent's notification page shows: each group's channels (the defaults until
    they choose), whether the school sends texts, their mobile number. Two queries."""
    contact = ParentContact.objects.filter(company=company, email=email.lower()).first()
    groups = []
    for group in Group:
        choice = {
            **group_defaults(group),
            **(contact.preferences.get(group, {}) if contact else {}),
        }
        groups.append(
            GroupChoice(
                group=group.value,
                label=group.label,
                email=choice[Channel.EMAIL],
                sms=choice[Channel.SMS],
                essential_note=any(i.essential for i in KINDS.values() if i.group == group),
            )
        )
    return ContactChoices(
        contact=contact,
        sms_available=SmsProvider.objects.filter(company=company).exists(),
        groups=groups,
    )


def family_messages(*, company: Company, family_id: int, limit: int = 10) -> list[Notification]:
    """NTF-4: the family's last messages, newest first — kind, channel, recipient, when, and
    delivered / failed with the reason. One query."""
    return list(
        Notification.objects.filter(company=company, family_id=family_id)
        .only(
            "kind", "channel", "recipient", "state", "error", "created_at", "sent_at", "status_at"
        )
        .order_by("-created_at", "-pk")[:limit]
    )
