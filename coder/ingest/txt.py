"""Plain-text transcripts (UTF-8, or Windows-1252/Latin-1 with a warning)."""

from __future__ import annotations

from pathlib import Path

from .decode import read_text_file


def read_txt(path: Path, encoding: str | None = None) -> tuple[str, dict[int, int], list[str]]:
    """Return (text, label hints, warnings); plain text has no formatting hints."""
    text, warnings = read_text_file(path, encoding)
    return text, {}, warnings
