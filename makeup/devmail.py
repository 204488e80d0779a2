"""The e-mails a developer's laptop sent, read back for the local mail viewer
(``/manage/dev/mail/``, only with ``DEBUG``).

With ``DEBUG`` and no ``EMAIL_URL`` the settings send e-mail with Django's file backend into
``var/mail/`` (one ``.log`` file per connection, messages separated by a line of 79 dashes):
the Celery worker that sends them prints nothing, and the viewer shows each message decoded,
its HTML rendered.
"""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings

#: How many of the newest messages the viewer lists.
LIMIT = 50
SEPARATOR = b"-" * 79 + b"\n"
_KEY = re.compile(r"^([\w.-]+\.log):(\d+)$")


@dataclass(frozen=True)
class DevMail:
    key: str  # "<file name>:<index>", what the viewer's links carry
    subject: str
    to: str
    sent_at: object  # an aware datetime, or None when the Date header is unreadable
    text: str
    html: str
    attachments: list[str]


def mail_dir() -> Path | None:
    """The folder the file backend writes to, or ``None`` when e-mail goes elsewhere."""
    mailer = settings.MAILERS.get("default", {})
    if not mailer.get("BACKEND", "").endswith("filebased.EmailBackend"):
        return None
    return Path(mailer.get("OPTIONS", {}).get("file_path", ""))


def _parse(key: str, chunk: bytes) -> DevMail:
    message: EmailMessage = message_from_bytes(chunk.strip(b"\n"), policy=policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    try:
        sent_at = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    return DevMail(
        key=key,
        subject=str(message["Subject"] or ""),
        to=str(message["To"] or ""),
        sent_at=sent_at,
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
        attachments=[part.get_filename() or "" for part in message.iter_attachments()],
    )


def _chunks(path: Path) -> list[bytes]:
    return [c for c in path.read_bytes().split(SEPARATOR) if c.strip()]


def dev_mails(folder: Path, *, limit: int = LIMIT) -> list[DevMail]:
    """The newest ``limit`` messages in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found: list[DevMail] = []
    files = sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    for path in files:
        for index, chunk in reversed(list(enumerate(_chunks(path)))):
            found.append(_parse(f"{path.name}:{index}", chunk))
            if len(found) >= limit:
                return found
    return found


def dev_mail(folder: Path, key: str) -> DevMail | None:
    """One message by its key; ``None`` for a key that names no message in ``folder``
    (never a path outside it: the key is a bare file name and an index)."""
    match = _KEY.match(key or "")
    if match is None:
        return None
    path = folder / match.group(1)
    if not path.is_file():
        return None
    chunks = _chunks(path)
    index = int(match.group(2))
    return _parse(key, chunks[index]) if index < len(chunks) else None
