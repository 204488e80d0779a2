"""Plain-text e-mails are text, not HTML: a name such as O'Brien or ``C11"&<`` reaches the
parent as written, never as ``O&#x27;Brien``.

Every ``.txt`` template of the project (subjects and bodies of ``templates/emails/`` and the
password-reset e-mail) is found on disk, so a new text e-mail is covered without touching this
test. Each is rendered with a context in which *every* variable, at any depth, is a hostile
name (dates are dates and counts are numbers, which the templates format).
"""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, engines
from django.utils import translation

HOSTILE = 'Noah O\'Brien "C11" & <Sons>'
ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
WHEN = datetime(2026, 10, 6, 16, 30, tzinfo=UTC)
NUMBERS = {"days_left": 3, "places_left": 2, "pk": 7, "id": 7}
#: Values a URL needs in its own shape (the password-reset link).
URL_ARGUMENTS = {"uid": "MQ", "token": "set-password"}


class Hostile(str):
    """Any attribute of it is again hostile text, a date where the name says so, or a count."""

    def __new__(cls, *, equal: bool):
        value = super().__new__(cls, HOSTILE)
        value.equal = equal
        return value

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _value(name, equal=self.equal)

    def __getitem__(self, key):
        if isinstance(key, str):
            return _value(key, equal=self.equal)
        return str.__getitem__(self, key)

    def __iter__(self):
        return iter([Hostile(equal=self.equal)])

    # ``{% if event == "approved" %}``: one rendering takes every first branch, the other none.
    def __eq__(self, other):
        return self.equal

    def __ne__(self, other):
        return not self.equal

    __hash__ = str.__hash__


def _value(name: str, *, equal: bool):
    if name in NUMBERS:
        return NUMBERS[name]
    if name in URL_ARGUMENTS:
        return URL_ARGUMENTS[name]
    if name.endswith("_at") or name in ("date", "day"):
        return WHEN
    if name == "tz":
        return "Europe/Prague"
    if name == "site_url":
        return settings.SITE_URL
    return Hostile(equal=equal)


class HostileContext(Context):
    """A template context in which every name resolves (to :func:`_value`)."""

    def __init__(self, *, equal: bool, truthy: bool):
        super().__init__(autoescape=True)
        self.equal, self.truthy = equal, truthy

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except KeyError:
            if not self.truthy and key in ("approved", "owner", "inviter_name", "receipt"):
                return False
            return _value(key, equal=self.equal)

    def __contains__(self, key):
        return True

    def get(self, key, otherwise=None):
        return self[key]


def text_templates() -> list[str]:
    """Every ``.txt`` template in the project's template folders (not installed packages)."""
    engine = engines["django"].engine
    root = Path(settings.BASE_DIR).resolve()
    names = set()
    for folder in engine.template_loaders[0].get_dirs():
        folder = Path(folder).resolve()
        if not folder.is_dir() or root not in folder.parents or ".venv" in folder.parts:
            continue
        names |= {str(path.relative_to(folder)) for path in folder.rglob("*.txt")}
    return sorted(names)


def test_the_text_templates_are_found():
    names = text_templates()
    assert "emails/makeup_booked_subject.txt" in names
    assert "emails/makeup_booked_body.txt" in names
    assert "registration/password_reset_email.txt" in names
    assert len(names) >= 20


@pytest.mark.parametrize("language", ["en", "cs"])
@pytest.mark.parametrize("name", text_templates())
def test_text_email_shows_names_as_written_never_html_entities(name, language):
    template = engines["django"].engine.get_template(name)
    outputs = []
    with translation.override(language):
        for equal, truthy in ((True, True), (False, True), (True, False)):
            outputs.append(template.render(HostileContext(equal=equal, truthy=truthy)))
    text = "\n".join(outputs)
    assert not ENTITY.findall(text), f"{name} ({language}) escapes HTML: {ENTITY.findall(text)}"
    if "{{" in Path(template.origin.name).read_text():
        assert HOSTILE in text or "O'Brien" in text
