"""Every command is documented in the README and has help (sqlite-utils' test_docs)."""

from __future__ import annotations

import pytest
import typer

from coder.cli import app

from .conftest import REPO


def _commands(t: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for c in t.registered_commands:
        out.append((f"{prefix}{c.name or c.callback.__name__}", c.callback))
    for g in t.registered_groups:
        out.extend(_commands(g.typer_instance, f"{prefix}{g.name} "))
    return out


@pytest.mark.parametrize("name, callback", _commands(app))
def test_docs_command_in_readme_with_help(name, callback):
    assert f"coder {name}" in (REPO / "README.md").read_text(encoding="utf-8")
    assert callback.__doc__ and callback.__doc__.strip()


def test_docs_readme_starts_with_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_blocks = [b.split("```", 1)[0].strip() for b in readme.split("```bash")[1:3]]
    assert first_blocks == ["make demo", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text()
