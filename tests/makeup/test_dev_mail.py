"""`make run` for a developer: the e-mails the laptop sent are kept in var/mail/ and read,
decoded and rendered, at /manage/dev/mail/ (staff, DEBUG only); links in e-mails follow
`make run PORT=…`; every 403/404 warning is logged once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
LIST = "/manage/dev/mail/"


@pytest.fixture
def mailbox(settings, tmp_path):
    """DEBUG on, e-mails written by Django's file backend into ``tmp_path``, as on a laptop."""
    settings.DEBUG = True
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    return tmp_path


def _send(folder: Path, subject: str, *, html: str = "", attach: bool = False) -> None:
    message = EmailMultiAlternatives(
        subject=subject,
        body="Dobrý den, Ava's make-up is cancelled.\nhttp://127.0.0.1:8010/portal/alpha/\n",
        to=["parent@example.com"],
    )
    if html:
        message.attach_alternative(html, "text/html")
    if attach:
        message.attach("make-up.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    FileBackend(file_path=str(folder)).send_messages([message])


def test_dev_mail_lists_sent_emails_decoded_with_their_html_rendered(world, login, mailbox):
    _send(mailbox, "First: credit issued")
    _send(
        mailbox,
        "Náhradní lekce zrušena: Ava, Žraloci",
        html='<p style="color: #212529">Dobrý den, <strong>Ava</strong></p>',
        attach=True,
    )
    client = login(world.staff_a)
    page = client.get(LIST).content.decode()
    # Newest first, and shown: the subject, recipient and body as written (no =C3=A1 MIME).
    assert page.index("Náhradní lekce zrušena: Ava, Žraloci") < page.index("First: credit")
    assert "parent@example.com" in page and "make-up.ics" in page
    assert "Dobrý den, Ava&#x27;s make-up is cancelled." in page and "=C3" not in page
    assert '<a href="http://127.0.0.1:8010/portal/alpha/"' in page  # links can be followed
    # The HTML part in a sandboxed frame of its own, served as the family sees it.
    key = page.split('src="/manage/dev/mail/html/?m=')[1].split('"')[0]
    frame = client.get(reverse("manage:dev_mail_html") + "?m=" + key)
    assert frame.status_code == 200
    assert "Dobrý den, <strong>Ava</strong>" in frame.content.decode()
    csp = frame["Content-Security-Policy"]
    assert "sandbox" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    # The other message is shown when picked.
    other = [line for line in page.split("?m=") if "First: credit" in line][0].split('"')[0]
    picked = client.get(LIST + "?m=" + other).content.decode()
    assert 'aria-current="true"' in picked and "First: credit issued" in picked


def test_dev_mail_reads_only_its_folder(world, login, mailbox):
    _send(mailbox, "Hello", html="<p>Hi</p>")
    client = login(world.staff_a)
    for key in ("../../config/settings.py:0", "nothing.log:0", "x", "0.log:99"):
        assert client.get(reverse("manage:dev_mail_html") + "?m=" + key).status_code == 404
        assert client.get(LIST, {"m": key}).status_code == 200  # the list, nothing picked


def test_dev_mail_exists_only_with_debug_and_for_staff(world, login, settings, mailbox):
    assert login(world.parent_a).get(LIST).status_code == 403
    settings.DEBUG = False
    assert login(world.owner_a).get(LIST).status_code == 404
    assert login(world.owner_a).get(reverse("manage:dev_mail_html")).status_code == 404


def test_dev_mail_says_where_emails_go_when_not_kept(world, login, settings):
    settings.DEBUG = True
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    page = login(world.staff_a).get(LIST).content.decode()
    assert "E-mails are not kept here" in page and "smtp.EmailBackend" in page


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    keep = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEBUG", "SITE_URL"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("debug", ["1", "0"])
def test_a_404_warning_is_logged_once(debug):
    """Django's default gave its "django" logger a console handler beside the root's: each
    403/404 warning printed twice in development."""
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('django.request').warning('Not Found: /nowhere/')"
    )
    production = {"SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "example.com"}
    result = _run(code, DEBUG=debug, **(production if debug == "0" else {}))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("Not Found: /nowhere/") == 1, result.stderr


def test_laptop_emails_are_kept_in_var_mail():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "m = s.MAILERS['default']; print(m['BACKEND'], m['OPTIONS']['file_path'])"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.filebased.EmailBackend",
        str(ROOT / "var" / "mail"),
    ]


def test_make_run_port_sets_the_site_url_of_the_server_and_the_worker():
    """`make run PORT=8010`: the e-mails the worker sends link to port 8010."""
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST", "PORT"}}
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8010"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "SITE_URL=" in line]
    assert len(lines) == 2, result.stdout
    assert all("SITE_URL=http://127.0.0.1:8010 " in line for line in lines)
    assert any("celery -A config worker" in line for line in lines)
    assert any("runserver 127.0.0.1:8010" in line for line in lines)
    readme = (ROOT / "README.md").read_text()
    assert "make run PORT=8010" in readme and "/manage/dev/mail/" in readme
