"""Train a `CodeModel` from labelled examples: encoder (optionally fine-tuned) + linear head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..codebook import Codebook
from ..encoders import get_encoder
from ..errors import TrainingError
from ..training import WINDOW, Example, label_matrix
from .head import HeadSettings, LinearHead
from .model import CodeModel, with_delta
from .zeroshot import build_prototypes, prototype_texts


@dataclass(frozen=True)
class TrainSettings:
    """How to train; ``finetune`` trains the encoder first (minutes on a CPU), else only the head."""

    encoder: str = "e5-small.v1"
    # SetFit-style contrastive fine-tuning of the encoder's top layers first (minutes on a CPU); encoders
    # that cannot be fine-tuned (tf-idf, int8) skip it.
    contrastive: bool = True
    finetune: bool = False
    context: bool = False
    # Turn neighbours per side averaged into the features (coder.windows); 0: the sentence alone.
    # tf-idf has no sentence embeddings to average and always uses 0.
    window: int = WINDOW
    head: HeadSettings = field(default_factory=HeadSettings)
    finetune_settings: Any = None  # FinetuneSettings; None means its defaults
    contrastive_settings: Any = None  # ContrastiveSettings; None means its defaults
    # Start from an encoder fine-tuned earlier (a model's delta): the review loop's head rounds reuse
    # the newest encoder round this way, and the new model keeps that delta.
    base_delta: Any = None

    @property
    def tunable(self) -> bool:
        """Whether the encoder can be fine-tuned (tf-idf has no weights to tune; int8 is quantised)."""
        return not (self.encoder == "tfidf.v1" or self.encoder.endswith("int8.v1"))

    @property
    def kind(self) -> str:
        return "finetuned" if self.finetune else "contrastive" if self.contrastive and self.tunable else "head"


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: CodeModel
    warnings: tuple[str, ...]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def model_id(codebook: Codebook, settings: TrainSettings) -> str:
    short = settings.encoder.split(":")[0].replace(".", "-")
    return f"{codebook.id}.{short}.{settings.kind}.{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"


def zero_shot_model(codebook: Codebook, encoder: str = "e5-small.v1") -> CodeModel:
    """A model with no labels at all: every code is proposed from its description and examples."""
    if encoder == "tfidf.v1":
        raise TrainingError("Zero-shot proposals need a sentence encoder such as e5-small.v1, not tfidf.v1.")
    enc = get_encoder(encoder)
    protos = build_prototypes([enc.encode(texts) for texts in prototype_texts(codebook)])
    return CodeModel(
        id=f"{codebook.id}.{encoder.split(':')[0].replace('.', '-')}.zeroshot.{codebook.sha256[:8]}",
        kind="zeroshot", encoder=encoder, codebook_id=codebook.id, codebook_sha256=codebook.sha256,
        codes=codebook.code_ids, prototypes=protos, created=_now(), _encoder=enc,
    )


def train_model(
    examples: Sequence[Example],
    codebook: Codebook,
    settings: TrainSettings = TrainSettings(),
    *,
    id: str | None = None,
    progress: bool = False,
) -> TrainResult:
    """Fit the encoder (when trainable or fine-tuned) and the head; report codes left to zero-shot."""
    if len(examples) < 10:
        raise TrainingError(f"Only {len(examples)} labelled sentences; at least 10 are needed to train (review more first).")
    codes = codebook.code_ids
    texts = [e.text for e in examples]
    contexts = [e.context for e in examples]
    groups = [e.group for e in examples]
    Y = label_matrix(examples, codes)
    enc = get_encoder(settings.encoder)
    tfidf = None
    delta = None
    if enc.trainable:
        enc.fit(texts)  # type: ignore[attr-defined]
        tfidf = enc
        if settings.context:
            raise TrainingError("Context features need a sentence encoder such as e5-small.v1, not tfidf.v1.")
    if settings.window not in (0, WINDOW) and not enc.trainable:
        # Examples carry WINDOW neighbours per side; a narrower model window would train on one
        # passage and predict on another.
        raise TrainingError(f"The turn window is {WINDOW} sentences per side or 0 (off); got {settings.window}.")
    notes: list[str] = []
    if settings.base_delta:
        enc, delta = with_delta(enc, settings.base_delta), dict(settings.base_delta)
    if settings.finetune and not settings.tunable:
        raise TrainingError(
            f"{settings.encoder} cannot be fine-tuned; use --encoder e5-small.v1 or hf.v1:PATH to fine-tune."
        )
    if settings.contrastive and settings.tunable:
        try:
            enc, more = _contrastive(enc, texts, Y, settings, progress)
            delta = _add_deltas(delta, more)
        except TrainingError as e:  # too few labels: the base encoder and the head still work
            notes.append(f"{e} The encoder was not fine-tuned; only the head was trained.")
    if settings.finetune:
        enc, more = _finetune(enc, texts, Y, groups, settings, progress)
        delta = _add_deltas(delta, more)
    model = CodeModel(
        id=id or model_id(codebook, settings), kind=settings.kind, encoder=settings.encoder,
        codebook_id=codebook.id, codebook_sha256=codebook.sha256, codes=codes, context=settings.context,
        window=0 if enc.trainable else settings.window, created=_now(), delta=delta, tfidf=tfidf, _encoder=enc,
    )
    enc_X = enc.encode(texts, progress=progress)
    X = model.features(texts, contexts, [e.window for e in examples], encoded=enc_X)
    # Calibrate on groups that contain uncoded sentences (whole transcripts, project decisions):
    # positive-only sources (quotes, codebook examples) would make every threshold too low.
    natural = {g for g, y in zip(groups, Y) if not y.any()}
    mask = np.array([g in natural for g in groups])
    model.head = LinearHead(settings.head).fit(X, Y, groups, calibration_mask=mask)
    if not enc.trainable:
        model.prototypes = build_prototypes([enc.encode(t) for t in prototype_texts(codebook)])
    from .stance import fit_stance

    coded = [i for i, y in enumerate(Y) if y.any()]
    model.stance = fit_stance(X[coded] if coded else X[:0], [examples[i].stance for i in coded])
    model.metrics = oof_metrics(model.head, Y[mask] if mask.any() else Y, codes, mask if mask.any() else None)
    counts = Y.sum(0)
    model.training = {
        "examples": len(examples), "coded": int((Y.sum(1) > 0).sum()), "groups": sorted(set(groups)),
        "positives": {c: int(n) for c, n in zip(codes, counts)},
        "sources": sorted({e.source for e in examples if e.source}),
        "settings": {"encoder": settings.encoder, "contrastive": settings.contrastive, "finetune": settings.finetune, "context": settings.context,
                     "window": settings.window,
                     "head": {k: getattr(settings.head, k) for k in settings.head.__dataclass_fields__}},
    }
    warnings = tuple(notes) + tuple(
        f"code '{c}' has only {int(n)} labelled example(s); {settings.head.min_positives} are needed, "
        + ("it is proposed zero-shot from its description until then." if model.prototypes is not None else "it gets no proposals until then.")
        for c, n in zip(codes, counts) if n < settings.head.min_positives
    )
    return TrainResult(model, warnings)


def _finetune(
    enc: Any, texts: list[str], Y: np.ndarray, groups: list[str], settings: TrainSettings, progress: bool
) -> tuple[Any, dict[str, np.ndarray]]:
    """Fine-tune the encoder, validating on the largest held-out group (early stopping)."""
    from .finetune import FinetuneSettings, finetune

    fs = settings.finetune_settings or FinetuneSettings(prefix=getattr(enc, "passage_prefix", ""))
    model, tokenizer = enc.load()
    names = sorted(set(groups), key=lambda g: -groups.count(g))
    valid = None
    if len(names) >= 3:
        held = names[0]
        tr = np.array([g != held for g in groups])
        valid = ([t for t, k in zip(texts, tr) if not k], Y[~tr])
        texts_tr, Y_tr = [t for t, k in zip(texts, tr) if k], Y[tr]
    else:
        texts_tr, Y_tr = texts, Y
    result = finetune(
        model, tokenizer, texts_tr, Y_tr,
        valid_texts=valid[0] if valid else None, valid_labels=valid[1] if valid else None,
        settings=fs, progress=progress,
    )
    return with_delta(enc, result.delta), result.delta


def _add_deltas(a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Training that continues from a fine-tuned encoder adds its change to the earlier one."""
    a = a or {}
    return {k: (np.asarray(a.get(k, 0), np.float32) + np.asarray(b.get(k, 0), np.float32)).astype(np.float16) for k in {*a, *b}}


