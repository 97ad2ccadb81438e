"""Project: the one stateful facade over a project folder; the CLI and the web app call only this."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any


from .codebook import Codebook, load_codebook, parse_codebook
from .errors import InputFileError, ModelNotFoundError, ProjectError
from .ingest import expand_paths, read_metadata, read_transcript, sha256_text
from .ingest import SIDECAR_NAMES
from .project_exchange import ExchangeMixin
from .project_review import ReviewMixin
from .proposals import model_thresholds, proposed
from .records import Transcript
from .score import Evidence, Scores
from .store import SentenceRow, Store

if TYPE_CHECKING:
    from .classify.model import CodeModel
    from .classify.train import TrainResult, TrainSettings
    from .training import Example

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


@dataclass(frozen=True, slots=True)
class PrecodeReport:
    """What `Project.precode` stored: the model, how many sentences, proposals above threshold per code."""

    model_id: str
    kind: str
    sentences: int
    per_code: dict[str, int]
    zero_shot: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class Project(ReviewMixin, ExchangeMixin):
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
        transcripts = []
        for f in [f for f in files if f.suffix.lower() == ".qdpx"]:
            transcripts += self._qdpx_transcripts(f, interviewer)
        files = [f for f in files if f.suffix.lower() != ".qdpx"]
        if not files:
            return transcripts
        sidecar: dict[str, dict[str, Any]] = {}
        sources = [metadata] if metadata else sorted(
            {p.parent / n for p in files for n in SIDECAR_NAMES if (p.parent / n).is_file()}
        )
        for src in sources:
            if not src.is_file():
                raise InputFileError(f"The metadata file {src} does not exist; check the path.")
            sidecar.update(read_metadata(src))
        return transcripts + [
            read_transcript(
                f,
                interviewer=interviewer,
                metadata=sidecar.get(f.name) or sidecar.get(f.stem),
                informant_from_filename=informant_from_filename,
                encoding=encoding,
            )
            for f in files
        ]

    @staticmethod
    def _qdpx_transcripts(path: Path, interviewer: Sequence[str] | None) -> list[Transcript]:
        from .ingest import find_turns
        from .ingest.qdpx import read_qdpx

        project = read_qdpx(path)
        out = []
        for name, text in project.sources.items():
            split = find_turns(text, interviewer=interviewer)
            warnings = tuple(f"{path.name}/{name}: {w}" for w in (*split.warnings, *project.skipped))
            out.append(Transcript(Path(name).stem, text, split.turns, split.informant or Path(name).stem,
                                  {**{k.lower(): v for k, v in split.header.items()}, "format": "qdpx"}, f"{path}#{name}", warnings))
        return out

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

    # -- models and proposals ----------------------------------------------------------------
    def resolve_model(self, name: str | None = None) -> CodeModel:
        """Find a model by name: ``None``/``latest`` (the newest project model, else the shipped
        default, else zero-shot), ``default`` (shipped), ``zero-shot``, a model id or a folder."""
        from .classify.model import CodeModel, shipped_default, shipped_models
        from .classify.train import zero_shot_model

        book = self.codebook
        if name in (None, "latest"):
            rows = [r for r in self.store.models() if r["path"]]
            if rows:
                return CodeModel.load(Path(rows[-1]["path"]))
            name = "default"
        if name == "default":
            folder = shipped_default(book.id)
            if folder is None:
                return zero_shot_model(book)
            return CodeModel.load(folder)
        if name in ("zero-shot", "zeroshot"):
            return zero_shot_model(book)
        row = self.store.model_row(name)
        if row is not None and row["path"]:
            return CodeModel.load(Path(row["path"]))
        for folder in shipped_models():
            if folder.name == name:
                return CodeModel.load(folder)
        if Path(name).is_dir():
            return CodeModel.load(Path(name))
        known = [r["id"] for r in self.store.models()] + [f.name for f in shipped_models()]
        raise ModelNotFoundError(
            f"Unknown model '{name}'; use latest, default, zero-shot, a model folder, or one of: {', '.join(known) or 'none yet'}."
        )

    def precode(self, model: str | None = None, *, documents: Sequence[str] | None = None, progress: bool = False) -> PrecodeReport:
        """Store the model's proposals (score per code) for every informant sentence.

        Idempotent: running it again with the same model replaces that model's proposals. The
        write is one transaction, so an interrupted run keeps the earlier proposals intact.
        """
        m = self.resolve_model(model)
        warnings = m.check_codebook(self.codebook)
        rows = self.sentences(documents=documents, role="informant")
        if not rows:
            raise ProjectError(f"{self.path} has no informant sentences to pre-code; ingest transcripts first.")
        questions = self.store.interviewer_questions() if m.context else {}
        P, contra = m.predict([r.text for r in rows], [questions.get(r.id, "") for r in rows], progress=progress)
        self._register(m)
        self.store.replace_proposals(
            m.id,
            [(r.id, c, P[i, j], None if contra is None else contra[i]) for i, r in enumerate(rows) for j, c in enumerate(m.codes)],
        )
        passed = P >= m.thresholds
        return PrecodeReport(
            model_id=m.id, kind=m.kind, sentences=len(rows),
            per_code={c: int(passed[:, j].sum()) for j, c in enumerate(m.codes)},
            zero_shot=m.zero_shot_codes, warnings=tuple(warnings),
        )

    def _register(self, m: CodeModel) -> None:
        if self.store.model_row(m.id) is None:
            self.store.register_model(
                m.id, m.kind, {"encoder": m.encoder, "thresholds": m.threshold_map(), "zero_shot_codes": list(m.zero_shot_codes), "context": m.context},
                m.metrics, str(m.path) if m.path else "", m.codebook_sha256,
            )

    def bundled_seed(self) -> Path | None:
        """The seed set shipped for the project's codebook (``data/seed/<codebook id>.jsonl``), if any."""
        from .codebook import BUNDLED_DIR

        path = BUNDLED_DIR.parent / "seed" / f"{self.codebook.id}.jsonl"
        return path if path.is_file() else None

    def training_examples(
        self, seed_data: Sequence[Path] = (), *, skip_unknown: bool = False, with_codebook: bool = True
    ) -> list[Example]:
        """Examples from human decisions (accepted = positive, rejected / no code = negative), seed
        files, and the codebook's own examples (which give every code a few positives)."""
        return self.decision_examples() + self.seed_examples(seed_data, skip_unknown=skip_unknown, with_codebook=with_codebook)

    def decision_examples(self) -> list[Example]:
        """One example per reviewed sentence, from its newest review."""
        from .training import Example

        known = set(self.codebook.code_ids)
        labelled = dict(self.store.labelled_sentences())
        if not labelled:
            return []
        questions = self.store.interviewer_questions()
        out = []
        for r in self.store.sentences(ids=list(labelled)):
            codes = frozenset(c for c, ok, _ in labelled[r.id] if ok and c in known)
            stance = next((s for c, ok, s in labelled[r.id] if ok and s), None)
            out.append(Example(r.text, codes, r.informant or r.document, questions.get(r.id, ""), stance, f"project:{r.document}"))
        return out

    def seed_examples(
        self, seed_data: Sequence[Path] = (), *, skip_unknown: bool = False, with_codebook: bool = True
    ) -> list[Example]:
        """Examples from seed JSONL files and (optionally) the codebook's own examples."""
        from .training import codebook_examples, read_seed_jsonl

        out = [e for path in seed_data for e in read_seed_jsonl(Path(path), self.codebook, skip_unknown=skip_unknown)]
        return out + (codebook_examples(self.codebook) if with_codebook else [])

    def train(
        self,
        settings: TrainSettings | None = None,  # None: the e5 head recipe of the shipped default
        *,
        seed_data: Sequence[Path] = (),
        bundled_seed: bool = True,
        progress: bool = False,
    ) -> TrainResult:
        """Train a project model from decisions, seed data and (for a bundled codebook) its bundled
        seed set; save it under DIR/models and register it."""
        from .classify.train import TrainSettings, train_model

        bundled = self.bundled_seed() if bundled_seed else None
        examples = self.training_examples([*seed_data, *([bundled] if bundled else [])], skip_unknown=bool(bundled))
        result = train_model(examples, self.codebook, settings or TrainSettings(), progress=progress)
        result.model.save(self.path / "models" / result.model.id)
        self._register(result.model)
        return result

    def evaluate(self, settings: TrainSettings | None = None, *, seed_data: Sequence[Path] = ()) -> dict[str, Any]:
        """Leave-one-informant-out cross-validation on the project's decisions (seed data always trains)."""
        from .classify.train import TrainSettings
        from .evaluation import cross_validate

        project = self.decision_examples()
        seed = self.seed_examples(seed_data)
        if not project:
            return cross_validate(seed, self.codebook, settings or TrainSettings())
        return cross_validate(project, self.codebook, settings or TrainSettings(), extra_train=seed)

    def models(self) -> list[dict[str, Any]]:
        return [
            {"id": r["id"], "kind": r["kind"], "created": r["created"], "path": r["path"],
             "params": json.loads(r["params"]), "metrics": json.loads(r["metrics"])}
            for r in self.store.models()
        ]

    # -- hypothesis scoring --------------------------------------------------------------------
    def evidence(self, source: str = "reviewed", coder: str | None = None) -> tuple[list[Evidence], dict[str, int], dict[str, Any]]:
        """Coded evidence from human reviews, model proposals above threshold, or both.

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
        if source == "reviewed" and not reviewed:
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
        """Score every hypothesis per informant (rules from the codebook's ``scoring:`` plus overrides)."""
        from .score import ScoringRules, score_hypotheses

        rules = ScoringRules.from_mapping({**self.codebook.scoring, **(overrides or {})})
        evidence, counts, facts = self.evidence(source, coder)
        scores = score_hypotheses(evidence, counts, self.codebook, rules, source=source)
        return Scores(scores.hypotheses, source, rules, facts)

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
