"""Project: the one stateful facade over a project folder; the CLI and the web app call only this."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from .codebook import Codebook, load_codebook, parse_codebook
from .errors import InputFileError, ProjectError
from .ingest import expand_paths, metadata_for, read_transcript, sha256_text, sidecar_metadata
from .project_exchange import ExchangeMixin
from .project_models import ModelsMixin, PrecodeReport  # noqa: F401  (PrecodeReport is part of the facade's API)
from .project_review import ReviewMixin
from .project_verdicts import VerdictsMixin
from .outputs import atomic_output
from .proposals import model_thresholds, proposed
from .records import Transcript
from .score import Evidence, Scores
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
class Project(ModelsMixin, ReviewMixin, ExchangeMixin, VerdictsMixin):
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
    def open(cls, path: Path, *, readonly: bool = False) -> Project:
        """Open a project; ``readonly`` for commands that only read (a read-only folder or disk works)."""
        path = Path(path)
        if not path.is_dir():
            raise ProjectError(f"{path} does not exist; create a project with 'coder init {path}'.")
        if not (path / DB_NAME).is_file():
            raise ProjectError(f"{path} is not a coder project (no {DB_NAME}); create one with 'coder init {path}'.")
        return cls(path, Store(path / DB_NAME, readonly=readonly))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.close()
        error = self.store.error(exc) if exc is not None else None
        if error is not None:  # a damaged, read-only or full database: one sentence, not a traceback
            raise error from exc

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
        skip_bad_cues: bool = False,
    ) -> tuple[list[Transcript], list[str]]:
        """Read files (and folders of files) without writing; informant sidecars are applied.

        Returns the transcripts and the sidecar warnings: an entry that names no file being read
        (nor any file beside the sidecar) is reported, as it usually is a typo in a file name.
        """
        files = expand_paths(paths)
        transcripts = []
        for f in [f for f in files if f.suffix.lower() == ".qdpx"]:
            transcripts += self._qdpx_transcripts(f, interviewer)
        files = [f for f in files if f.suffix.lower() != ".qdpx"]
        if not files:
            return transcripts, []
        sidecar, warnings = sidecar_metadata(files, metadata)
        return transcripts + [
            read_transcript(
                f,
                interviewer=interviewer,
                metadata=metadata_for(sidecar, f),
                informant_from_filename=informant_from_filename,
                encoding=encoding,
                skip_bad_cues=skip_bad_cues,
            )
            for f in files
        ], warnings

    @staticmethod
    def _qdpx_transcripts(path: Path, interviewer: Sequence[str] | None) -> list[Transcript]:
        from .ingest import find_turns
        from .ingest.qdpx import read_qdpx

        project = read_qdpx(path)
        if not project.sources:
            raise InputFileError(f"{path.name} has no text sources, the only kind coder reads (it holds {project.skipped_kinds() or 'nothing else'}).")
        # Said once per file (on its first document): what the file holds that ingest does not take.
        file_notes = [*project.warnings, *project.skipped_summary(path)]
        held = [f"{n} {what}" for n, what in ((len(project.codings), "codings"), (len(project.verdicts), "researcher verdict(s)")) if n]
        if held:
            file_notes.append(f"{path.name}: its {' and '.join(held)} are not read by ingest; "
                              f"import them with 'coder import-codings DIR {path.name} --coder NAME --user USER'")
        out = []
        for name, text in project.sources.items():
            split = find_turns(text, interviewer=interviewer)
            case, variables = project.cases.get(name, (None, {}))
            warnings = tuple(f"{path.name}/{name}: {w}" for w in split.warnings) + tuple(file_notes if not out else ())
            meta = {**{k.lower(): v for k, v in split.header.items()}, **variables, "format": "qdpx"}
            out.append(Transcript(Path(name).stem, text, split.turns, case or split.informant or Path(name).stem,
                                  meta, f"{path}#{name}", warnings))
        return out

    def add_transcripts(self, paths: Sequence[Path], **options: Any) -> IngestReport:
        """Read, segment and store transcripts in one transaction; identical texts are skipped.

        All files are read and segmented before anything is written, so a bad file leaves the
        project exactly as it was.
        """
        from .segment import split_sentences

        transcripts, warnings = self.read_transcripts(paths, **options)
        names = self.store.document_names()
        seen: dict[str, str] = {}
        planned = []
        skipped = []
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

    # -- hypothesis scoring --------------------------------------------------------------------
    def evidence(
        self, source: str = "reviewed", coder: str | None = None, *, empty_ok: bool = False
    ) -> tuple[list[Evidence], dict[str, int], dict[str, Any]]:
        """Coded evidence from human reviews, model proposals above threshold, or both; with
        ``empty_ok``, no evidence yet is an empty list instead of a `ProjectError`.

        Returns (evidence, informant -> number of informant sentences, facts for the methods text).
        Unreviewed proposals take the stance model's verdict (P(contradicts) >= 0.5), or "supports"
        when the model has no stance head.
        """
        from .score import Evidence

        if source not in ("reviewed", "all", "model"):
            raise ProjectError(f"Unknown source '{source}'; use reviewed, all or model.")
        rows = self.store.sentences(role="informant")
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.informant or r.document] = counts.get(r.informant or r.document, 0) + 1
        reviewed = dict(self.store.labelled_sentences()) if source in ("reviewed", "all") else {}
        if coder is not None and source in ("reviewed", "all"):
            reviewed = {sid: self.store.current_decisions(sid, coder) for sid in self.store.reviewed_ids(coder)}
        model = self.store.latest_model() if source in ("all", "model") else None
        if source == "reviewed" and not reviewed and not empty_ok:
            raise ProjectError(
                f"No reviewed sentences in {self.path} yet; review proposals first, or score the model's "
                "proposals with --source all (or --source model)."
            )
        if source in ("all", "model") and model is None:
            raise ProjectError(f"No proposals in {self.path} yet; run 'coder precode {self.path}' first.")
        proposals = self.store.proposals(model["id"]) if model else {}
        contra = self.store.proposal_stances(model["id"]) if model else {}
        thresholds = model_thresholds(model)
        texts: dict[str, str] = {}
        out = []
        for r in rows:
            informant = r.informant or r.document
            if r.document not in texts:
                texts[r.document] = self.store.document_text(r.document) or ""
            line = texts[r.document].count("\n", 0, r.start) + 1
            if r.id in reviewed:
                for code, accepted, stance in reviewed[r.id]:
                    if accepted:
                        out.append(Evidence(informant, r.document, r.id, r.start, r.end, line, r.text, code, stance or "supports", True))
            elif r.id in proposals:
                stance = "contradicts" if contra.get(r.id, 0.0) >= 0.5 else "supports"
                for code in proposed(proposals[r.id], thresholds):
                    out.append(Evidence(informant, r.document, r.id, r.start, r.end, line, r.text, code, stance, False, proposals[r.id][code]))
        facts = {
            "model": model["id"] if model else None,
            "reviewed_sentences": len(reviewed),
            "informant_sentences": len(rows),
            "codebook": {"id": self.codebook.id, "version": self.codebook.version, "sha256": self.codebook.sha256},
        }
        return out, counts, facts

    def score(self, source: str = "reviewed", overrides: Mapping[str, Any] | None = None, *, coder: str | None = None) -> Scores:
        """Score every hypothesis per informant (rules from the codebook's ``scoring:`` plus overrides), with
        the researcher's verdicts where set (`VerdictsMixin`)."""
        from .score import ScoringRules, score_hypotheses, with_researcher_verdicts

        rules = ScoringRules.from_mapping({**self.codebook.scoring, **(overrides or {})})
        evidence, counts, facts = self.evidence(source, coder)
        scores = score_hypotheses(evidence, counts, self.codebook, rules, source=source)
        same = source == self.verdict_source() and coder is None
        return with_researcher_verdicts(Scores(scores.hypotheses, source, rules, facts), self.researcher_verdicts(evidence if same else None))

    def compare_scores(self, overrides: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Where verdicts from reviewed codes differ from model-only verdicts: where to look next."""
        reviewed = self.score("reviewed", overrides)
        model = self.score("model", overrides)
        diffs = []
        for hr, hm in zip(reviewed.hypotheses, model.hypotheses):
            for ir, im in zip(hr.informants, hm.informants):
                if ir.verdict != im.verdict:
                    diffs.append({"hypothesis": hr.id, "informant": ir.informant, "reviewed": ir.verdict, "model": im.verdict,
                                  "reviewed_counts": [ir.supporting, ir.contradicting], "model_counts": [im.supporting, im.contradicting]})
        return diffs

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
        thresholds = model_thresholds(model)
        decisions = self.store.decisions_by_sentence()
        reviews = self.store.reviews_by_sentence()
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
                "proposed": proposed(scores, thresholds),
                "model": model["id"] if model else None,
                "decisions": ds,
                "reviews": reviews.get(s.id, []),
                "codes": sorted({d["code"] for d in ds if d["accepted"] and d["current"]}),
            }

    def export_jsonl(self, out: Path) -> int:
        """Write one JSON object per sentence to ``out`` atomically; return the row count."""
        n = 0
        with atomic_output(out) as tmp, tmp.open("w", encoding="utf-8") as f:
            for row in self.iter_export_rows():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        return n
