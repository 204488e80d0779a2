"""Translations: compile the catalogs without GNU gettext, and check that none is missing.

    manage.py translations compile   # every locale/*/LC_MESSAGES/django.po → .mo (polib)
    manage.py translations check     # makemessages for cs, then fail on any untranslated
                                     # or fuzzy string (needs GNU gettext's xgettext; CI)

``make run`` and ``make test`` compile, so a laptop needs only Python (the .mo files are
generated, never committed).
"""

from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

CHECKED_LANGUAGES = ["cs"]


def catalogs() -> list[Path]:
    """Every django.po of the project (LOCALE_PATHS) and of its own apps."""
    roots = [Path(p) for p in settings.LOCALE_PATHS]
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and ".venv" not in path.parts:
            roots.append(path / "locale")
    return sorted(p for root in roots for p in root.glob("*/LC_MESSAGES/django.po"))


class Command(BaseCommand):
    help = "Compile the translation catalogs (compile) or check that none is incomplete (check)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["compile", "check"])

    def handle(self, *args, action, **options):
        if action == "check":
            self._check()
        else:
            self._compile()

    def _compile(self) -> None:
        found = catalogs()
        for po_path in found:
            polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
        self.stdout.write(f"compiled {len(found)} catalog(s)")

    def _check(self) -> None:
        for language in CHECKED_LANGUAGES:
            call_command(
                "makemessages",
                locale=[language],
                extensions=["html", "txt", "py"],
                ignore_patterns=["tests/*", "static/*", "staticfiles/*", "var/*", "node_modules/*"],
                no_obsolete=True,
                verbosity=0,
            )
        problems = []
        for po_path in catalogs():
            catalog = polib.pofile(str(po_path))
            missing = catalog.untranslated_entries() + catalog.fuzzy_entries()
            for entry in missing:
                where = entry.occurrences[0][0] if entry.occurrences else "?"
                problems.append(f"{po_path}: {entry.msgid[:70]!r} ({where})")
            self.stdout.write(
                f"{po_path}: {len(catalog.translated_entries())} translated, {len(missing)} missing"
            )
        if problems:
            raise CommandError(
                f"{len(problems)} string(s) without a translation:\n" + "\n".join(problems[:50])
            )
        self.stdout.write(self.style.SUCCESS("Every string is translated."))
