"""A trained code model: an encoder, a linear head and zero-shot prototypes, saved as a folder.

The folder holds ``model.json`` (metadata, metrics, thresholds) and ``arrays.npz`` (head weights,
calibration, prototypes), plus ``encoder-delta.npz`` when the encoder was fine-tuned (only the
trained parameters, applied on top of the encoder rebuilt at first use) or ``tfidf.pkl`` for the
n-gram encoder. Models record the codebook hash they were trained on.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..codebook import Codebook
from ..encoders import Encoder, get_encoder
from ..errors import ModelNotFoundError
from .head import HeadSettings, LinearHead
from .zeroshot import zero_shot_proba

FORMAT = "coder-model.v1"
# The interviewer's question enters the features with this weight (scripts/eval_demo.py measures it).
CONTEXT_WEIGHT = 0.5


@dataclass
class CodeModel:
    """Everything needed to turn sentences into code probabilities."""

    id: str
    kind: str  # "head", "finetuned" or "zeroshot"
    encoder: str
    codebook_id: str
    codebook_sha256: str
    codes: tuple[str, ...]
    head: LinearHead | None = None
    prototypes: np.ndarray | None = None  # (k, d) for zero-shot codes
    context: bool = False
    window: int = 0  # > 0: features add the mean of up to this many turn neighbours per side
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    delta: dict[str, np.ndarray] | None = None
    tfidf: Any = None
    path: Path | None = None
    default: bool = False  # the shipped default for its codebook
    stance: tuple[np.ndarray, float] | None = None  # (coef, intercept) of P(contradicts)
    _encoder: Encoder | None = field(default=None, repr=False)

    # -- prediction ----------------------------------------------------------------------------
    @property
    def zero_shot_codes(self) -> tuple[str, ...]:
        """Codes scored from prototypes because the head had too few labels for them."""
        if self.prototypes is None:
            return ()
        if self.head is None or self.head.trained_ is None:
            return self.codes
        return tuple(c for c, ok in zip(self.codes, self.head.trained_) if not ok)

    @property
    def thresholds(self) -> np.ndarray:
        t = np.full(len(self.codes), 0.5)
        if self.head is not None and self.head.thresholds_ is not None:
            t = np.where(self.head.trained_, self.head.thresholds_, 0.5)
        return t

    def threshold_map(self) -> dict[str, float]:
        return {c: float(t) for c, t in zip(self.codes, self.thresholds)}

    def get_encoder(self) -> Encoder:
        if self._encoder is None:
            if self.encoder == "tfidf.v1":
                self._encoder = self.tfidf
            else:
                enc = get_encoder(self.encoder)
                if self.delta:
                    enc = with_delta(enc, self.delta)
                self._encoder = enc
        assert self._encoder is not None
        return self._encoder

    def features(
        self,
        texts: Sequence[str],
        contexts: Sequence[str] | None = None,
        windows: Sequence[Sequence[str]] | None = None,
        *,
        encoded: Any = None,
    ) -> Any:
        """Feature rows for sentences; ``encoded`` passes precomputed sentence embeddings.

        With ``window`` the row is [sentence, mean of its turn neighbours] (a sentence alone in
        its turn, or a quote without a transcript, stands for its own passage); with ``context``
        the interviewer's question follows.
        """
        enc = self.get_encoder()
        X = encoded if encoded is not None else enc.encode(texts)
        parts = [X]  # tf-idf rows stay sparse: that encoder takes neither window nor context
        if self.window:
            X = np.asarray(X)
            ws = list(windows) if windows is not None else [()] * len(texts)
            flat = [t for w in ws for t in w]
            E = enc.encode(flat) if flat else np.zeros((0, X.shape[1]))
            W, at = X.copy(), 0
            for i, w in enumerate(ws):
                if w:
                    W[i] = E[at : at + len(w)].mean(0)
                    at += len(w)
            parts.append(W)
        if self.context:
            parts.append(CONTEXT_WEIGHT * np.asarray(enc.encode(list(contexts or [""] * len(texts)))))
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def predict_proba_features(self, X: Any, sentence_X: Any = None) -> np.ndarray:
        """Probabilities (n, k); zero-shot columns come from the prototypes on ``sentence_X``."""
        n = X.shape[0]
        P = np.full((n, len(self.codes)), np.nan)
        if self.head is not None:
            P = self.head.predict_proba(X)
        missing = np.isnan(P).any(0)
        if missing.any():
            if self.prototypes is None:
                P[:, missing] = 0.0
            else:
                base = sentence_X if sentence_X is not None else X
                P[:, missing] = zero_shot_proba(np.asarray(base)[:, : self.prototypes.shape[1]], self.prototypes)[:, missing]
        return P

    def predict_proba(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None,
        windows: Sequence[Sequence[str]] | None = None, *, progress: bool = False,
    ) -> np.ndarray:
        return self.predict(texts, contexts, windows, progress=progress)[0]

    def predict(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None,
        windows: Sequence[Sequence[str]] | None = None, *, progress: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Code probabilities (n, k) and P(contradicts) per sentence (None without a stance model)."""
        enc = self.get_encoder().encode(texts, progress=progress)
        X = self.features(texts, contexts, windows, encoded=enc)
        return self.predict_proba_features(X, enc), self.predict_contradicts(X)

    def predict_contradicts(self, X: Any) -> np.ndarray | None:
        """P(contradicts) per row of features, or None without a stance model."""
        if self.stance is None:
            return None
        from .stance import predict_contradicts

        return predict_contradicts(X, *self.stance)

    def check_codebook(self, codebook: Codebook) -> list[str]:
        """Raise if the model cannot serve this codebook; return warnings if it can with caveats."""
        if self.codebook_sha256 == codebook.sha256:
            return []
        missing = set(codebook.code_ids) - set(self.codes)
        if self.codebook_id != codebook.id or missing:
            raise ModelNotFoundError(
                f"The model '{self.id}' was trained on codebook '{self.codebook_id}' with other codes "
                f"(missing: {', '.join(sorted(missing)) or 'none'}); train a new model with 'coder train'."
            )
        return [f"the model '{self.id}' was trained on another version of codebook '{codebook.id}' with the same codes; retrain with 'coder train' when you can."]

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {
            "format": FORMAT, "id": self.id, "kind": self.kind, "encoder": self.encoder,
            "codebook_id": self.codebook_id, "codebook_sha256": self.codebook_sha256, "codes": list(self.codes),
            "context": self.context, "window": self.window, "metrics": self.metrics, "training": self.training, "created": self.created,
            "thresholds": self.threshold_map(), "zero_shot_codes": list(self.zero_shot_codes),
            "default": self.default,
        }
        if self.head is not None:
            h = self.head
            meta["head_settings"] = {k: getattr(h.settings, k) for k in h.settings.__dataclass_fields__}
            for name in ("coef_", "intercept_", "platt_", "thresholds_", "trained_"):
                arrays[name] = np.asarray(getattr(h, name))
        if self.prototypes is not None:
            arrays["prototypes"] = self.prototypes.astype(np.float32)
        if self.stance is not None:
            arrays["stance_coef"], arrays["stance_intercept"] = self.stance[0], np.array([self.stance[1]])
        np.savez_compressed(folder / "arrays.npz", **arrays)
        if self.delta:
            np.savez_compressed(folder / "encoder-delta.npz", **self.delta)
        if self.tfidf is not None:
            with (folder / "tfidf.pkl").open("wb") as f:
                pickle.dump(self.tfidf, f)
        (folder / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        self.path = folder
        return folder

    @classmethod
    def load(cls, folder: Path) -> CodeModel:
        try:
            meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            arrays = dict(np.load(folder / "arrays.npz"))
        except (OSError, ValueError) as e:
            raise ModelNotFoundError(f"The model in {folder} is missing or damaged ({e}); retrain it with 'coder train'.") from e
        if meta.get("format") != FORMAT:
            raise ModelNotFoundError(f"{folder} holds a model in an unknown format; retrain it with 'coder train'.")
        head = None
        if "coef_" in arrays:
            head = LinearHead(HeadSettings(**meta.get("head_settings", {})))
            for name in ("coef_", "intercept_", "platt_", "thresholds_", "trained_"):
                setattr(head, name, arrays[name])
        delta = dict(np.load(folder / "encoder-delta.npz")) if (folder / "encoder-delta.npz").exists() else None
        tfidf = None
        if (folder / "tfidf.pkl").exists():
            with (folder / "tfidf.pkl").open("rb") as f:
                tfidf = pickle.load(f)  # a file this project wrote itself
        return cls(
            id=meta["id"], kind=meta["kind"], encoder=meta["encoder"], codebook_id=meta["codebook_id"],
            codebook_sha256=meta["codebook_sha256"], codes=tuple(meta["codes"]), head=head,
            prototypes=arrays.get("prototypes"), context=meta.get("context", False), window=int(meta.get("window", 0)), metrics=meta.get("metrics", {}),
            training=meta.get("training", {}), created=meta.get("created", ""), delta=delta, tfidf=tfidf, path=folder,
            default=bool(meta.get("default", False)),
            stance=(arrays["stance_coef"], float(arrays["stance_intercept"][0])) if "stance_coef" in arrays else None,
        )


# Fine-tuned encoders by (base encoder, delta content): the review loop's head rounds and precode
# reuse one instance, and with it the vectors it has memoised, instead of re-encoding every round.
_TUNED: dict[tuple[str, str], Encoder] = {}


def with_delta(enc: Any, delta: dict[str, np.ndarray]) -> Any:
    """``enc`` with a fine-tuning delta applied to a copy of its weights; shared per process."""
    import copy
    import hashlib

    from .finetune import apply_delta

    digest = hashlib.sha1()
    for name in sorted(delta):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(delta[name]).tobytes())
    key = (enc.name, digest.hexdigest())
    if key not in _TUNED:
        if len(_TUNED) >= 2:  # a few hundred MB each: keep the newest two
            _TUNED.pop(next(iter(_TUNED)))
        model, _ = enc.load()
        _TUNED[key] = enc.with_model(apply_delta(copy.deepcopy(model), delta))
    return _TUNED[key]


SHIPPED_DIR = Path(__file__).resolve().parent.parent.parent / "models"


def shipped_models() -> list[Path]:
    """Folders of the models that ship with coder (``models/*/model.json``)."""
    return sorted(p.parent for p in SHIPPED_DIR.glob("*/model.json"))


def shipped_default(codebook_id: str) -> Path | None:
    """The shipped model trained for a bundled codebook, if there is one."""
    for folder in shipped_models():
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        if meta.get("codebook_id") == codebook_id and meta.get("default"):
            return folder
    return None
