"""Refuse ZIP members (.docx, .qdpx) that would unpack to far more than any interview needs.

A few hundred kilobytes of deflated zeros unpack to gigabytes (a "zip bomb"). Before a member is
read, its declared size and its compression ratio are checked; `zipfile` never returns more than
the declared size, so the check bounds the memory used. The limits are far above real interviews:
a transcript is well under 10 MB of text and compresses 3-10x (Word XML up to about 30x).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputFileError

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024  # small members may compress well without harm


def check_members(z: zipfile.ZipFile, path: Path, names: Iterable[str] | None = None) -> None:
    """Raise `InputFileError` naming the file and member if one of ``names`` (default: all) is too big."""
    infos = z.infolist() if names is None else [z.getinfo(n) for n in names]
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_BYTES or (info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO):
            raise InputFileError(
                f"{path.name}: the member {info.filename} would unpack to {info.file_size / 1e6:.0f} MB "
                f"({ratio:.0f} times its packed size), far more than any interview; it is refused as a possible zip bomb."
            )


def read_member(z: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """The bytes of one member, after `check_members`."""
    check_members(z, path, [name])
    return z.read(name)
