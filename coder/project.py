"""Project: the one stateful facade over a project folder; the CLI and the web app call only this."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .codebook import Codebook, load_codebook, parse_codebook
from .errors import InputFileError, InvalidRequestError, ModelNotFoundError, ProjectError, UnknownCodeError
from .ingest import expand_paths, read_metadata, read_transcript, sha256_text
from .ingest import SIDECAR_NAMES
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


@dataclass(frozen=True, slots=True)
class ImportReport:
    coder: str
    sentences: int
    documents: int
    problems: tuple[str, ...] = ()


def _read_span_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) from a JSONL or CSV span file; bad JSON names its line."""
    import csv

    from .jsonl import read_jsonl

    if path.suffix.lower() != ".csv":
        return read_jsonl(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(f"{path} cannot be read as UTF-8 text; check the path and re-save it as UTF-8.") from e
    return [(i, dict(r)) for i, r in enumerate(csv.DictReader(text.splitlines()), start=2)]


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One sentence as the reviewer sees it, with its turn, question, neighbours and proposals."""

    sentence_id: int
    document: str
    informant: str | None
    speaker: str
    index: int
    total: int
    text: str
    start: int
    end: int
    turn_text: str
    turn_start: int
    question: str
    before: str
    after: str
    proposals: dict[str, float]
    preselected: tuple[str, ...]
    model_id: str | None
    reason: str
    token: int
    current: dict[str, str | None]
    others: dict[str, list[str]] = field(default_factory=dict)  # when adjudicating: each coder's codes


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
        from .training import Example, codebook_examples, read_seed_jsonl

        book = self.codebook
        known = set(book.code_ids)
        labelled = dict(self.store.labelled_sentences())
        questions = self.store.interviewer_questions()
        out = []
        if labelled:
            for r in self.store.sentences(ids=list(labelled)):
                codes = frozenset(c for c, ok, _ in labelled[r.id] if ok and c in known)
                stance = next((s for c, ok, s in labelled[r.id] if ok and s), None)
                out.append(Example(r.text, codes, r.informant or r.document, questions.get(r.id, ""), stance, f"project:{r.document}"))
        for path in seed_data:
            out.extend(read_seed_jsonl(Path(path), book, skip_unknown=skip_unknown))
        if with_codebook:
            out.extend(codebook_examples(book))
        return out

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

        project = self.training_examples(with_codebook=False)
        seed = self.training_examples(seed_data)[len(project):]
        if not project:
            return cross_validate(seed, self.codebook, settings or TrainSettings())
        return cross_validate(project, self.codebook, settings or TrainSettings(), extra_train=seed)

    def models(self) -> list[dict[str, Any]]:
        return [
            {"id": r["id"], "kind": r["kind"], "created": r["created"], "path": r["path"],
             "params": json.loads(r["params"]), "metrics": json.loads(r["metrics"])}
            for r in self.store.models()
        ]

    # -- the review loop -----------------------------------------------------------------------
    def review_queue(self, coder: str, strategy: str = "mixed", *, documents: Sequence[str] | None = None) -> list[int]:
        """Unreviewed informant sentences of this coder, in the order the strategy asks for them."""
        from .review.strategies import get_strategy

        book = self.codebook
        if strategy.startswith("adjudicate:"):
            a, _, b = strategy.split(":", 1)[1].partition(":")
            done = self.store.reviewed_ids(coder)
            return [sid for sid in self.disagreements(a, b) if sid not in done]
        rows = [r for r in self.sentences(documents=documents, role="informant") if r.id not in self.store.reviewed_ids(coder)]
        if not rows:
            return []
        P, thresholds, _ = self._proposal_matrix([r.id for r in rows])
        strat = get_strategy(strategy, book.code_ids)
        prio = strat.priority(P, thresholds, np.arange(len(rows)))
        return [rows[i].id for i in np.argsort(prio, kind="stable") if np.isfinite(prio[i])]

    def _proposal_matrix(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, str | None]:
        codes = self.codebook.code_ids
        model = self.store.latest_model()
        if model is None:
            return np.zeros((len(ids), len(codes))), np.full(len(codes), 0.5), None
        props = self.store.proposals(model["id"], ids)
        th = json.loads(model["params"]).get("thresholds", {})
        P = np.array([[props.get(i, {}).get(c, 0.0) for c in codes] for i in ids])
        return P, np.array([th.get(c, 0.5) for c in codes]), model["id"]

    def disagreements(self, a: str, b: str) -> list[int]:
        """Sentences where coders a and b (``model`` allowed) disagree, most consequential first:
        sentences that are evidence in a hypothesis whose verdict for that informant differs between
        the two coders come first, then sentences with rarer codes."""
        if not b:
            raise InvalidRequestError("Name two coders to adjudicate, e.g. --strategy adjudicate:anna:bo.")
        ca, cb = self.codings(a), self.codings(b)
        units = sorted(set(ca) & set(cb)) if not (a.startswith("model") or b.startswith("model")) else sorted(set(ca) | set(cb))
        book = self.codebook
        flips: set[tuple[str, str]] = set()
        if not (a.startswith("model") or b.startswith("model")):
            va, vb = self.score("reviewed", coder=a), self.score("reviewed", coder=b)
            for ha, hb in zip(va.hypotheses, vb.hypotheses):
                flips |= {(ha.id, ia.informant) for ia, ib in zip(ha.informants, hb.informants) if ia.verdict != ib.verdict}
        counts: dict[str, int] = {}
        for codes in (*ca.values(), *cb.values()):
            for c in codes:
                counts[c] = counts.get(c, 0) + 1
        rows = {r.id: r for r in self.store.sentences(ids=units)} if units else {}
        ranked = []
        for sid in units:
            x, y = ca.get(sid, set()), cb.get(sid, set())
            if x == y or sid not in rows:
                continue
            diff = x ^ y
            informant = rows[sid].informant or rows[sid].document
            impact = sum(1 for h in book.hypotheses if diff & set(h.evidence) and (h.id, informant) in flips)
            ranked.append((-impact, min(counts.get(c, 0) for c in diff), sid))
        return [sid for *_, sid in sorted(ranked)]

    def review_item(self, sentence_id: int, coder: str, *, strategy: str = "mixed", blind: bool = False) -> ReviewItem:
        """Everything the reviewer sees for one sentence; ``token`` detects edits from another tab."""
        from .review.strategies import get_strategy

        book = self.codebook
        rows = self.store.sentences(ids=[sentence_id])
        if not rows:
            raise ProjectError(f"No sentence with id {sentence_id} in {self.path}; reload the page.")
        s = rows[0]
        turn = self.store.turn_of(sentence_id)
        pos, total, before, after = self.store.neighbours(sentence_id)
        P, th, model_id = self._proposal_matrix([sentence_id])
        p = P[0]
        current = self.store.current_decisions(sentence_id, coder)
        others: dict[str, list[str]] = {}
        if strategy.startswith("adjudicate:"):
            for other in strategy.split(":")[1:3]:
                others[other] = sorted(self.codings(other).get(sentence_id, set()))
            reason = "disagreement: " + "; ".join(f"{k}: {', '.join(v) or 'no code'}" for k, v in others.items())
        elif blind or model_id is None:
            reason = ""
        else:
            reason = get_strategy(strategy if strategy != "mixed" else "uncertainty", book.code_ids).reason(p, th, book.code_ids)
        return ReviewItem(
            sentence_id=sentence_id, document=s.document, informant=s.informant, speaker=s.speaker,
            index=pos, total=total, text=s.text, start=s.start, end=s.end,
            turn_text=turn["text"], turn_start=turn["start"], question=self.store.question_for(sentence_id),
            before=before, after=after,
            proposals={} if blind or model_id is None else {c: float(x) for c, x in zip(book.code_ids, p)},
            preselected=() if blind or model_id is None else tuple(c for c, x, t in zip(book.code_ids, p, th) if x >= t),
            model_id=None if blind else model_id, reason=reason,
            token=self.store.latest_review_id(sentence_id, coder),
            current={c: st for c, ok, st in current if ok}, others=others,
        )

    def decide(
        self, sentence_id: int, coder: str, codes: Mapping[str, str | None], *, token: int | None = None, source: str = "review"
    ) -> int:
        """Record one review: the accepted codes with their stance; proposed codes not accepted are rejections.

        ``token`` is the review id the reviewer saw; if another tab or session decided the sentence
        since, `ConflictError` is raised and nothing is written.
        """
        from .errors import ConflictError

        book = self.codebook
        for c in codes:
            book.code(c)  # raises UnknownCodeError
        bad = {st for st in codes.values() if st not in (None, "supports", "contradicts")}
        if bad:
            raise InvalidRequestError(f"Unknown stance {', '.join(map(str, bad))}; use supports or contradicts.")
        if not coder.strip():
            raise InvalidRequestError("A coder name is needed for every decision; pass --coder NAME.")
        if token is not None and self.store.latest_review_id(sentence_id, coder) != token:
            raise ConflictError(
                "This sentence was decided in another tab or session since you opened it; reload to see that decision before changing it."
            )
        P, th, model_id = self._proposal_matrix([sentence_id])
        proposed = {c: float(x) for c, x, t in zip(book.code_ids, P[0], th) if model_id and x >= t}
        decisions = [(c, True, st or "supports") for c, st in codes.items()]
        decisions += [(c, False, None) for c in proposed if c not in codes]
        return self.store.add_review(sentence_id, coder, decisions, source=source, model_id=model_id,
                                     proposed={c: float(x) for c, x in zip(book.code_ids, P[0])} if model_id else {})

    def undo(self, coder: str) -> int | None:
        """Undo the coder's last decision (also after a restart); return the sentence it was about."""
        return self.store.undo_last_review(coder)

    def progress(self, coder: str) -> dict[str, int]:
        """Reviewed and total informant sentences for one coder."""
        return {"reviewed": len(self.store.reviewed_ids(coder)), "total": self.store.informant_sentence_count()}

    def code_progress(self) -> dict[str, dict[str, int]]:
        """Per code: sentences accepted by a reviewer, and proposed by the newest model."""
        accepted: dict[str, int] = {}
        for _, decisions in self.store.labelled_sentences():
            for code, ok, _ in decisions:
                if ok:
                    accepted[code] = accepted.get(code, 0) + 1
        model = self.store.latest_model()
        proposed: dict[str, int] = {}
        if model is not None:
            th = json.loads(model["params"]).get("thresholds", {})
            for scores in self.store.proposals(model["id"]).values():
                for code, p in scores.items():
                    if p >= th.get(code, 0.5):
                        proposed[code] = proposed.get(code, 0) + 1
        return {c: {"reviewed": accepted.get(c, 0), "proposed": proposed.get(c, 0)} for c in self.codebook.code_ids}

    def coded_sentences(self, coder: str | None = None) -> dict[int, list[str]]:
        """Sentence id -> accepted codes of the latest review (of one coder, or of anyone)."""
        out: dict[int, list[str]] = {}
        for sid, decisions in self.store.labelled_sentences():
            out[sid] = [c for c, ok, _ in decisions if ok]
        if coder:
            mine = self.store.reviewed_ids(coder)
            for sid in mine:
                out[sid] = [c for c, ok, _ in self.store.current_decisions(sid, coder) if ok]
        return out

    def accepted_examples(self, per_code: int = 5) -> dict[str, list[str]]:
        """A few sentences reviewers accepted for each code (for the codebook page)."""
        coded = self.coded_sentences()
        rows = {r.id: r.text for r in self.store.sentences(ids=list(coded))} if coded else {}
        out: dict[str, list[str]] = {}
        for sid, codes in coded.items():
            for c in codes:
                if len(out.setdefault(c, [])) < per_code:
                    out[c].append(rows.get(sid, ""))
        return out

    def model_agreement(self, a: str, b: str) -> float | None:
        """Cohen's kappa between two models' proposals (code above threshold) on unreviewed informant sentences."""
        from sklearn.metrics import cohen_kappa_score

        reviewed = {sid for sid, _ in self.store.labelled_sentences()}
        ids = [r.id for r in self.store.sentences(role="informant") if r.id not in reviewed]
        labels = []
        for model_id in (a, b):
            row = self.store.model_row(model_id)
            if row is None:
                return None
            th = json.loads(row["params"]).get("thresholds", {})
            props = self.store.proposals(model_id)
            labels.append([int(props.get(i, {}).get(c, 0.0) >= th.get(c, 0.5)) for i in ids for c in self.codebook.code_ids])
        if not ids or len(set(labels[0]) | set(labels[1])) < 2:
            return None
        return float(cohen_kappa_score(labels[0], labels[1]))

    def recent_agreement(self, coder: str, n: int = 50) -> dict[str, Any]:
        """How the model's proposals compared with the coder's last ``n`` decisions (estimated agreement)."""
        rows = self.store.recent_reviews(coder, n)
        tp = fp = fn = 0
        for proposed, kept in rows:
            tp += len(proposed & kept)
            fp += len(proposed - kept)
            fn += len(kept - proposed)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        return {"reviews": len(rows), "accepted_proposals": tp, "rejected_proposals": fp, "added_codes": fn, "f1": f1}

    # -- manual codings and agreement -------------------------------------------------------------
    def _qdpx_span_rows(self, path: Path, user: str | None) -> list[tuple[int, dict[str, Any]]]:
        """Codings of a .qdpx (of one user, or all) as span rows; codes matched by id, then label."""
        from .ingest.qdpx import read_qdpx

        project = read_qdpx(path)
        by_label = {c.label: c.id for c in self.codebook.codes}
        rows = []
        for i, c in enumerate(project.codings, start=1):
            if user and c.user != user:
                continue
            code = c.code_id if c.code_id in self.codebook.code_ids else by_label.get(c.code_name, c.code_name)
            text = project.sources[c.source]
            rows.append((i, {"document": Path(c.source).stem, "start": c.start, "end": c.end, "codes": [code], "text": text[c.start : c.end]}))
        if user and not rows:
            users = sorted({c.user for c in project.codings})
            raise ProjectError(f"{path.name} has no codings by user '{user}'; its users are: {', '.join(users) or 'none'}.")
        return rows

    def import_codings(self, path: Path, coder: str, *, skip_unknown: bool = False, user: str | None = None) -> ImportReport:
        """Import coded spans (JSONL or CSV: document, start, end, codes, optional stance/text) as a coder.

        Spans map onto sentences by the rule in `coder.spans`; every informant sentence of a
        document named in the file gets a decision (no span = "no code"). Spans outside the text,
        whose ``text`` does not match, or that reach no sentence are reported and skipped; unknown
        codes fail unless ``skip_unknown``. One transaction for the whole file.
        """
        from .spans import Span, map_spans

        rows = self._qdpx_span_rows(Path(path), user) if Path(path).suffix.lower() == ".qdpx" else _read_span_rows(Path(path))
        book = self.codebook
        known = set(book.code_ids)
        problems: list[str] = []
        by_doc: dict[str, list[Span]] = {}
        for n, r in rows:
            doc = str(r.get("document", ""))
            text = self.store.document_text(doc)
            if text is None:
                problems.append(f"line {n}: no document named '{doc}'")
                continue
            try:
                start, end = int(r["start"]), int(r["end"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"line {n}: start and end must be numbers")
                continue
            if not 0 <= start < end <= len(text):
                problems.append(f"line {n}: span {start}-{end} lies outside '{doc}' (length {len(text)})")
                continue
            if r.get("text") and text[start:end] != r["text"]:
                problems.append(f"line {n}: the text at {start}-{end} in '{doc}' is not the span's text")
                continue
            codes = r.get("codes") or []
            if isinstance(codes, str):
                codes = [c.strip() for c in codes.replace(";", ",").split(",") if c.strip()]
            unknown = [c for c in codes if c not in known]
            if unknown and not skip_unknown:
                raise UnknownCodeError(f"{path}, line {n}: unknown code {', '.join(unknown)}; fix it or pass --skip-unknown.")
            if unknown:
                problems.append(f"line {n}: skipped unknown code {', '.join(unknown)}")
            stance = r.get("stance") if r.get("stance") in ("supports", "contradicts") else None
            by_doc.setdefault(doc, []).append(Span(start, end, tuple(c for c in codes if c in known), stance))
        decided = 0
        with self.store.atomic():
            for doc, spans in by_doc.items():
                sents = self.store.sentences(documents=[doc], role="informant")
                per, unmatched = map_spans([(s.start, s.end) for s in sents], sorted(spans, key=lambda s: s.start))
                problems += [f"span {u.start}-{u.end} in '{doc}' covers no informant sentence" for u in unmatched]
                for s, hits in zip(sents, per):
                    codes = {c: h.stance or "supports" for h in hits for c in h.codes}
                    self.store.add_review(s.id, coder, [(c, True, st) for c, st in codes.items()], source="import")
                    decided += 1
        return ImportReport(coder, decided, len(by_doc), tuple(problems))

    def codings(self, coder: str) -> dict[int, set[str]]:
        """Sentence -> codes of a coder: a human's latest decisions, or a model's proposals
        (``model`` = the newest model, ``model:<id>`` a given one) on every informant sentence."""
        if coder == "model" or coder.startswith("model:"):
            row = self.store.latest_model() if coder == "model" else self.store.model_row(coder.split(":", 1)[1])
            if row is None:
                raise ModelNotFoundError(f"No model '{coder}' with proposals; run 'coder precode' first.")
            th = json.loads(row["params"]).get("thresholds", {})
            return {sid: {c for c, p in s.items() if p >= th.get(c, 0.5)} for sid, s in self.store.proposals(row["id"]).items()}
        ids = self.store.reviewed_ids(coder)
        if not ids:
            raise ProjectError(f"The coder '{coder}' has no decisions in {self.path}; check the name ('coder status' lists reviews).")
        return {sid: {c for c, ok, _ in self.store.current_decisions(sid, coder) if ok} for sid in ids}

    def agreement(self, coders: Sequence[str]) -> dict[str, Any]:
        """Sentence-level agreement between coders (see `coder.agreement`)."""
        from .agreement import agreement

        book = self.codebook
        units = [r.id for r in self.store.sentences(role="informant")]
        return agreement({c: self.codings(c) for c in coders}, units, book.code_ids, {c.id: c.group for c in book.codes})

    def benchmark(self, gold: str, *, seeds: Sequence[int] = (1, 2), batch: int = 25, steps: int = 16) -> dict[str, Any]:
        """Automatic vs manual: model-gold agreement, an active-learning simulation, and verdict agreement."""
        from .classify.train import TrainSettings
        from .encoders import get_encoder
        from .review.simulate import reviewed_to_reach, simulate
        from .review.strategies import RandomOrder, Uncertainty
        from .training import codebook_examples, label_matrix

        book = self.codebook
        codings = self.codings(gold)
        rows = [r for r in self.store.sentences(ids=list(codings)) if r.role == "informant"]
        if len(rows) < 20:
            raise ProjectError(f"The coder '{gold}' has only {len(rows)} decisions; a benchmark needs at least 20.")
        enc = get_encoder(TrainSettings().encoder)
        X = enc.encode([r.text for r in rows], progress=True)
        Y = np.array([[int(c in codings[r.id]) for c in book.code_ids] for r in rows])
        base = codebook_examples(book)
        curves = simulate(
            X, Y, [r.informant or r.document for r in rows], enc.encode([e.text for e in base]), label_matrix(base, book.code_ids),
            {"uncertainty": lambda s: Uncertainty(), "random": lambda s: RandomOrder(s)}, seeds=seeds, batch=batch, steps=steps,
        )
        reach = {s: {str(t): reviewed_to_reach(curves, s, t) for t in (0.6, 0.8)} for s in ("uncertainty", "random")}
        # Effort saved: the share of sentences nobody has to code by hand once the target is reached.
        saved = {s: {t: None if n is None else round(1 - n / len(rows), 3) for t, n in r.items()} for s, r in reach.items()}
        result: dict[str, Any] = {"gold": gold, "sentences": len(rows), "curves": curves, "reviewed_to_reach_kappa": reach,
                                  "effort_saved": saved}
        if self.store.latest_model() is not None:
            result["model_vs_gold"] = self.agreement([gold, "model"])
            g, m = self.score("reviewed", coder=gold), self.score("model")
            cells = [(hg.id, ig.informant, ig.verdict, im.verdict) for hg, hm in zip(g.hypotheses, m.hypotheses)
                     for ig, im in zip(hg.informants, hm.informants)]
            result["verdicts"] = {
                "agreement": sum(a == b for *_, a, b in cells) / len(cells) if cells else None,
                "cells": [{"hypothesis": h, "informant": i, "gold": a, "model": b} for h, i, a, b in cells],
                "overall": [{"hypothesis": hg.id, "gold": hg.verdict, "model": hm.verdict} for hg, hm in zip(g.hypotheses, m.hypotheses)],
            }
        return result

    def export_qdpx(self, out: Path, *, include_proposals: bool = False) -> dict[str, int]:
        """Write a REFI-QDA project: every human coder's codings, and with ``include_proposals`` the
        newest model's proposals above threshold under the model's user (score in the Description)."""
        from .export.qdpx import Coded, Source, write_qdpx

        docs = self.store.documents()
        sources = [Source(d.name, self.store.document_text(d.name) or "", d.informant, d.metadata) for d in docs]
        rows = {r.id: r for r in self.store.sentences(role="informant")}
        coded = []
        for sid, ds in self.store.decisions_by_sentence().items():
            r = rows.get(sid)
            if r is None:
                continue
            for d in ds:
                if d["current"] and d["accepted"]:
                    coded.append(Coded(r.document, r.start, r.end, d["code"], d["coder"], f"{d['code']}: {d['stance'] or 'supports'}"))
        if include_proposals:
            model = self.store.latest_model()
            if model is not None:
                th = json.loads(model["params"]).get("thresholds", {})
                for sid, scores in self.store.proposals(model["id"]).items():
                    r = rows.get(sid)
                    for code, p in scores.items():
                        if r is not None and p >= th.get(code, 0.5):
                            coded.append(Coded(r.document, r.start, r.end, code, f"model:{model['id']}", f"{code}: proposed, score {p:.3f}"))
        write_qdpx(Path(out), self.codebook, sources, coded, name=self.path.name)
        return {"sources": len(sources), "codings": len(coded)}

    def export_table(self, out: Path, fmt: str) -> int:
        """One row per coded segment and code (CSV, or XLSX with the hypothesis table as a second sheet)."""
        import csv

        book = self.codebook
        header = ["document", "informant", "speaker", "start", "end", "text", "code", "label", "group", "stance",
                  "coder_or_model", "score", "reviewed", "time"]
        rows = []
        for r in self.iter_export_rows():
            for d in r["decisions"]:
                if d["current"] and d["accepted"] and d["code"] in book.code_ids:
                    c = book.code(d["code"])
                    rows.append([r["document"], r["informant"], r["speaker"], r["start"], r["end"], r["text"], c.id, c.label,
                                 c.group, d["stance"], d["coder"], r["proposals"].get(c.id), True, d["time"]])
            for code in r["proposed"]:
                if code in book.code_ids:
                    c = book.code(code)
                    rows.append([r["document"], r["informant"], r["speaker"], r["start"], r["end"], r["text"], c.id, c.label,
                                 c.group, None, r["model"], r["proposals"][code], False, None])
        out = Path(out)
        tmp = out.with_name(out.name + ".part")
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)
        else:
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            ws.title = "segments"
            ws.append(header)
            for row in rows:
                ws.append(row)
            hyp = wb.create_sheet("hypotheses")
            hyp.append(["hypothesis", "verdict", "informant", "informant verdict", "supporting", "contradicting", "stability"])
            try:
                scores = self.score("all")
            except ProjectError:
                scores = None
            for h in scores.hypotheses if scores else ():
                for i in h.informants:
                    hyp.append([h.id, h.verdict, i.informant, i.verdict, i.supporting, i.contradicting, round(i.stability, 3)])
            wb.save(tmp)
        tmp.replace(out)
        return len(rows)

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
        thresholds = json.loads(model["params"]).get("thresholds", {}) if model else {}
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
                for code, p in proposals[r.id].items():
                    if p >= thresholds.get(code, 0.5):
                        stance = "contradicts" if contra.get(r.id, 0.0) >= 0.5 else "supports"
                        out.append(Evidence(informant, r.document, r.id, r.start, r.end, line, r.text, code, stance, False, p))
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
        contra = self.store.proposal_stances(model["id"]) if model else {}
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
