"""Project: the one stateful facade over a project folder; the CLI and the web app call only this."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .codebook import Codebook, load_codebook, parse_codebook
from .errors import InputFileError, ProjectError
from .ingest import expand_paths, read_metadata, read_transcript, sha256_text
from .ingest import SIDECAR_NAMES
from .records import Transcript
from .store import SentenceRow, Store

DB_NAME = "coder.db"


@dataclass(frozen=True, slots=True)
class AddedDocument:
    name: str
    informant: str | None
    n_turns: int
    n_sentences: int


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What `Project.add_transcripts` did: added documents, skipped duplicates, warnings."""

    added: tuple[AddedDocument, ...] = ()
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class Project:
    """A project folder holding ``coder.db``."""

    path: Path
    store: Store
    _codebook: Codebook | None = field(default=None, repr=False)

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def init(cls, path: Path, codebook: str | Path = "politisk-exit") -> Project:
        """Create a project folder with an empty store and the given codebook."""
        path = Path(path)
        if (path / DB_NAME).exists():
            raise ProjectError(f"{path} is already a coder project; use it as it is, or pick another folder.")
        book = load_codebook(codebook)  # validate before creating anything
        path.mkdir(parents=True, exist_ok=True)
        project = cls(path, Store(path / DB_NAME))
        project.store.add_codebook(book.id, book.version, book.sha256, book.yaml_text)
        return project

    @classmethod
    def open(cls, path: Path) -> Project:
        path = Path(path)
        if not path.is_dir():
            raise ProjectError(f"{path} does not exist; create a project with 'coder init {path}'.")
        if not (path / DB_NAME).is_file():
            raise ProjectError(f"{path} is not a coder project (no {DB_NAME}); create one with 'coder init {path}'.")
        return cls(path, Store(path / DB_NAME))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- codebook --------------------------------------------------------------------------
    @property
    def codebook(self) -> Codebook:
        if self._codebook is None:
            text = self.store.current_codebook_yaml()
            if text is None:
                raise ProjectError(f"{self.path} has no codebook; run 'coder codebook use {self.path} FILE'.")
            self._codebook = parse_codebook(text, f"{self.path}/{DB_NAME} (stored codebook)")
        return self._codebook

    def use_codebook(self, codebook: str | Path) -> Codebook:
        """Make a (new version of a) codebook current; codes keep their decisions by id."""
        book = load_codebook(codebook)
        self.store.add_codebook(book.id, book.version, book.sha256, book.yaml_text)
        self._codebook = book
        return book

    # -- ingest ----------------------------------------------------------------------------
    def read_transcripts(
        self,
        paths: Sequence[Path],
        *,
        interviewer: Sequence[str] | None = None,
        metadata: Path | None = None,
        informant_from_filename: bool = False,
        encoding: str | None = None,
    ) -> list[Transcript]:
        """Read files (and folders of files) without writing; informant sidecars are applied."""
        files = expand_paths(paths)
        sidecar: dict[str, dict[str, Any]] = {}
        sources = [metadata] if metadata else sorted(
            {p.parent / n for p in files for n in SIDECAR_NAMES if (p.parent / n).is_file()}
        )
        for src in sources:
            if not src.is_file():
                raise InputFileError(f"The metadata file {src} does not exist; check the path.")
            sidecar.update(read_metadata(src))
        return [
            read_transcript(
                f,
                interviewer=interviewer,
                metadata=sidecar.get(f.name) or sidecar.get(f.stem),
                informant_from_filename=informant_from_filename,
                encoding=encoding,
            )
            for f in files
        ]

    def add_transcripts(self, paths: Sequence[Path], **options: Any) -> IngestReport:
        """Read, segment and store transcripts in one transaction; identical texts are skipped.

        All files are read and segmented before anything is written, so a bad file leaves the
        project exactly as it was.
        """
        from .segment import split_sentences

        transcripts = self.read_transcripts(paths, **options)
        names = self.store.document_names()
        seen: dict[str, str] = {}
        planned = []
        skipped, warnings = [], []
        for t in transcripts:
            sha = sha256_text(t.text)
            existing = self.store.document_by_sha(sha) or seen.get(sha)
            if existing:
                skipped.append(f"{t.source} (already in the project as '{existing}')")
                continue
            name = t.name
            k = 2
            while name in names:
                name = f"{t.name}-{k}"
                k += 1
            if name != t.name:
                warnings.append(f"{t.source}: a different document is already called '{t.name}'; stored as '{name}'.")
            names.add(name)
            seen[sha] = name
            t = Transcript(name, t.text, t.turns, t.informant, t.metadata, t.source, t.warnings)
            planned.append((t, sha, split_sentences(t)))
            warnings.extend(t.warnings)
        added = []
        with self.store.atomic():
            for t, sha, segments in planned:
                self.store.add_document(t, sha, segments)
                added.append(AddedDocument(t.name, t.informant, len(t.turns), len(segments)))
        return IngestReport(tuple(added), tuple(skipped), tuple(warnings))

    # -- reading ---------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counts and per-document progress, as printed by ``coder status``."""
        book = self.codebook
        return {
            "project": str(self.path),
            "schema_version": self.store.schema_version,
            "codebook": {"id": book.id, "version": book.version, "sha256": book.sha256, "codes": len(book.codes)},
            **self.store.counts(),
            "documents_detail": [
                {
                    "name": d.name,
                    "informant": d.informant,
                    "turns": d.n_turns,
                    "sentences": d.n_sentences,
                    "informant_sentences": d.n_informant_sentences,
                    "reviewed": self.store.reviewed_count(d.id),
                }
                for d in self.store.documents()
            ],
        }

    def sentences(
        self, *, documents: Sequence[str] | None = None, role: str | None = None, speaker: str | None = None
    ) -> list[SentenceRow]:
        if documents:
            unknown = set(documents) - self.store.document_names()
            if unknown:
                raise ProjectError(
                    f"No document named {', '.join(sorted(unknown))} in {self.path}; 'coder status {self.path}' lists them."
                )
        return self.store.sentences(documents=documents, role=role, speaker=speaker)

    def iter_export_rows(self) -> Iterator[dict[str, Any]]:
        """One JSON-ready object per sentence, the ``--format jsonl`` contract."""
        model = self.store.latest_model()
        proposals = self.store.proposals(model["id"]) if model else {}
        thresholds = json.loads(model["params"]).get("thresholds", {}) if model else {}
        decisions = self.store.decisions_by_sentence()
        for s in self.store.sentences():
            scores = proposals.get(s.id, {})
            ds = decisions.get(s.id, [])
            yield {
                "document": s.document,
                "informant": s.informant,
                "speaker": s.speaker,
                "role": s.role,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "proposals": scores,
                "proposed": [c for c, v in scores.items() if v >= thresholds.get(c, 0.5)],
                "model": model["id"] if model else None,
                "decisions": ds,
                "codes": sorted({d["code"] for d in ds if d["accepted"] and d["current"]}),
            }

    def export_jsonl(self, out: Path) -> int:
        """Write one JSON object per sentence to ``out`` atomically; return the row count."""
        tmp = out.with_name(out.name + ".part")
        n = 0
        with tmp.open("w", encoding="utf-8") as f:
            for row in self.iter_export_rows():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        tmp.replace(out)
        return n
