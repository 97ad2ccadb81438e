"""Word documents: paragraphs become lines; a bold name at the start of a paragraph is a label."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputFileError
from .decode import normalise_newlines
from .zipguard import check_members

_MAX_BOLD_LABEL = 40


def read_docx(path: Path, encoding: str | None = None) -> tuple[str, dict[int, int], list[str]]:
    """Return (text, label hints, warnings); hints map a line start to the end of its bold label."""
    import docx  # python-docx; imported here so `coder --help` stays fast
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        with zipfile.ZipFile(path) as z:
            check_members(z, path)  # python-docx reads every part into memory
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, XMLSyntaxError) as e:
        raise InputFileError(
            f"{path.name} is not a readable .docx file ({e}); open it in Word and save it again as .docx."
        ) from e
    except OSError as e:
        raise InputFileError(f"{path} cannot be read ({e.strerror}); check the path and permissions.") from e
    lines: list[str] = []
    hints: dict[int, int] = {}
    pos = 0
    for para in document.paragraphs:
        line = normalise_newlines(para.text)
        bold = ""
        for run in para.runs:
            if run.bold and run.text.strip():
                bold += run.text
            elif run.text.strip() or bold:
                break
            else:
                bold += run.text
        label = bold.strip()
        if label and len(label) <= _MAX_BOLD_LABEL and line.lstrip().startswith(label) and len(line.strip()) > len(label):
            lead = len(line) - len(line.lstrip())
            hints[pos] = pos + lead + len(label)
        lines.append(line)
        pos += len(line) + 1
    text = "\n".join(lines)
    if not text.strip():
        raise InputFileError(f"{path.name} contains no text; check that the transcript is in the document body, not in a text box or image.")
    return text, hints, []
