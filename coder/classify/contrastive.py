"""Contrastive fine-tuning of the encoder on the codebook (the SetFit recipe, multi-label aware).

SetFit (Tunstall et al. 2022) teaches a sentence encoder which sentences belong together before a
simple head is fitted on its embeddings: pairs of labelled sentences, cosine similarity trained
towards 1 for "same label" and 0 for "different label". Here every batch is built from a few codes
(several sentences each) plus uncoded sentences, and *every pair in the batch* is a training pair,
which gives B*(B-1)/2 pairs for B encodings: on a CPU that is what makes the recipe affordable.
Multi-label: two coded sentences are a positive pair when they share a code; a coded and an uncoded
sentence are a negative pair; two uncoded sentences are left out (talk without a code is not one
topic). Positive and negative pairs weigh half each, whatever their counts.

Only the top layers train (the word-embedding matrix stays frozen), and the result is a delta on
top of the base weights, exactly like `finetune`, so a model stores a few MB, never the encoder.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coder.encoders.transformer import use_bf16
from coder.errors import TrainingError

from .finetune import (
    FinetuneResult,
    FinetuneSettings,
    _check_labels,
    _check_model,
    _linear_schedule,
    _mean_pool,
    _pad,
    _pad_id,
    _select_trainable,
    _threads,
    _tokenize,
    _torch,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# A code takes part in the batches when it has at least this many positives (2 per batch draw).
MIN_POSITIVES = 4
# Contrastive training needs at least this many such codes: one code alone has nothing to contrast.
MIN_CODES = 2


@dataclass
class ContrastiveSettings:
    """Settings for `contrastive_finetune`.

    A batch holds `codes_per_batch` codes with `per_code` sentences each plus `uncoded` sentences
    without a code; `epochs` passes draw about one batch per `codes_per_batch * per_code` coded
    sentences. `train_top_layers` layers train (None: all); the word embeddings stay frozen.
    """

    epochs: int = 1  # measured on the corpus dev interviews (README "Quality, measured")
    lr: float = 3e-5
    codes_per_batch: int = 4
    per_code: int = 4
    uncoded: int = 16
    train_top_layers: int | None = 4
    max_length: int = 96
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 13
    prefix: str = "passage: "
    num_threads: int | None = None
    bf16: bool | None = None
    max_batches: int | None = None  # caps the whole run (the review loop's background rounds bound their time)

    def __post_init__(self) -> None:
        ints = {"epochs": 1, "codes_per_batch": 2, "per_code": 2, "uncoded": 0, "max_length": 3, "seed": 0}
        bad = [f"{k} must be a whole number of at least {low}, got {getattr(self, k)!r}"
               for k, low in ints.items() if not isinstance(getattr(self, k), int) or getattr(self, k) < low]
        if not 0 < self.lr < 1:
            bad.append(f"lr must be between 0 and 1, got {self.lr!r}")
        if self.max_batches is not None and self.max_batches < 1:
            bad.append(f"max_batches must be None or at least 1, got {self.max_batches!r}")
        if self.train_top_layers is not None and self.train_top_layers < 1:
            bad.append(f"train_top_layers must be None or at least 1, got {self.train_top_layers!r}")
        if bad:
            raise ValueError("Invalid contrastive settings: " + "; ".join(bad) + ".")


def usable_codes(labels: np.ndarray) -> np.ndarray:
    """Indices of the codes with enough positives to be drawn into contrastive batches."""
    return np.flatnonzero(np.asarray(labels).sum(0) >= MIN_POSITIVES)


def contrastive_finetune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    settings: ContrastiveSettings | None = None,
    progress: bool = True,
) -> FinetuneResult:
    """Train a copy of `model` contrastively on multi-label `labels` (n, k); return the delta.

    Raises `TrainingError` when fewer than `MIN_CODES` codes have `MIN_POSITIVES` labelled
    sentences: the caller then keeps the base encoder and fits the head alone. The passed model
    is not changed; the result's head fields are empty (the linear head is fitted afterwards on
    the new embeddings).
    """
    torch = _torch()
    s = settings or ContrastiveSettings()
    y = _check_labels(texts, labels, "texts", "labels").astype(bool)
    codes = usable_codes(y)
    if len(codes) < MIN_CODES:
        raise TrainingError(
            f"Contrastive fine-tuning needs at least {MIN_CODES} codes with {MIN_POSITIVES} or more labelled "
            f"sentences each; {len(codes)} have that many. Review more sentences of the rarer codes."
        )
    # A smaller encoder than the recipe assumes trains all its layers rather than failing.
    top = None if s.train_top_layers is None else min(s.train_top_layers, model.config.num_hidden_layers)
    _check_model(model, s.max_length, top)
    pad_id = _pad_id(tokenizer)
    ids = _tokenize(tokenizer, texts, s.prefix, s.max_length)
    device = next(model.parameters()).device
    rng = np.random.default_rng(s.seed)
    members = [np.flatnonzero(y[:, j]) for j in range(y.shape[1])]
    uncoded = np.flatnonzero(~y.any(1))
    coded_n = int(y.any(1).sum())
    per_epoch = max(1, math.ceil(coded_n / (s.codes_per_batch * s.per_code)))
    if s.max_batches is not None:
        per_epoch = min(per_epoch, math.ceil(s.max_batches / s.epochs))
    total = per_epoch * s.epochs
    bf16 = use_bf16() if s.bf16 is None else s.bf16
    history: list[dict[str, Any]] = []

    with torch.random.fork_rng(devices=[]), _threads(torch, s.num_threads):
        torch.manual_seed(s.seed)
        work = copy.deepcopy(model)
        work.train()
        trainable = _select_trainable(work, FinetuneSettings(train_top_layers=top, prefix=s.prefix))
        params = [p for _, p in trainable]
        optimizer = torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
        scheduler = _linear_schedule(torch, optimizer, total, s.warmup_ratio)
        from tqdm import tqdm

        bar = tqdm(total=total, file=sys.stderr, disable=not progress, desc="contrastive fine-tuning", unit="batch")
        try:
            for epoch in range(1, s.epochs + 1):
                start, loss_sum, seen = time.perf_counter(), 0.0, 0
                for _ in range(per_epoch):
                    rows = _draw_batch(rng, codes, members, uncoded, s)
                    input_ids, mask = _pad([ids[i] for i in rows], pad_id, device)
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        pooled = _mean_pool(work, input_ids, mask)
                    loss = _pair_loss(torch, pooled.float(), torch.from_numpy(y[rows]).to(device))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    optimizer.step()
                    scheduler.step()
                    loss_sum += loss.item()
                    seen += len(rows)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.4f}")
                seconds = time.perf_counter() - start
                history.append({"epoch": epoch, "batches": per_epoch, "train_loss": loss_sum / per_epoch, "seconds": seconds,
                                "sentences_per_s": seen / seconds})
        finally:
            bar.close()
    base = dict(model.named_parameters())
    delta = {name: (p.detach() - base[name].detach()).cpu().numpy().astype(np.float16) for name, p in trainable}
    empty = np.zeros((0, model.config.hidden_size), np.float32)
    return FinetuneResult(delta=delta, head_weight=empty, head_bias=np.zeros(0, np.float32),
                          history=history, best_epoch=len(history))


def _draw_batch(
    rng: np.random.Generator, codes: np.ndarray, members: list[np.ndarray], uncoded: np.ndarray, s: ContrastiveSettings
) -> np.ndarray:
    """A few codes with several sentences each, plus uncoded sentences; no row twice."""
    chosen = rng.choice(codes, size=min(s.codes_per_batch, len(codes)), replace=False)
    rows: list[int] = []
    for j in chosen:
        pool = np.setdiff1d(members[j], rows)
        rows += rng.choice(pool, size=min(s.per_code, len(pool)), replace=False).tolist()
    if len(uncoded) and s.uncoded:
        rows += rng.choice(uncoded, size=min(s.uncoded, len(uncoded)), replace=False).tolist()
    return np.array(rows)


def _pair_loss(torch: Any, pooled: Any, y: Any) -> Any:
    """Mean squared error of every in-batch pair's cosine against "shares a code" (SetFit's loss)."""
    z = torch.nn.functional.normalize(pooled, dim=-1)
    cos = z @ z.T
    yf = y.float()
    shared = (yf @ yf.T) > 0
    coded = y.any(1)
    either = coded[:, None] | coded[None, :]
    upper = torch.triu(torch.ones_like(cos, dtype=torch.bool), diagonal=1)
    pos = shared & upper
    neg = ~shared & either & upper
    err = (cos - shared.float()) ** 2
    terms = [err[m].mean() for m in (pos, neg) if m.any()]
    return sum(terms) / len(terms)
