"""docs/rules.md is the one place a rule ID is defined.

The code, templates and tests name rules by ID (docstrings, comments, template comments) and
tests carry them in their names (``test_mkp_9_…``, ``test_pol_5_pol_6_…``). These tests fail
when one of those IDs has no definition in docs/rules.md, when an ID is defined twice, when a
rule says neither where it is enforced and tested nor that it is not built yet, and when a
module, function or test the page names no longer exists.
"""

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_DOC = ROOT / "docs" / "rules.md"

FAMILIES = (
    "ATT", "POL", "CRD", "MKP", "PKG", "BAL", "FRN", "TEN", "BEY",
    "DAY", "CLO", "WAL", "NTF", "API",
)  # fmt: skip
_FAMILY = "|".join(FAMILIES)
# Upper case only and whole words: "UTF-8", "X-API-Key" or "/api/v1/" are no rule IDs.
RULE_ID = re.compile(rf"\b(?:{_FAMILY})-\d+\b")
TEST_NAME = re.compile(r"\bdef\s+(test_\w+)")
# Inside a test's name: "mkp_9" between underscores (or at the end), "holiday_1" is not one.
LOWER_ID = re.compile(rf"(?<![a-z0-9])({_FAMILY.lower()})_(\d+)(?=_|$)")
# A definition: a heading "### MKP-9 …", or a bold lead "- **MKP-9** …".
DEFINITION = re.compile(rf"^(?:#{{2,4}}\s+|- \*\*)((?:{_FAMILY})-\d+)\b", re.MULTILINE)

# Not the project's own text, or not where rules are named (docs/ is what is checked against).
SKIPPED_DIRS = {
    ".git", ".venv", "venv", "node_modules", "migrations", "locale", "vendor", "docs",
    "__pycache__", "var", "htmlcov", "staticfiles", "media",
}  # fmt: skip
SCANNED_SUFFIXES = {".py", ".html", ".txt", ".js", ".css", ".md", ".sh"}


def ids_in_text(text: str) -> set[str]:
    """Every rule ID in ``text``: written out (``MKP-9``) or in a test's name (``test_mkp_9_``)."""
    found = set(RULE_ID.findall(text))
    for name in TEST_NAME.findall(text):
        found |= {f"{family.upper()}-{number}" for family, number in LOWER_ID.findall(name[5:])}
    return found


def project_files() -> list[Path]:
    """The app folders, templates/, tests/, static/ (not vendored) and any other top-level
    folder of the project's own, so a new app is covered without touching this test."""
    files = []
    for top in sorted(ROOT.iterdir()):
        if not top.is_dir() or top.is_symlink() or top.name.startswith("."):
            continue
        if top.name in SKIPPED_DIRS:
            continue
        for path in sorted(top.rglob("*")):
            relative = path.relative_to(ROOT).parts
            if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative[:-1]):
                continue
            if path.suffix in SCANNED_SUFFIXES and path.is_file():
                files.append(path)
    return files


def ids_used_in_project() -> dict[str, list[str]]:
    """Rule ID → the files naming it."""
    used = defaultdict(list)
    for path in project_files():
        for rule in ids_in_text(path.read_text(encoding="utf-8", errors="replace")):
            used[rule].append(str(path.relative_to(ROOT)))
    return used


def doc_text() -> str:
    return RULES_DOC.read_text(encoding="utf-8")


def definitions(text: str) -> list[str]:
    return DEFINITION.findall(text)


def sections(text: str) -> dict[str, str]:
    """Each defined rule's text, from its heading to the next heading."""
    result = {}
    matches = list(DEFINITION.finditer(text))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        next_heading = re.search(r"^#{1,4}\s", text[match.end() : end], re.MULTILINE)
        if next_heading:
            end = match.end() + next_heading.start()
        result[match.group(1)] = text[match.start() : end]
    return result


def _sort_key(rule: str) -> tuple[int, int]:
    family, number = rule.split("-")
    return FAMILIES.index(family), int(number)


# --- the collector itself ------------------------------------------------------------------


