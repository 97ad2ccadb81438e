"""Write output files atomically: into a temporary name in the same folder, renamed into place.

On any failure (a full disk, a killed write, a bug in a renderer) the temporary file or folder is
removed, so a failed command leaves the earlier output or none, never a 0-byte report or a stray
``.part`` file holding interview text (issue 15.12). Same folder, so the rename never crosses disks.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputFileError


@contextmanager
def atomic_output(path: Path, *, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write (a file, or with ``folder`` a folder), then
    rename it to ``path``; remove it and raise `OutputFileError` (for OS errors) on failure."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield tmp
        if folder and path.is_dir():
            shutil.rmtree(path)  # a folder cannot be renamed over another one
        os.replace(tmp, path)
    except BaseException as e:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise OutputFileError(
                f"Could not write {path} ({e.strerror or e}); nothing was written. Check that the folder exists, "
                "is writable and has free space, then run the command again."
            ) from e
        raise


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
