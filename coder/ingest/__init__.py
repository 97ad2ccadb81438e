"""Read transcripts from files into `Transcript` records; readers never write to the store."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputFileError
from ..records import Transcript
from .docx import read_docx
from .subtitles import read_subtitles
from .turns import TurnSplit, find_turns
from .txt import read_txt

Reader = Callable[[Path, "str | None"], tuple[str, dict[int, int], list[str]]]
READERS: dict[str, Reader] = {
    ".txt": read_txt,
    ".text": read_txt,
    ".md": read_txt,
    ".docx": read_docx,
    ".srt": read_subtitles,
    ".vtt": read_subtitles,
}
SIDECAR_NAMES = ("informants.csv", "informants.yaml", "informants.yml", "metadata.csv", "metadata.yaml")

__all__ = ["READERS", "expand_paths", "read_metadata", "read_transcript", "sha256_text", "sidecar_metadata", "unmatched_entries",
           "TurnSplit", "find_turns", "metadata_for"]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the transcript files they contain (sorted), keep files as given."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in (*READERS, ".qdpx") and f.is_file() and f.name not in SIDECAR_NAMES))
        elif p.exists() and p.is_file():
            out.append(p)
        else:
            raise InputFileError(f"{p} does not exist; check the path.")
    if not out:
        raise InputFileError(f"No transcript files ({', '.join(sorted(READERS))}) found in {', '.join(map(str, paths))}.")
    return out


def sidecar_metadata(files: Sequence[Path], metadata: Path | None = None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Informant metadata for ``files``: from ``metadata``, else every sidecar (``SIDECAR_NAMES``) beside them.

    Returns entries keyed by file name or stem (look a file up with `metadata_for`) and a warning
    per entry that names no file being read nor any file beside its sidecar (usually a typo).
    """
    sources = [metadata] if metadata else sorted({p.parent / n for p in files for n in SIDECAR_NAMES if (p.parent / n).is_file()})
    entries: dict[str, dict[str, Any]] = {}
    warnings = []
    for src in sources:
        if not src.is_file():
            raise InputFileError(f"The metadata file {src} does not exist; check the path.")
        found = read_metadata(src)
        names = [n for f in [*files, *src.parent.iterdir()] for n in (f.name, f.stem)]
        warnings += [f"{src.name}: the entry for '{key}' matches no transcript file; check its file name."
                     for key in unmatched_entries(found, names)]
        entries.update(found)
    return entries, warnings


def metadata_for(entries: Mapping[str, dict[str, Any]], path: Path) -> dict[str, Any] | None:
    return entries.get(path.name) or entries.get(path.stem)


def read_metadata(path: Path) -> dict[str, dict[str, Any]]:
    """Read an informant sidecar (CSV or YAML) keyed by file name or stem.

    CSV: a header row with a ``file`` (or ``document``) column; other columns become metadata,
    ``informant`` names the informant. YAML: a mapping ``file -> {informant: ..., ...}`` or a list
    of mappings with a ``file`` key.
    """
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(f"The metadata file {path} cannot be read as UTF-8 text; re-save it as UTF-8 CSV or YAML.") from e
    # Sidecars hold names and personal data: errors give the file and line, never the content (issue 15.3).
    rows: list[dict[str, Any]]
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path, raw)
    else:
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InputFileError(f"The metadata file {path} is not valid YAML{where}; fix the indentation or quoting there.") from e
        if isinstance(data, dict):
            bad = next((k for k, v in data.items() if not isinstance(v, dict | None)), None)
            if bad is not None:
                raise InputFileError(f"{path}: the entry for '{bad}' must be a mapping such as 'informant: ...'; fix it.")
            rows = [{"file": k, **(v or {})} for k, v in data.items()]
        elif isinstance(data, list):
            rows = [dict(r) for r in data if isinstance(r, dict)]
        else:
            raise InputFileError(f"The metadata file {path} must map file names to metadata.")
    out: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows, start=2):
        key = str(row.get("file") or row.get("document") or "").strip()
        if not key:
            raise InputFileError(f"{path}, row {i - 1}: no 'file' column value; every row must name its transcript file.")
        meta = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k and k not in ("file", "document") and v not in (None, "")}
        out[key] = meta
        out.setdefault(Path(key).stem, meta)
    return out


def _csv_rows(path: Path, raw: str) -> list[dict[str, Any]]:
    lines = raw.splitlines()
    try:
        dialect: Any = csv.Sniffer().sniff(lines[0], delimiters=",;\t") if raw.strip() else csv.excel
    except csv.Error:  # a single column: nothing to sniff
        dialect = csv.excel
    reader = csv.DictReader(lines, dialect=dialect)
    try:
        return list(reader)
    except csv.Error as e:
        raise InputFileError(f"The metadata file {path}, line {reader.line_num + 1}, is not valid CSV; fix that line.") from e


def unmatched_entries(entries: dict[str, dict[str, Any]], names: Iterable[str]) -> list[str]:
    """Sidecar entries (by their file key) that name none of ``names`` (file names or stems)."""
    known = set(names)
    seen: set[int] = set()
    out = []
    for key, meta in entries.items():  # the stem key shares its entry's dict: report each entry once
        if id(meta) not in seen:
            seen.add(id(meta))
            if not {key, Path(key).stem} & known:
                out.append(key)
    return out


def read_transcript(
    path: Path,
    *,
    interviewer: Sequence[str] | None = None,
    metadata: dict[str, Any] | None = None,
    informant_from_filename: bool = False,
    encoding: str | None = None,
    skip_bad_cues: bool = False,
) -> Transcript:
    """Read one file into a `Transcript` with turns, header metadata and informant."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputFileError(
            f"{path.name}: unsupported file type '{path.suffix}'; use one of {', '.join(sorted(READERS))}."
        )
    if not path.is_file():
        raise InputFileError(f"{path} does not exist; check the path.")
    if reader is read_subtitles:
        text, hints, warnings = read_subtitles(path, encoding, skip_bad_cues=skip_bad_cues)
    else:
        text, hints, warnings = reader(path, encoding)
    meta = dict(metadata or {})
    split = find_turns(text, interviewer=interviewer or _split_labels(meta.pop("interviewer_label", None)), label_hints=hints)
    informant = meta.pop("informant", None) or (
        path.stem.replace("_", " ").title() if informant_from_filename else None
    ) or split.informant or _informant_speaker(split) or path.stem
    header = {k: v for k, v in split.header.items()}
    merged = {**{k.lower(): v for k, v in header.items()}, **meta}
    transcript = Transcript(
        name=path.stem,
        text=text,
        turns=split.turns,
        informant=str(informant),
        metadata=merged,
        source=str(path),
        warnings=tuple(f"{path.name}: {w}" for w in [*warnings, *split.warnings]),
    )
    return replace(transcript, metadata={**transcript.metadata, "format": path.suffix.lower().lstrip(".")})


def _split_labels(value: Any) -> list[str] | None:
    return [v.strip() for v in str(value).split(",")] if value else None


def _informant_speaker(split: TurnSplit) -> str | None:
    """Use the informant's speaker label as their name when it looks like a name."""
    names = {t.speaker for t in split.turns if t.role == "informant"}
    if len(names) == 1:
        name = names.pop()
        if len(name) > 3 and not name.isupper():
            return name
    return None
