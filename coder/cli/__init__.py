"""The `coder` command line: one short function per command, each calling one `Project` method.

Commands live in modules by theme and register themselves on the shared Typer app in `base`.
"""

from __future__ import annotations

# Importing a module registers its commands; this order is the order of `coder --help`.
from . import corpus, exchange, models, review, verdict, agreement, codebook  # noqa: F401, I001
from .base import app


def main() -> None:  # pragma: no cover - console script entry
    app()
