"""The model side of `Project`: find models, pre-code, train, evaluate, list; training examples from decisions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelNotFoundError, ProjectError
from .outputs import atomic_output
from .windows import turn_windows

if TYPE_CHECKING:
    from .classify.model import CodeModel
    from .engine import Engine
    from .classify.train import TrainResult, TrainSettings
    from .codebook import Codebook
    from .store import SentenceRow, Store
    from .training import Example


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
    """What `Project.import_proposals` stored: sentences scored, models, shards of unknown documents."""

    sentences: int
    models: tuple[str, ...]
    missing: tuple[str, ...]  # shard files whose document text is not in the project
    unmatched: int  # scored rows whose offsets match no sentence of the project's document


class ModelsMixin:
    """Mixed into `Project`; uses its ``path``, ``store``, ``codebook`` and ``sentences``."""

    __slots__ = ()
    path: Path
    store: Store
    codebook: Codebook

    if TYPE_CHECKING:  # defined on `Project`

        def sentences(self, *, documents: Sequence[str] | None = None, role: str | None = None) -> list[SentenceRow]: ...

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

    def precode(
        self, model: str | None = None, *, documents: Sequence[str] | None = None, progress: bool = False, engine: Engine | None = None
    ) -> PrecodeReport:
        """Store the model's proposals (score per code) for every informant sentence.

        Idempotent: running it again with the same model replaces that model's proposals. The
        write is one transaction, so an interrupted run keeps the earlier proposals intact.
        ``engine`` scores (default: this process, `LocalEngine`); whatever it is, the questions
        and turn windows are computed here and the write stays here.
        """
        from .engine import LocalEngine

        m = self.resolve_model(model)
        warnings = m.check_codebook(self.codebook)
        rows = self.sentences(documents=documents, role="informant")
        if not rows:
            raise ProjectError(f"{self.path} has no informant sentences to pre-code; ingest transcripts first.")
        questions = self.store.interviewer_questions() if m.context else {}
        windows = turn_windows([(r.document_id, r.turn_idx) for r in rows], [r.text for r in rows], m.window) if m.window else None
        P, contra = (engine or LocalEngine()).predict(
            m, [r.text for r in rows], [questions.get(r.id, "") for r in rows], windows, progress=progress
        )
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

    def import_proposals(self, shards: Sequence[Path]) -> ImportReport:
        """Store the scores of `coder batch` shards for documents the project holds (same text).

        A shard's rows are matched to the project's sentences by character offsets; rows that
        match no sentence (a document segmented by another version) are counted, not guessed.
        All shards are read first and written in one transaction, replacing the model's earlier
        proposals for those sentences, so importing twice changes nothing.
        """
        from .batch import SCORE, read_shard

        rows: dict[str, list[tuple[int, str, float, float | None]]] = {}  # per model id
        models: dict[str, dict[str, Any]] = {}
        missing, unmatched = [], 0
        for path in shards:
            shard = read_shard(Path(path))
            info = shard.model
            unknown = set(info["codes"]) - set(self.codebook.code_ids)
            if unknown:
                raise ModelNotFoundError(f"{path} was scored for codes this project's codebook lacks ({', '.join(sorted(unknown))}); "
                                         "import it into a project with the model's codebook.")
            name = self.store.document_by_sha(shard.sha256)
            if name is None:
                missing.append(Path(path).name)
                continue
            ids = {(r.start, r.end): r.id for r in self.store.sentences(documents=[name])}
            for row in shard.rows:
                if row[SCORE + info["codes"][0]] is None:
                    continue  # not an informant sentence: never scored
                sid = ids.get((row["start"], row["end"]))
                if sid is None:
                    unmatched += 1
                    continue
                rows.setdefault(info["id"], []).extend((sid, c, row[SCORE + c], None) for c in info["codes"])
            models[info["id"]] = info
        with self.store.atomic():
            for info in models.values():
                if self.store.model_row(info["id"]) is None:
                    self.store.register_model(
                        info["id"], info["kind"], {k: info[k] for k in ("encoder", "thresholds", "zero_shot_codes", "context")},
                        {}, info["path"], info["codebook_sha256"],
                    )
                self.store.replace_proposals(info["id"], rows.get(info["id"], []))
        return ImportReport(len({r[0] for rs in rows.values() for r in rs}), tuple(models), tuple(missing), unmatched)

    def _register(self, m: CodeModel) -> None:
        if self.store.model_row(m.id) is None:
            self.store.register_model(
                m.id, m.kind, {"encoder": m.encoder, "thresholds": m.threshold_map(), "zero_shot_codes": list(m.zero_shot_codes), "context": m.context},
                m.metrics, str(m.path) if m.path else "", m.codebook_sha256,
            )

    def latest_encoder_delta(self) -> dict[str, Any] | None:
        """The fine-tuned encoder weights (delta) of the newest project model that has them, else
        of the model precode would use; None when every model runs on the base encoder."""
        from .classify.model import CodeModel

        for row in reversed(self.store.models()):
            if row["path"] and (Path(row["path"]) / "encoder-delta.npz").exists():
                return CodeModel.load(Path(row["path"])).delta
        return self.resolve_model(None).delta

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
        from .training import WINDOW, Example

        known = set(self.codebook.code_ids)
        labelled = dict(self.store.labelled_sentences())
        if not labelled:
            return []
        questions = self.store.interviewer_questions()
        rows = self.store.sentences(documents=sorted({r.document for r in self.store.sentences(ids=list(labelled))}))
        windows = turn_windows([(r.document_id, r.turn_idx) for r in rows], [r.text for r in rows], WINDOW)
        out = []
        for r, window in zip(rows, windows):
            if r.id not in labelled:
                continue
            codes = frozenset(c for c, ok, _ in labelled[r.id] if ok and c in known)
            stance = next((s for c, ok, s in labelled[r.id] if ok and s), None)
            out.append(Example(r.text, codes, r.informant or r.document, questions.get(r.id, ""), stance,
                               f"project:{r.document}", window))
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
        skip_unknown: bool = False,
        progress: bool = False,
    ) -> TrainResult:
        """Train a project model from decisions, seed data and (for a bundled codebook) its bundled
        seed set; save it under DIR/models and register it.

        An unknown code in the user's seed data fails with its line unless ``skip_unknown``; the
        bundled seed may name codes a newer codebook version dropped, so it always skips them.
        """
        from .classify.train import TrainSettings, train_model

        bundled = self.bundled_seed() if bundled_seed else None
        examples = (
            self.decision_examples()
            + self.seed_examples(seed_data, skip_unknown=skip_unknown, with_codebook=False)
            + self.seed_examples([bundled] if bundled else [], skip_unknown=True)
        )
        result = train_model(examples, self.codebook, settings or TrainSettings(), progress=progress)
        folder = self.path / "models" / result.model.id
        with atomic_output(folder, folder=True) as tmp:
            result.model.save(tmp)
        result.model.path = folder  # save() recorded the temporary name
        self._register(result.model)
        return result

    def evaluate(
        self, settings: TrainSettings | None = None, *, seed_data: Sequence[Path] = (), skip_unknown: bool = False
    ) -> dict[str, Any]:
        """Leave-one-informant-out cross-validation on the project's decisions (seed data always trains)."""
        from .classify.train import TrainSettings
        from .evaluation import cross_validate

        project = self.decision_examples()
        seed = self.seed_examples(seed_data, skip_unknown=skip_unknown)
        if not project:
            return cross_validate(seed, self.codebook, settings or TrainSettings())
        return cross_validate(project, self.codebook, settings or TrainSettings(), extra_train=seed)

    def models(self) -> list[dict[str, Any]]:
        return [
            {"id": r["id"], "kind": r["kind"], "created": r["created"], "path": r["path"],
             "params": json.loads(r["params"]), "metrics": json.loads(r["metrics"])}
            for r in self.store.models()
        ]