def test_the_collector_finds_rule_ids_and_nothing_else():
    text = (
        '"""Booking (MKP-1…MKP-8, CRD-3) and UTF-8; X-API-Key; /api/v1/; TEN-1."""\n'
        "def test_pol_5_pol_6_pol_10_crd_2_invariants(): ...\n"
        "def test_mkp_1_and_mkp_3_sessions(): ...\n"
        "def test_a_holiday_1_and_today_2(): ...\n"
        "mkp_9 = 'a variable, not a test name'\n"
    )
    assert ids_in_text(text) == {
        "MKP-1", "MKP-8", "CRD-3", "TEN-1", "POL-5", "POL-6", "POL-10", "CRD-2", "MKP-3",
    }  # fmt: skip


def test_the_walk_reaches_apps_templates_and_tests_but_not_vendored_or_docs():
    files = {str(path.relative_to(ROOT)) for path in project_files()}
    assert "makeups/services/booking.py" in files
    assert "makeups/templates/makeups/makeup_book.html" in files
    assert "tests/makeups/test_makeup_booking.py" in files
    assert not any(
        part in {"vendor", "migrations", "locale", "docs", ".venv"}
        for name in files
        for part in Path(name).parts
    )


# --- the page -------------------------------------------------------------------------------


def test_every_rule_id_named_in_the_project_is_defined_in_docs_rules_md():
    used = ids_used_in_project()
    assert len(used) > 50, "the walk found almost no rule IDs: is ROOT the project root?"
    text = doc_text()
    defined = set(definitions(text))
    missing = {rule: where for rule, where in used.items() if rule not in defined}
    # The page itself only refers to rules it defines.
    missing.update({rule: ["docs/rules.md"] for rule in set(ids_in_text(text)) - defined})
    assert not missing, "Rule IDs named in the project but not defined in docs/rules.md:\n" + (
        "\n".join(
            f"  {rule}: {', '.join(sorted(missing[rule])[:3])}"
            for rule in sorted(missing, key=_sort_key)
        )
    )


def test_every_rule_id_is_defined_once():
    defined = definitions(doc_text())
    assert len(defined) > 80, "docs/rules.md defines almost nothing: has its format changed?"
    twice = sorted({rule for rule in defined if defined.count(rule) > 1}, key=_sort_key)
    assert not twice, f"Defined more than once in docs/rules.md: {', '.join(twice)}"


def test_every_rule_says_where_it_is_enforced_and_tested_or_that_it_is_not_built():
    incomplete = [
        rule
        for rule, section in sections(doc_text()).items()
        if "**Not built yet" not in section
        and not ("**Enforced in:**" in section and "**Tested by:**" in section)
    ]
    assert not incomplete, (
        "Rules without 'Enforced in' and 'Tested by' lines (or 'Not built yet'): "
        + ", ".join(incomplete)
    )


def test_the_modules_functions_and_tests_the_page_names_exist():
    """In a rule's bullet lines, a backticked path names a file that exists, and each
    backticked name after it is in that file (a test name as a test function)."""
    problems = []
    for rule, section in sections(doc_text()).items():
        bullets = section[section.find("\n- **") :] if "\n- **" in section else ""
        current: Path | None = None
        source = ""
        for token in re.findall(r"`([^`\n]+)`", bullets):
            if "/" in token and re.fullmatch(r"[\w./-]+\.\w+", token):
                current = ROOT / token
                if current.is_file():
                    source = current.read_text(encoding="utf-8")
                else:
                    problems.append(f"{rule}: no file {token}")
                continue
            if not re.fullmatch(r"[A-Za-z_][\w.]*", token):
                continue  # a command or a value, not a name
            if current is None:
                problems.append(f"{rule}: `{token}` names no file before it")
                continue
            if not current.is_file():
                continue  # the missing file is reported once
            name = token.rsplit(".", 1)[-1]
            if name.startswith("test_"):
                pattern = rf"^\s*(?:async\s+)?def {name}\("
            else:
                pattern = rf"\b{name}\b"
            if not re.search(pattern, source, re.MULTILINE):
                problems.append(f"{rule}: {name} not found in {current.relative_to(ROOT)}")
    assert not problems, "docs/rules.md names what does not exist:\n  " + "\n  ".join(problems)
