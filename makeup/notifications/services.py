"""The notification service (NTF-1…NTF-4): every message to a family goes through
:func:`notify_family`; the outbox delivers each with :func:`notification_send`.

``notify_family`` runs in the caller's transaction (a Celery task that re-read what the
message is about, inside the outbox's delivery): it renders the message for each parent in
their language and writes one :class:`Notification` and one outbox message per channel and
recipient. The unique ``(kind, about, recipient, channel)`` makes it exactly-once: told twice
about the same thing, the second call writes nothing (NTF-4).
"""

import secrets as random
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from .. import hooks, outbox
from ..audit import audit_record
from ..errors import DomainError
from ..models import AuditEntry, Company
from . import email, secrets, sms
from .kinds import KINDS, Channel, Group, Kind, group_defaults
from .models import Notification, ParentContact, SmsOptOut, SmsProvider

SEND_TASK = "makeup.tasks.send_notification"
#: A delivery that claimed a message and died is taken over after this long.
CLAIM_TIMEOUT = timedelta(minutes=5)
CODE_VALID = timedelta(minutes=15)
CODE_ATTEMPTS = 5
CODE_INTERVAL = timedelta(seconds=60)
UNSUBSCRIBE_SALT = "makeup.notifications.unsubscribe"


# --- deciding and writing -------------------------------------------------------------------


def channels_for(*, kind: str, contact: ParentContact | None, sms_ready: bool) -> list[str]:
    """The channels ``kind`` goes by to one parent (NTF-1…NTF-3): e-mail unless the parent
    switched it off for the kind's group — never for an essential kind —, and a text message
    when the company connected a provider, the parent confirmed a mobile number that has not
    texted STOP (``sms_ready``) and the group's choice (by default on for the groups of the
    time-critical kinds) says so."""
    info = KINDS[kind]
    choice = group_defaults(info.group) if info.group else {}
    if contact is not None and info.group:
        choice = {**choice, **contact.preferences.get(info.group, {})}
    channels = []
    if info.essential or choice.get(Channel.EMAIL, True):
        channels.append(Channel.EMAIL)
    if sms_ready and choice.get(Channel.SMS, False):
        channels.append(Channel.SMS)
    return channels


def notify_family(
    *,
    kind: str,
    company: Company,
    family_id: int,
    about: str,
    context: dict,
    now: datetime,
    attachments: list[tuple[str, str, str]] | None = None,
) -> list[Notification]:
    """Tell each parent of the family (with an e-mail address) about ``about`` (NTF-1): the
    channels by :func:`channels_for`; one notification and one outbox message per channel and
    recipient, in the caller's transaction, exactly once per ``(kind, about, recipient,
    channel)`` (NTF-4). Returns the notifications written now."""
    info = KINDS[kind]
    recipients = hooks.family_recipients(company=company, family_id=family_id)
    if not recipients:
        return []
    addresses = [recipient.email.lower() for recipient in recipients]
    contacts = {
        contact.email: contact
        for contact in ParentContact.objects.filter(company=company, email__in=addresses)
    }
    provider = SmsProvider.objects.filter(company=company).first()
    mobiles = [c.mobile for c in contacts.values() if c.mobile and c.mobile_confirmed_at]
    stopped = set(
        SmsOptOut.objects.filter(company=company, mobile__in=mobiles).values_list(
            "mobile", flat=True
        )
        if provider and mobiles
        else []
    )
    written = []
    with transaction.atomic():
        for recipient in recipients:
            address = recipient.email.lower()
            contact = contacts.get(address)
            mobile = contact.mobile if contact and contact.mobile_confirmed_at else ""
            ready = bool(provider and mobile and mobile not in stopped)
            base = {
                "company": company,
                "guardian": recipient,
                "tz": company.timezone,
                **context,
            }
            for channel in channels_for(kind=kind, contact=contact, sms_ready=ready):
                row = Notification(
                    company=company,
                    kind=kind,
                    about=about,
                    channel=channel,
                    family_id=family_id,
                    language=recipient.language or company.language,
                    created_at=now,
                )
                if channel == Channel.EMAIL:
                    row.recipient = address
                    if not info.essential:
                        row.unsubscribe_url = unsubscribe_url(
                            company=company, email=address, group=info.group
                        )
                    row.subject, row.body, row.html = email.render_email(
                        info.template,
                        {**base, "unsubscribe_url": row.unsubscribe_url},
                        row.language,
                    )
                    row.attachments = [list(item) for item in attachments or []]
                else:
                    row.recipient = mobile
                    row.body = render_sms(kind, base, row.language)
                created = _write(row)
                if created is not None:
                    written.append(created)
    return written


