"""Templated e-mails: subject, plain text and HTML from ``templates/emails/<name>.*``."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from . import outbox


def send_templated_email(
    *,
    template: str,
    to: list[str],
    context: dict,
    language: str | None = None,
    attachments: list[tuple[str, str, str]] | None = None,
) -> int:
    """Render ``emails/<template>_subject.txt``, ``_body.txt`` and ``_body.html`` in the
    given language and send them as one message. Returns the number sent (0 or 1)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {"site_url": settings.SITE_URL, **context}
        subject = render_to_string(f"emails/{template}_subject.txt", context)
        subject = " ".join(subject.split())
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=to, headers=outbox.mail_headers()
    )
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    return message.send()
