"""`coder batch`: read, segment and score transcript files into Parquet shards, no project needed.

For archives too large to review: each file becomes one shard ``<stem>.<hash>.parquet`` holding
one row per sentence (document, informant, speaker, role, start, end, text, a ``score:<code>``
column per code, the proposed codes, the model id). A shard is written atomically once its file
is scored, so an interrupted run loses only the files in flight, and a rerun skips every file
whose shard exists for the same content hash and model. `Project.import_proposals` brings
shards into a project whose documents have the same text.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .device import autocast, place_model
from .errors import CoderError, InputFileError, MissingDependencyError, ModelNotFoundError
from .ingest import expand_paths, metadata_for, read_transcript, sha256_text, sidecar_metadata
from .outputs import atomic_output
from .windows import turn_windows

if TYPE_CHECKING:
    from .classify.model import CodeModel
    from .engine import Engine

SCORE = "score:"  # prefix of the per-code score columns


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How `read_transcript` reads each file (the options `coder ingest` has for single files)."""

    interviewer: tuple[str, ...] = ()
    encoding: str | None = None
    informant_from_filename: bool = False
    metadata: Path | None = None  # an informant sidecar for all files; else those beside them, as in `coder ingest`
    sidecar: dict[str, dict[str, Any]] = field(default_factory=dict)  # filled by `run_batch` from the sidecars


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What `run_batch` did: shards written and skipped (already complete), files that failed."""

    written: tuple[Path, ...] = ()
    skipped: tuple[Path, ...] = ()
    failed: tuple[str, ...] = ()  # one sentence per file that could not be read
    warnings: tuple[str, ...] = ()  # sidecar entries that name no file
    sentences: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard read back: the document's text hash, the model that scored it, its rows."""

    path: Path
    sha256: str  # of the document text, as `coder ingest` stores it
    model: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


def find_model(name: str, codebook: str = "politisk-exit") -> CodeModel:
    """A model without a project: a model folder, a shipped model's name, or ``default`` (the shipped
    default for ``codebook``); project models are folders under the project's ``models/``."""
    from .classify.model import CodeModel, shipped_default, shipped_models

    folder = shipped_default(codebook) if name == "default" else Path(name)
    if folder is not None and (folder / "model.json").is_file():
        return CodeModel.load(folder)
    for shipped in shipped_models():
        if shipped.name == name:
            return CodeModel.load(shipped)
    raise ModelNotFoundError(
        f"No model '{name}'; give a model folder (such as PROJECT/models/<id>), default, or one of: "
        f"{', '.join(f.name for f in shipped_models()) or 'none shipped'}."
    )


def shard_name(path: Path) -> str:
    """``<stem>.<first 16 hex of the file's SHA-256>.parquet``: a changed file gets a new shard."""
    return f"{path.stem}.{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.parquet"


def model_info(model: CodeModel) -> dict[str, Any]:
    """What a shard records about its model, enough to register it in a project on import."""
    return {"id": model.id, "kind": model.kind, "encoder": model.encoder, "codes": list(model.codes),
            "thresholds": model.threshold_map(), "zero_shot_codes": list(model.zero_shot_codes),
            "context": model.context, "codebook_sha256": model.codebook_sha256, "path": str(model.path or "")}


def score_file(model: CodeModel, device: str, path: Path, options: ReadOptions) -> Any:
    """Read, segment and score one transcript; return its shard as a `pyarrow.Table`.

    Informant sentences get scores and proposals; the others are rows without scores, as in a
    project. Questions and turn windows are computed per document exactly as `Project.precode`
    does over the store, so a shard holds the scores a project would.
    """
    pa = require_pyarrow()
    from .segment import split_sentences

    t = read_transcript(path, interviewer=options.interviewer or None, encoding=options.encoding,
                        informant_from_filename=options.informant_from_filename, metadata=metadata_for(options.sidecar, path))
    segments = split_sentences(t)
    questions, last = [], ""
    for turn in t.turns:  # the last interviewer turn before each turn (`Store.interviewer_questions`)
        questions.append(last)
        if turn.role == "interviewer":
            last = t.text[turn.start : turn.end]
    mine = [s for s in segments if t.turns[s.turn].role == "informant"]
    texts = [t.text[s.start : s.end] for s in mine]
    windows = turn_windows([s.turn for s in mine], texts, model.window) if model.window else None
    scores: dict[int, list[float]] = {}
    proposed: dict[int, list[str]] = {}
    if mine:
        with autocast(place_model(model, device)):
            P, _ = model.predict(texts, [questions[s.turn] for s in mine], windows)
        passed = P >= model.thresholds
        for i, s in enumerate(mine):
            scores[s.index] = P[i].tolist()
            proposed[s.index] = [c for c, ok in zip(model.codes, passed[i]) if ok]
    columns: dict[str, list[Any]] = {
        "document": [t.name] * len(segments), "informant": [t.informant] * len(segments),
        "speaker": [t.turns[s.turn].speaker for s in segments], "role": [t.turns[s.turn].role for s in segments],
        "start": [s.start for s in segments], "end": [s.end for s in segments],
        "text": [t.text[s.start : s.end] for s in segments],
    }
    for j, code in enumerate(model.codes):
        columns[SCORE + code] = [scores[s.index][j] if s.index in scores else None for s in segments]
    columns["proposed"] = [proposed.get(s.index, []) for s in segments]
    columns["model"] = [model.id] * len(segments)
    schema = pa.schema([(k, pa.float64() if k.startswith(SCORE) else pa.list_(pa.string()) if k == "proposed"
                         else pa.int64() if k in ("start", "end") else pa.string()) for k in columns])
    meta = {"coder.sha256": sha256_text(t.text), "coder.model": json.dumps(model_info(model), ensure_ascii=False),
            "coder.source": str(path)}
    return pa.table(columns, schema=schema.with_metadata(meta))