def _write(row: Notification) -> Notification | None:
    """Insert ``row`` and its outbox message; ``None`` when the same message exists (also
    when another transaction wrote it a moment ago: the unique constraint decides)."""
    exists = Notification.objects.filter(
        kind=row.kind, about=row.about, recipient=row.recipient, channel=row.channel
    ).exists()
    if exists:
        return None
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None
    outbox.enqueue(SEND_TASK, row.company_id, row.pk, key=f"notification:{row.pk}")
    return row


def render_sms(kind: str, context: dict, language: str) -> str:
    """The text message of ``kind`` (``templates/sms/<kind>.txt``): one paragraph, links
    absolute."""
    with translation.override(language or settings.LANGUAGE_CODE):
        text = render_to_string(f"sms/{kind}.txt", {"site_url": settings.SITE_URL, **context})
    return " ".join(text.split())


# --- sending --------------------------------------------------------------------------------


class TransientSendError(Exception):
    """The provider or the mail server could not take the message now: the outbox retries."""


def notification_send(*, notification_id: int, now: datetime) -> str:
    """Send one notification (the outbox's task runs it, outside its own transaction, so a
    failure is recorded on the notification before the retry). Claims the message with a
    conditional update so two deliveries never both send it; a claim older than
    ``CLAIM_TIMEOUT`` (a worker that died) is taken over. Returns what happened."""
    claimable = Q(state=Notification.State.QUEUED) | Q(
        state=Notification.State.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    )
    claimed = Notification.objects.filter(claimable, pk=notification_id).update(
        state=Notification.State.SENDING, claimed_at=now
    )
    if not claimed:
        return "not-due"
    row = Notification.objects.select_related("company").get(pk=notification_id)
    try:
        result = _send_email(row) if row.channel == Channel.EMAIL else _send_sms(row)
    except Exception as exc:
        Notification.objects.filter(pk=row.pk).update(
            state=Notification.State.QUEUED,
            attempts=row.attempts + 1,
            error=f"{type(exc).__name__}: {exc}"[:500],
        )
        raise TransientSendError(str(exc)) from exc
    provider_id, error = result
    done = {
        "attempts": row.attempts + 1,
        "sent_at": now,
        "provider_id": provider_id,
        "error": error,
        "state": Notification.State.FAILED if error else Notification.State.SENT,
        # Once it left, the message itself is not kept: it may hold working links (an
        # offer, a single-use booking link) or a mobile number's code. The subject stays.
        "body": "",
        "html": "",
        "attachments": [],
    }
    Notification.objects.filter(pk=row.pk).update(**done)
    return "failed" if error else "sent"


