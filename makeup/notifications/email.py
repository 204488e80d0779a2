"""E-mail: the only module that hands messages to Django's mail backend (NTF-1).

Family messages are rendered by :func:`makeup.notifications.services.notify_family` and sent
by :func:`send_email`; account and staff e-mails (sign-up, password reset, invitations,
partner notices) are rendered and sent by :func:`send_templated_email`, which refuses the
templates of family messages. ``tests/makeup/test_notifications_seam.py`` checks that no
other module uses Django's mail classes.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from .. import outbox
from .kinds import FAMILY_TEMPLATES


def render_email(template: str, context: dict, language: str | None) -> tuple[str, str, str]:
    """``(subject, text, html)`` of ``templates/emails/<template>_*`` in ``language``."""
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {"site_url": settings.SITE_URL, **context}
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    return " ".join(subject.split()), text, html


def send_email(
    *,
    subject: str,
    text: str,
    html: str,
    to: list[str],
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, str]] | None = None,
) -> int:
    """Send one message (text with an HTML alternative); returns the number sent (0 or 1).
    It carries the outbox key of the delivery running now (``check_invariants``)."""
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=to, headers={**outbox.mail_headers(), **(headers or {})}
    )
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    return message.send()


def send_templated_email(
    *,
    template: str,
    to: list[str],
    context: dict,
    language: str | None = None,
    attachments: list[tuple[str, str, str]] | None = None,
) -> int:
    """An account or staff e-mail: render ``emails/<template>_subject.txt``, ``_body.txt``
    and ``_body.html`` in the given language and send them as one message. A family
    message's template is refused: those go through ``notify_family`` (NTF-1)."""
    if template in FAMILY_TEMPLATES:
        raise ValueError(f"{template!r} is a family message: send it with notify_family.")
    subject, text, html = render_email(template, context, language)
    return send_email(subject=subject, text=text, html=html, to=to, attachments=attachments)
