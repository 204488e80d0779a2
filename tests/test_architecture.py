"""The house as the code builds it: the import graph of the project's modules, read from the
source on every run, so the layout described in docs/development.md stays true.

- no import loop between modules (imports inside functions count too: a loop hidden in a
  function is still a loop);
- no app imports a higher one (``LAYERS``; ``config`` may import every app, no app imports
  ``config``);
- no module imports another module's private (``_underscored``) name.
"""

import ast
from collections import defaultdict
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Lowest first: an app may import its own layer and the ones below it.
LAYERS = [
    ["makeup"],
    ["programmes"],
    ["bookings"],
    ["credits"],
    ["makeups"],
    ["franchise"],
    ["portal", "api"],
    ["ops"],
    ["config"],
]
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for app in RANK:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).is_dir() else []:
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(modules: dict[str, Path]) -> dict[str, list[tuple[str, str, int]]]:
    """``module -> [(imported module, imported name or "", line)]`` within the project."""
    edges: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    edges[module].append((alias.name, "", node.lineno))
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, node, is_package)
                for alias in node.names:
                    candidate = f"{source}.{alias.name}"
                    if candidate in modules:  # "from pkg import module"
                        edges[module].append((candidate, "", node.lineno))
                    else:
                        edges[module].append((source, alias.name, node.lineno))
    return {
        module: [(target, name, line) for target, name, line in targets if target in modules]
        for module, targets in edges.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _graph(edges) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in edges.items():
        for target, _name, _line in targets:
            # A package's __init__ re-exporting its own modules is not a loop of the code.
            if target != module and not module.startswith(f"{target}."):
                graph[module].add(target)
    return graph


def test_no_import_loop_between_modules():
    cycles = _cycles(_graph(imports_of(project_modules())))
    assert not cycles, "Import loops:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_app_imports_a_higher_one():
    wrong = []
    for module, targets in imports_of(project_modules()).items():
        app = module.split(".")[0]
        for target, _name, line in targets:
            other = target.split(".")[0]
            if RANK[other] > RANK[app]:
                wrong.append(f"{module}:{line} imports {target} ({other} is above {app})")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_modules_private_name():
    wrong = [
        f"{module}:{line} imports {name} from {target}"
        for module, targets in imports_of(project_modules()).items()
        for target, name, line in targets
        if name.startswith("_") and not name.startswith("__") and target != module
    ]
    assert not wrong, "\n".join(wrong)


def test_the_graph_sees_loops_layers_and_private_names(tmp_path):
    """The checks above can fail: a loop, an upward import and a private name are found."""
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
    assert RANK["portal"] > RANK["credits"] > RANK["makeup"]
    node = ast.parse("from ..services import _secret").body[0]
    assert _resolve("credits.views.pages", node, is_package=False) == "credits.services"
