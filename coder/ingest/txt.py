"""Plain-text transcripts (UTF-8, or Windows-1252/Latin-1 with a warning)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputFileError
from .decode import decode_bytes


def read_txt(path: Path, encoding: str | None = None) -> tuple[str, dict[int, int], list[str]]:
    """Return (text, label hints, warnings); plain text has no formatting hints."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(f"{path} cannot be read ({e.strerror}); check the path and permissions.") from e
    text, warnings = decode_bytes(data, path, encoding)
    return text, {}, warnings
