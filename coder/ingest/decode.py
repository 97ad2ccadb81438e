"""Turn file bytes into text: UTF-8 first, Windows-1252 with a warning, clear errors otherwise.

The stored text differs from the file only in what every tool must agree on: no byte-order mark
and LF line endings (REFI-QDA offsets are counted on such text, as QualCoder does).
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

from ..errors import InputFileError

# C0/C1 control characters that never occur in a real transcript; their presence after a
# single-byte decode means the guess was wrong or the file is binary.
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _controls(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS)


def decode_bytes(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, list[str]]:
    """Return (text, warnings) for the bytes of ``path``; raise `InputFileError` if it is not text."""
    name = path.name
    if not data.strip():
        raise InputFileError(f"{name} is empty; check that you picked the right file.")
    if encoding:
        try:
            return normalise_newlines(data.decode(encoding).lstrip("\ufeff")), []
        except (UnicodeDecodeError, LookupError) as e:
            raise InputFileError(f"{name} cannot be read as {encoding} ({e}); try another --encoding or re-save it as UTF-8.") from e
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return normalise_newlines(data.decode("utf-16").lstrip("\ufeff")), []
        except UnicodeDecodeError as e:  # an odd byte count (a cut-off file) or a broken surrogate pair
            raise InputFileError(
                f"{name} starts as UTF-16 text but is damaged at byte {e.start} (cut off, or an odd number of bytes); "
                "re-save it as UTF-8 and try again."
            ) from e
    if b"\x00" in data[:4096]:
        raise InputFileError(f"{name} looks like a binary file, not text; export the transcript as .txt or .docx and try again.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        pos = e.start
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        if _controls(text) > max(2, len(text) // 1000):
            raise InputFileError(
                f"{name} is neither UTF-8 nor Windows-1252/Latin-1 text (byte 0x{data[pos]:02x} at offset {pos}); "
                "re-save it as UTF-8 or pass --encoding with the right encoding."
            ) from e
        return normalise_newlines(text), [
            f"{name} is not UTF-8 (byte 0x{data[pos]:02x} at offset {pos}); read it as Windows-1252. "
            "Check æ, ø and å in the result, or pass --encoding."
        ]
    if _controls(text) > max(2, len(text) // 1000):
        raise InputFileError(f"{name} looks like a binary file, not text; export the transcript as .txt or .docx and try again.")
    return normalise_newlines(text), []


def read_text_file(path: Path, encoding: str | None = None) -> tuple[str, list[str]]:
    """Read and decode a text file; ``(text, warnings)``."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(f"{path} cannot be read ({e.strerror}); check the path and permissions.") from e
    return decode_bytes(data, path, encoding)