def run_batch(
    sources: Sequence[Path], model: CodeModel, out: Path, engine: Engine, *, options: ReadOptions = ReadOptions(),
    on_document: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """Write a shard per transcript file under ``out``, skipping files whose shard is complete.

    ``engine`` decides where files are scored: a `LocalEngine` one after the other here, a
    `RayEngine` one file per task on its actors. ``on_document`` sees the running totals.
    """
    from .engine import RayEngine

    files = expand_paths(sources)
    qdpx = [f.name for f in files if f.suffix.lower() == ".qdpx"]
    if qdpx:
        raise InputFileError(f"{qdpx[0]} is a project exchange file; 'coder batch' reads transcripts, so ingest it with 'coder ingest' instead.")
    sidecar, warnings = sidecar_metadata(files, options.metadata)
    options = replace(options, sidecar=sidecar)
    out.mkdir(parents=True, exist_ok=True)
    todo, skipped = [], []
    for f in files:
        target = out / shard_name(f)
        (skipped if shard_complete(target, model.id) else todo).append((f, target))
    report = BatchReport(skipped=tuple(t for _, t in skipped), warnings=tuple(warnings))
    started = time.monotonic()
    results = (_ray_results(engine, model, todo, options) if isinstance(engine, RayEngine)
               else _local_results(engine.device, model, todo, options))  # type: ignore[attr-defined]
    for (f, target), (table, problem) in results:
        if problem:
            report = _add(report, failed=f"{f.name}: {problem}")
        else:
            with atomic_output(target) as tmp:
                require_pyarrow().parquet.write_table(table, tmp)
            report = _add(report, written=target, sentences=table.num_rows)
        report = _add(report, seconds=time.monotonic() - started)
        if on_document is not None:
            on_document(report)
    return report


def _add(r: BatchReport, *, written: Path | None = None, failed: str | None = None, sentences: int = 0, seconds: float | None = None) -> BatchReport:
    return replace(r, written=r.written + ((written,) if written else ()), failed=r.failed + ((failed,) if failed else ()),
                   sentences=r.sentences + sentences, seconds=r.seconds if seconds is None else seconds)


def _local_results(device: str, model: CodeModel, todo: list[tuple[Path, Path]], options: ReadOptions) -> Iterator[Any]:
    for f, target in todo:
        yield (f, target), score_file_checked(model, device, f, options)


def _ray_results(engine: Any, model: CodeModel, todo: list[tuple[Path, Path]], options: ReadOptions) -> Iterator[Any]:
    from .engine import run_pool

    spans = [(i, i + 1) for i in range(len(todo))]
    with engine.pool(model) as actors:
        for i, result, _ in run_pool(actors, spans, lambda actor, lo, hi: actor.apply.remote(lo, score_file_checked, todo[lo][0], options)):
            yield todo[i], result


def score_file_checked(model: CodeModel, device: str, path: Path, options: ReadOptions) -> tuple[Any, str]:
    """``(shard table, "")``, or ``(None, message)`` for a user error: one bad file must not end an archive run."""
    try:
        return score_file(model, device, path, options), ""
    except CoderError as e:
        return None, str(e)


def shard_complete(path: Path, model_id: str) -> bool:
    """A shard is complete when its footer reads and names the model (a torn write never gets the final name)."""
    if not path.is_file():
        return False
    pq = require_pyarrow().parquet
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, require_pyarrow().ArrowInvalid):
        return False
    return json.loads(meta.get(b"coder.model", b"{}")).get("id") == model_id


def read_shard(path: Path) -> Shard:
    """Read a shard written by `run_batch`; a file that is not one fails with its name."""
    pa = require_pyarrow()
    try:
        table = pa.parquet.read_table(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise InputFileError(f"{path} is not a readable Parquet shard ({e}); write it again with 'coder batch'.") from e
    meta = table.schema.metadata or {}
    if b"coder.sha256" not in meta or b"coder.model" not in meta:
        raise InputFileError(f"{path} is a Parquet file but not a 'coder batch' shard (no coder metadata).")
    return Shard(path, meta[b"coder.sha256"].decode(), json.loads(meta[b"coder.model"]), table.to_pylist())


def require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as e:
        raise MissingDependencyError("Parquet shards need pyarrow; install it with pip install 'coder[ray]' (or pip install pyarrow).") from e
    return pyarrow
