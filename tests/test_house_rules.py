"""Rules of the house that imports alone do not show, read from the source: one place commits
(`storage.unit_of_work`), and SQL is written only in `storage/`."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_import_graph import MODULES

# What writes SQL: SQLAlchemy's statement builders, and running a statement.
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "exists", "and_", "or_"}


def calls(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every call of a function or method in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            found.append((node.lineno, name))
    return found


def places_calling(name: str, *, except_in: str | None = None) -> list[str]:
    """module:line of every call of `name`, leaving out the modules of package `except_in`."""
    return sorted(f"{module}:{line}" for module, path in MODULES.items()
                  if except_in is None or module.split(".")[0] != except_in
                  for line, called in calls(path) if called == name)


def test_only_the_unit_of_work_commits():
    committing = places_calling("commit")
    assert len(committing) == 1 and committing[0].startswith("storage.unit_of_work:")


def sql_builders_imported(path: Path) -> list[str]:
    return [alias.name for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
            for alias in node.names if alias.name in SQL_BUILDERS]


def test_sql_is_written_only_in_storage():
    builders = sorted(f"{module}: {name}" for module, path in MODULES.items() if module.split(".")[0] != "storage"
                      for name in sql_builders_imported(path))
    assert builders == []
    assert places_calling("execute", except_in="storage") == []