def _send_email(row: Notification) -> tuple[str, str]:
    headers = {"X-Notification": f"{row.kind}:{row.pk}"}
    if row.unsubscribe_url:
        # NTF-2, RFC 8058: mail programs show an "Unsubscribe" button that POSTs this.
        headers["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    try:
        email.send_email(
            subject=row.subject,
            text=row.body,
            html=row.html,
            to=[row.recipient],
            headers=headers,
            attachments=[tuple(item) for item in row.attachments],
        )
    except smtplib.SMTPRecipientsRefused as exc:  # the address itself: sending again won't help
        return "", _("The mail server refused the address (%(reason)s).") % {
            "reason": str(exc.recipients)[:200]
        }
    return "", ""


def _send_sms(row: Notification) -> tuple[str, str]:
    provider = SmsProvider.objects.filter(company_id=row.company_id).first()
    if provider is None:
        return "", _("The school's text messages are not connected.")
    if SmsOptOut.objects.filter(company_id=row.company_id, mobile=row.recipient).exists():
        return "", _("The number replied STOP.")
    callback = settings.SITE_URL + reverse(
        "notification_twilio_status", kwargs={"company_slug": row.company.slug}
    )
    result = sms.send_sms(provider, to=row.recipient, body=row.body, status_callback=callback)
    return result.provider_id, result.error


# --- the provider's callbacks ---------------------------------------------------------------

_STATUS = {
    "delivered": Notification.State.DELIVERED,
    "read": Notification.State.DELIVERED,
    "undelivered": Notification.State.FAILED,
    "failed": Notification.State.FAILED,
}


def notification_status_record(
    *, company: Company, provider_id: str, status: str, error_code: str, now: datetime
) -> int:
    """NTF-4: the provider's delivery report on a text (Twilio's status callback): delivered,
    or failed with its error code. Interim states (queued, sent) change nothing. Returns the
    number of notifications updated."""
    state = _STATUS.get(status)
    if state is None or not provider_id:
        return 0
    error = ""
    if state == Notification.State.FAILED:
        error = _("Not delivered (provider error %(code)s).") % {"code": error_code or "?"}
    return Notification.objects.filter(
        company=company, channel=Channel.SMS, provider_id=provider_id
    ).update(state=state, error=error, status_at=now)


def sms_inbound(*, company: Company, mobile: str, body: str, now: datetime) -> str:
    """NTF-2: a text to the company's number. STOP (and Twilio's other opt-out words) opts
    the number out of every text from the company; START opts it in again. Returns
    ``"stopped"``, ``"started"`` or ``""``."""
    word = (body or "").strip().upper()
    number = sms.normalise_mobile(mobile)
    if not number:
        return ""
    if word in sms.STOP_WORDS:
        SmsOptOut.objects.get_or_create(company=company, mobile=number, defaults={"at": now})
        return "stopped"
    if word in sms.START_WORDS:
        SmsOptOut.objects.filter(company=company, mobile=number).delete()
        return "started"
    return ""


# --- a company's provider -------------------------------------------------------------------


def sms_provider_connect(
    *, company: Company, account_sid: str, auth_token: str, from_number: str, actor, now: datetime
) -> SmsProvider:
    """Connect the company's Twilio account (NTF-1): the token is stored encrypted."""
    account_sid, auth_token = account_sid.strip(), auth_token.strip()
    if not account_sid.startswith("AC") or len(account_sid) < 10:
        raise DomainError(_("The account SID starts with AC; copy it from Twilio's console."))
    if not auth_token:
        raise DomainError(_("Enter the auth token from Twilio's console."))
    number = sms.normalise_mobile(from_number)
    if not number and not from_number.strip().startswith("MG"):
        raise DomainError(_("Enter the sending number in international form, e.g. +61400000000."))
    with transaction.atomic():
        provider, _created = SmsProvider.objects.update_or_create(
            company=company,
            defaults={
                "account_sid": account_sid,
                "auth_token_encrypted": secrets.encrypt(auth_token),
                "from_number": number or from_number.strip(),
                "connected_at": now,
            },
        )
        audit_record(
            company_id=company.pk,
            actor=actor,
            area=AuditEntry.Area.SETTINGS,
            summary=f"Text messages connected (Twilio {account_sid})",
            now=now,
        )
    return provider


def sms_provider_disconnect(*, company: Company, actor, now: datetime) -> None:
    with transaction.atomic():
        if SmsProvider.objects.filter(company=company).delete()[0]:
            audit_record(
                company_id=company.pk,
                actor=actor,
                area=AuditEntry.Area.SETTINGS,
                summary="Text messages disconnected",
                now=now,
            )


# --- a parent's choices ---------------------------------------------------------------------


def _contact(company: Company, email: str, user=None) -> ParentContact:
    contact, _created = ParentContact.objects.select_for_update().get_or_create(
        company=company, email=email.lower(), defaults={"user": user}
    )
    return contact


def preferences_set(
    *, company: Company, email: str, user, choices: dict[str, dict[str, bool]], now: datetime
) -> ParentContact:
    """NTF-2: a parent's channels per group. E-mail for the essential kinds (a booking made
    for the family, a lesson the school cancelled) goes whatever is chosen here."""
    cleaned = {
        group: {
            Channel.EMAIL: bool(choices.get(group, {}).get(Channel.EMAIL)),
            Channel.SMS: bool(choices.get(group, {}).get(Channel.SMS)),
        }
        for group in Group.values
    }
    with transaction.atomic():
        contact = _contact(company, email, user)
        contact.preferences = cleaned
        contact.updated_at = now
        contact.save(update_fields=["preferences", "updated_at"])
    return contact


def unsubscribe_url(*, company: Company, email: str, group: str) -> str:
    token = signing.dumps({"c": company.pk, "e": email, "g": group}, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("notification_unsubscribe", kwargs={"token": token})


def unsubscribe_target(token: str) -> tuple[Company, str, str] | None:
    """``(company, email, group)`` of a one-click link, or ``None`` if it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    company = Company.objects.filter(pk=data.get("c")).first()
    if company is None or data.get("g") not in Group.values:
        return None
    return company, data.get("e", ""), data["g"]


def unsubscribe(*, company: Company, email: str, group: str, now: datetime) -> ParentContact:
    """NTF-2: the one-click unsubscribe (RFC 8058): no more e-mails of ``group`` (the
    essential ones still come)."""
    with transaction.atomic():
        contact = _contact(company, email)
        current = {**group_defaults(group), **contact.preferences.get(group, {})}
        contact.preferences = {**contact.preferences, group: {**current, Channel.EMAIL: False}}
        contact.updated_at = now
        contact.save(update_fields=["preferences", "updated_at"])
    return contact


def _code_hash(contact: ParentContact, mobile: str, code: str) -> str:
    return salted_hmac(
        "mobile-code", f"{contact.pk}:{mobile}:{code}", algorithm="sha256"
    ).hexdigest()


def mobile_code_send(*, company: Company, email: str, user, mobile: str, now: datetime) -> str:
    """NTF-1: a parent adds a mobile number; a six-digit code goes to it by text, valid
    ``CODE_VALID``, at most one a minute. Returns the number in international form."""
    number = sms.normalise_mobile(mobile)
    if not number:
        raise DomainError(
            _("Enter the mobile number in international form, starting with + (e.g. +61412345678).")
        )
    if not SmsProvider.objects.filter(company=company).exists():
        raise DomainError(_("This school does not send text messages yet."))
    if SmsOptOut.objects.filter(company=company, mobile=number).exists():
        raise DomainError(_("This number replied STOP to us. Text START to us first."))
    with transaction.atomic():
        contact = _contact(company, email, user)
        if contact.code_sent_at and contact.code_sent_at > now - CODE_INTERVAL:
            raise DomainError(_("A code was sent less than a minute ago. Please wait a moment."))
        code = f"{random.randbelow(10**6):06d}"
        contact.pending_mobile = number
        contact.code_hash = _code_hash(contact, number, code)
        contact.code_sent_at = now
        contact.code_attempts = 0
        contact.codes_sent += 1
        contact.updated_at = now
        contact.save()
        with translation.override(user.language if user else company.language):
            body = _("Your code for %(school)s: %(code)s") % {"school": company.name, "code": code}
        _write(
            Notification(
                company=company,
                kind=Kind.MOBILE_CODE,
                about=f"mobile-code:{contact.pk}:{contact.codes_sent}",
                channel=Channel.SMS,
                recipient=number,
                body=body,
                created_at=now,
            )
        )
    return number


def mobile_confirm(*, company: Company, email: str, code: str, now: datetime) -> ParentContact:
    """The code sent to the number confirms it: texts may go to it from now on."""
    with transaction.atomic():
        contact = _contact(company, email)
        if not contact.pending_mobile or not contact.code_sent_at:
            raise DomainError(_("Add a mobile number first."))
        if contact.code_sent_at < now - CODE_VALID or contact.code_attempts >= CODE_ATTEMPTS:
            raise DomainError(_("This code has expired. Send a new one."))
        expected = _code_hash(contact, contact.pending_mobile, code.strip())
        right = constant_time_compare(expected, contact.code_hash)
        if not right:  # the failed attempt is kept: five, and the code is void
            contact.code_attempts += 1
            contact.save(update_fields=["code_attempts"])
    if not right:
        raise DomainError(_("That code is not right. Check the text message and try again."))
    with transaction.atomic():
        contact = _contact(company, email)
        contact.mobile = contact.pending_mobile
        contact.mobile_confirmed_at = now
        contact.pending_mobile = contact.code_hash = ""
        contact.updated_at = now
        contact.save()
    return contact


def mobile_remove(*, company: Company, email: str, now: datetime) -> ParentContact:
    with transaction.atomic():
        contact = _contact(company, email)
        contact.mobile = contact.pending_mobile = contact.code_hash = ""
        contact.mobile_confirmed_at = None
        contact.updated_at = now
        contact.save()
    return contact
