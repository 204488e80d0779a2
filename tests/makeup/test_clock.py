"""The clock is an argument: an entry point (a view, a Celery task, a management command, the
demo seeder, a middleware or authentication backend) reads the clock once and passes ``now``
down; services, selectors, forms and everything below them take ``now`` and never read the
machine's clock themselves.

The test reads the project's code (not the tests) and fails on any clock read outside an
entry point, so a new module cannot quietly judge a rule against the real today.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["makeup", "programmes", "bookings", "credits", "franchise", "portal"]

# ``timezone.now()``, ``timezone.localdate()`` / ``localtime()`` without an instant,
# ``datetime.now()``, ``date.today()``, ``time.time()``; and ``default=timezone.now``.
CLOCK_CALLS = {
    ("timezone", "now"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
}
CLOCK_WITHOUT_ARGUMENT = {("timezone", "localdate"), ("timezone", "localtime")}
TASK_DECORATORS = {"shared_task", "task"}
# A line may read the clock when it says why (e.g. a model default for a record-keeping
# timestamp no rule reads, or the outbox scheduling real delivery).
ALLOW_MARK = "# clock:"


def _is_entry_module(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    name = path.name
    return (
        # Views, tasks, the demo seeder; Django runs middleware and authentication backends
        # on each request, as it runs views.
        name in {"views.py", "tasks.py", "demo.py", "middleware.py", "auth.py"}
        or name.endswith("_views.py")
        or "views" in parts[:-1]
        or ("management" in parts and "commands" in parts)
    )


def _pair(node: ast.AST) -> tuple[str, str] | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id, node.attr
    return None


def _decorator_names(function: ast.FunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


class _ClockReads(ast.NodeVisitor):
    def __init__(self, lines: list[str]):
        self.lines = lines
        self.in_task = 0
        self.found: list[int] = []

    def visit_FunctionDef(self, node):
        is_task = bool(_decorator_names(node) & TASK_DECORATORS)
        self.in_task += is_task
        self.generic_visit(node)
        self.in_task -= is_task

    def _report(self, node: ast.AST) -> None:
        if not self.in_task and ALLOW_MARK not in self.lines[node.lineno - 1]:
            self.found.append(node.lineno)

    def visit_Call(self, node: ast.Call):
        pair = _pair(node.func)
        if pair in CLOCK_CALLS or (pair in CLOCK_WITHOUT_ARGUMENT and not node.args):
            self._report(node)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword):
        if node.arg == "default" and _pair(node.value) == ("timezone", "now"):
            self._report(node.value)
        self.generic_visit(node)


def clock_reads_below_entry_points() -> list[str]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or _is_entry_module(path):
                continue
            source = path.read_text()
            visitor = _ClockReads(source.splitlines())
            visitor.visit(ast.parse(source))
            rel = path.relative_to(ROOT)
            found += [f"{rel}:{line}: {visitor.lines[line - 1].strip()}" for line in visitor.found]
    return found


def test_nothing_below_an_entry_point_reads_the_clock():
    found = clock_reads_below_entry_points()
    assert not found, (
        "These read the machine's clock below a view, task or command; take `now` as an "
        "argument instead (or say why with a '# clock:' comment):\n" + "\n".join(found)
    )


def test_the_scan_finds_a_clock_read(tmp_path, monkeypatch):
    """The scan itself works: a service that reads the clock is reported."""
    source = (
        "from django.utils import timezone\n"
        "def credit_thing(*, credit):\n"
        "    return credit.expires_at > timezone.now()\n"
        "def day():\n"
        "    return timezone.localdate()\n"
        "def fine(now):\n"
        "    return timezone.localdate(now)\n"
    )
    visitor = _ClockReads(source.splitlines())
    visitor.visit(ast.parse(source))
    assert visitor.found == [3, 5]
