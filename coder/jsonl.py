"""Read JSON Lines files with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputFileError


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Return (line number, object) for every non-empty line; bad JSON or a non-object fails with its line."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(f"{path} cannot be read as UTF-8 text; check the path and re-save it as UTF-8.") from e
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputFileError(f"{path}, line {n}: not valid JSON ({e.msg}); fix or remove that line.") from e
        if not isinstance(obj, dict):
            raise InputFileError(f"{path}, line {n}: each line must be a JSON object.")
        rows.append((n, obj))
    return rows
