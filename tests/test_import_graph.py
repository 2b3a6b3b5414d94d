"""The house's arrows, read from the code: no import cycle (a function-level import counts, and
importing `a.b` runs `a/__init__` too), `i18n` is the lowest layer, `intake` stands on `i18n`
alone, neither talks to the web, the database or a provider, `storage` knows nothing of the
channels or the portal, and the portal nothing of the bot (`app.py` hands it what it needs)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "config", "bot", "intake", "i18n", "storage", "portal")
OUTSIDE_WORLD = {"flask", "flask_wtf", "flask_limiter", "werkzeug", "sqlalchemy", "alembic", "twilio", "telegram",
                 "httpx", "psycopg", "smtplib"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(REPO.glob("*.py")):
        if path.stem in PACKAGES:
            modules[path.stem] = path
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")) if (REPO / package).is_dir() else []:
            if "migrations" in path.parts:  # Alembic loads these by path; they import nothing of ours
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = project_modules()


def imported_names(path: Path) -> set[str]:
    """Every module name an import statement anywhere in the file names (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def with_parents(name: str) -> set[str]:
    """Importing a.b.c runs a, a.b and a.b.c: each that is one of ours is depended on."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & MODULES.keys()


GRAPH = {module: set().union(*[with_parents(name) for name in imported_names(path)]) - {module}
         for module, path in MODULES.items()}


def cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    return module.split(".")[0]


def test_the_graph_is_read():
    assert {"bot.channels.inbox", "intake.engine", "i18n.render", "storage.models", "portal.auth"} <= MODULES.keys()
    assert "storage.models" in GRAPH["bot.channels.inbox"] or "storage.conversations" in GRAPH["bot.channels.inbox"]


def test_there_is_no_import_cycle():
    assert cycles() == []


@pytest.mark.parametrize("package, allowed", [
    ("i18n", {"i18n"}),
    ("intake", {"intake", "i18n"}),
    ("storage", {"storage", "intake", "i18n"}),
    ("bot", {"bot", "config", "intake", "i18n", "storage"}),
    ("portal", {"portal", "config", "intake", "i18n", "storage"}),
    ("config", {"config"}),
])
def test_imports_point_down(package, allowed):
    upward = sorted(f"{module} -> {target}" for module, targets in GRAPH.items() if package_of(module) == package
                    for target in targets if package_of(target) not in allowed)
    assert upward == []


@pytest.mark.parametrize("package", ["i18n", "intake"])
def test_the_engine_and_the_languages_talk_to_no_outside_world(package):
    talking = sorted(f"{module} -> {name}" for module, path in MODULES.items() if package_of(module) == package
                     for name in imported_names(path) if name.split(".")[0] in OUTSIDE_WORLD)
    assert talking == []


def test_a_cycle_would_be_found():
    """The check itself can fail: a graph with a loop through a package's init is caught."""
    saved = {key: set(value) for key, value in GRAPH.items()}
    try:
        GRAPH["i18n"] = GRAPH.get("i18n", set()) | {"i18n.render"}
        GRAPH["i18n.render"] = GRAPH["i18n.render"] | {"i18n"}
        assert any({"i18n", "i18n.render"} <= set(component) for component in cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