def _contrastive(
    enc: Any, texts: list[str], Y: np.ndarray, settings: TrainSettings, progress: bool
) -> tuple[Any, dict[str, np.ndarray]]:
    """Contrastive fine-tuning of the encoder's top layers (SetFit recipe); return it and its delta."""
    from .contrastive import ContrastiveSettings, contrastive_finetune

    cs = settings.contrastive_settings or ContrastiveSettings(prefix=getattr(enc, "passage_prefix", ""))
    model, tokenizer = enc.load()
    result = contrastive_finetune(model, tokenizer, texts, Y, settings=cs, progress=progress)
    return with_delta(enc, result.delta), result.delta


def oof_metrics(head: LinearHead, Y: np.ndarray, codes: Sequence[str], mask: np.ndarray | None = None) -> dict[str, Any]:
    """Per-code precision/recall/F1 of the out-of-fold predictions made during calibration."""
    from .metrics import prf_table

    if head.oof_ is None or head.thresholds_ is None:
        return {}
    oof = head.oof_[mask] if mask is not None else head.oof_
    pred = np.nan_to_num(oof, nan=0.0) >= head.thresholds_
    ok = ~np.isnan(oof).all(0)
    return prf_table(Y[:, ok], pred[:, ok], [c for c, k in zip(codes, ok) if k], source="cross-validated (grouped folds)")
