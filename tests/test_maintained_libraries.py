"""Maintained libraries instead of hand-written code, read from the source on every run:

- Stripe is reached only through the official ``stripe`` library: no module that deals with
  Stripe imports an HTTP client or ``hmac``, none names Stripe's API address or endpoints,
  and the payments module creates Checkout sessions and verifies webhooks with the library;
- every calendar the product writes (the make-up invitation, the private feeds) is written by
  the ``icalendar`` library (``makeups/calendar.py``): no iCalendar text — a ``BEGIN:VEVENT``,
  a ``DTSTART:`` line — appears in the product's code or templates.

The tests and the fakes of outside services may write such text: they are not the product.
"""

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
NOT_PRODUCT = {".venv", ".git", "tests", "node_modules", "var", "staticfiles", "docs", "vendor"}
SUFFIXES = {".py", ".html", ".txt", ".js", ".ics", ".xml", ".json", ".yml", ".yaml", ".toml"}
PAYMENTS = "bookings/services/payments.py"

# Hand-written HTTP, and hand-made signatures.
HTTP_CLIENTS = {"urllib.request", "http.client", "requests", "httpx", "urllib3", "aiohttp"}
SIGNING = {"hmac"}
STRIPE_ADDRESSES = re.compile(r"api\.stripe\.com|/v1/checkout/|/v1/payment_intents", re.I)
# iCalendar text: a component's BEGIN/END line, or a property line of an event.
ICALENDAR_TEXT = re.compile(
    r"\b(?:BEGIN|END):V(?:CALENDAR|EVENT|TODO|JOURNAL|FREEBUSY|TIMEZONE|ALARM)\b"
    r"|\b(?:DTSTART|DTEND|DTSTAMP|RRULE|EXDATE)[:;]"
)


def product_files(root: Path) -> list[Path]:
    """The product's own files: code, templates, configuration (not tests, docs, the venv)."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in SUFFIXES
        and path.is_file()
        and not NOT_PRODUCT & set(path.relative_to(root).parts)
    )


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (``import a.b`` → ``a.b``; ``from a import b`` → ``a``,
    ``a.b``), at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def hand_written_stripe(root: Path) -> list[str]:
    """Where Stripe is reached around its library: an HTTP client or ``hmac`` in a module
    that deals with Stripe, or Stripe's API address or endpoints written out."""
    problems = []
    for path in product_files(root):
        name, text = str(path.relative_to(root)), path.read_text()
        names_api = bool(STRIPE_ADDRESSES.search(text))
        if names_api:
            problems.append(f"{name}: names Stripe's API address or endpoint")
        # A module deals with Stripe when it imports the library, reads the Stripe settings
        # or writes Stripe's addresses — not when prose mentions the name (our own webhooks
        # are signed "in the style Stripe documents").
        deals_with_stripe = path.suffix == ".py" and (
            names_api or "STRIPE_" in text or "stripe" in imported_modules(path)
        )
        if deals_with_stripe:
            for module in sorted(imported_modules(path) & (HTTP_CLIENTS | SIGNING)):
                problems.append(f"{name}: imports {module}")
    return problems


def hand_written_icalendar(root: Path) -> list[str]:
    """Each line of the product's files that writes iCalendar text itself."""
    return [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in product_files(root)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ICALENDAR_TEXT.search(line)
    ]


def test_stripe_is_reached_only_through_the_stripe_library():
    assert hand_written_stripe(ROOT) == []


def test_payments_use_the_stripe_library_for_checkout_and_webhooks():
    source = (ROOT / PAYMENTS).read_text()
    assert "stripe" in imported_modules(ROOT / PAYMENTS)
    assert "self.client.v1.checkout.sessions.create(" in source
    assert "stripe.Webhook.construct_event(" in source


def test_no_icalendar_text_is_written_by_hand():
    assert hand_written_icalendar(ROOT) == []


def test_every_calendar_is_written_by_the_icalendar_library():
    """One module writes iCalendar — with the library — and the feed and the e-mail
    invitations take their text from it."""
    writers = [
        str(path.relative_to(ROOT))
        for path in product_files(ROOT)
        if path.suffix == ".py" and "icalendar" in imported_modules(path)
    ]
    assert writers == ["makeups/calendar.py"]
    assert "to_ical()" in (ROOT / "makeups/calendar.py").read_text()
    assert "from makeups.calendar import" in (ROOT / "portal/selectors/feeds.py").read_text()
    assert "makeup_ics(" in (ROOT / "makeups/tasks.py").read_text()


def test_the_guards_see_hand_written_stripe_and_icalendar_text(tmp_path):
    """The checks above would fail on the code they exist to keep out."""
    (tmp_path / "bookings").mkdir()
    (tmp_path / "bookings" / "pay.py").write_text(
        "import hmac\nfrom urllib.request import urlopen\n\n"
        "def start(key):\n"
        "    import requests\n"
        "    return requests.post('https://api.stripe.com/v1/checkout/sessions', auth=(key, ''))\n"
    )
    (tmp_path / "bookings" / "ok.py").write_text("import stripe\nimport urllib.parse\n")
    (tmp_path / "bookings" / "keys.py").write_text(
        "import hmac\nKEY = settings.STRIPE_SECRET_KEY\n"
    )
    (tmp_path / "hooks.py").write_text('"""Signed in the style Stripe documents."""\nimport hmac\n')
    (tmp_path / "feed.txt").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    (tmp_path / "invite.py").write_text("lines = ['DTSTART:20261208T060000Z', 'SUMMARY:x']\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("BODY = 'BEGIN:VEVENT'  # stripe\nimport hmac\n")

    assert hand_written_stripe(tmp_path) == [
        "bookings/keys.py: imports hmac",
        "bookings/pay.py: names Stripe's API address or endpoint",
        "bookings/pay.py: imports hmac",
        "bookings/pay.py: imports requests",
        "bookings/pay.py: imports urllib.request",
    ]
    assert hand_written_icalendar(tmp_path) == [
        "feed.txt:1: BEGIN:VCALENDAR",
        "invite.py:1: lines = ['DTSTART:20261208T060000Z', 'SUMMARY:x']",
    ]
