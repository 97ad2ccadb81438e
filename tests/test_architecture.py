"""Imports flow one way: cli/web -> project -> store and stages -> records/codebook/errors."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "coder"
MODULES = sorted(PKG.rglob("*.py"))
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE TABLE)\b")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def _rel(path: Path) -> str:
    return str(path.relative_to(PKG))


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_architecture_only_cli_imports_typer(path):
    if not _rel(path).startswith("cli/"):
        assert not any(n.split(".")[0] == "typer" for n in _imports(path))


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_architecture_nothing_imports_cli(path):
    assert not any(n.endswith("cli") and "coder" in n or n == ".cli" for n in _imports(path) if _rel(path) != "__main__.py")


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_architecture_sql_only_in_store(path):
    if _rel(path) in ("store.py", "migrations.py"):
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not any(SQL.search(s) for s in strings if not s.strip().startswith(("\"\"\"", "Return", "Run")) and len(s) > 0 and "FROM " in s.upper() or "INSERT INTO" in s.upper())


STAGES = ("ingest", "segment.py", "sentence_rules.py", "codebook.py", "records.py", "classify", "encoders",
          "training.py", "spans.py", "evaluation.py")


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p).split("/")[0] in STAGES], ids=_rel)
def test_architecture_stages_do_not_import_store_or_project(path):
    assert not any(n.lstrip(".").split(".")[-1] in ("store", "project") for n in _imports(path))
