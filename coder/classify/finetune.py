"""Fine-tune an encoder with a mean-pool + linear head for multi-label code classification.

The model is a transformers `BertModel` without pooler (e5 from `coder.encoders.e5_build`, or any
BERT-style encoder): mean over the attention mask, then one linear layer, trained with
BCEWithLogits. Fine-tuning works on a copy, so the base encoder is never changed, and returns only
what it trained: the difference to the base weights (fp16) plus the head. A fine-tuned model is
therefore stored as a small delta on top of the rebuilt base encoder and restored with
`apply_delta`. On a 2-core CPU, freezing the 96M word-embedding matrix makes training about 4x
faster (spec/offline-encoder.md §5), so it is frozen by default.

torch, transformers and tqdm are imported inside functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coder.encoders.transformer import use_bf16
from coder.errors import MissingDependencyError, ModelNotFoundError, TrainingError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Parameter names of a transformers BertModel; the optional prefix allows a wrapped model (`bert.`).
_LAYER = re.compile(r"(?:^|\.)encoder\.layer\.(\d+)\.")
_EMBEDDINGS = re.compile(r"(?:^|\.)embeddings\.")
_WORD_EMBEDDINGS = re.compile(r"(?:^|\.)embeddings\.word_embeddings\.")
_POOLER = re.compile(r"(?:^|\.)pooler\.")  # unused by mean pooling: never trained
_NO_DECAY = re.compile(r"(?:bias|LayerNorm\.weight)$")
_MONITORS = ("valid_loss", "valid_micro_f1")
_POOL_BATCHES = 8  # training batches are cut from length-sorted pools of this many batches


@dataclass
class FinetuneSettings:
    """Settings for `finetune`; `__post_init__` rejects values that cannot work.

    `train_top_layers=None` trains every encoder layer (plus the position/type embeddings and the
    embedding LayerNorm); `N` trains only the top N layers and freezes everything below them, and
    `0` trains the head alone. `freeze_embeddings` freezes only the word-embedding matrix.
    `pos_weight_cap` bounds BCE's per-code positive weight neg/pos (clipped into [1, cap]).
    Early stopping watches `monitor` on the validation set and stops after `patience` epochs
    without improvement; the best epoch's weights are the result. `num_threads=None` runs torch
    on every core this process may use; pass 1 when other processes keep the cores busy, since
    oversubscribed OpenMP threads make small models many times slower. `bf16` runs forward and
    backward matrix products in bfloat16 with fp32 master weights (`torch.autocast`, no loss
    scaling needed for bfloat16); `None` turns it on where the CPU has AMX, like inference does.
    """

    epochs: int = 4
    lr: float = 5e-5
    head_lr: float = 2e-3
    batch_size: int = 16
    max_length: int = 128
    freeze_embeddings: bool = True
    train_top_layers: int | None = None
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 13
    patience: int = 1
    pos_weight_cap: float = 10.0
    prefix: str = "passage: "
    max_grad_norm: float | None = 1.0
    monitor: str = "valid_loss"
    num_threads: int | None = None
    bf16: bool | None = None

    def __post_init__(self) -> None:
        def whole(low: int) -> Callable[[Any], bool]:
            return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low

        def real(test: Callable[[float], bool]) -> Callable[[Any], bool]:
            return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and test(v)

        rules: dict[str, tuple[Callable[[Any], bool], str]] = {
            "epochs": (whole(1), "a whole number of at least 1 (e.g. 4)"),
            "lr": (real(lambda v: 0 < v < 1), "a learning rate between 0 and 1 (e.g. 5e-5)"),
            "head_lr": (real(lambda v: 0 < v < 1), "a learning rate between 0 and 1 (e.g. 2e-3)"),
            "batch_size": (whole(1), "a whole number of at least 1 (e.g. 16)"),
            "max_length": (whole(3), "a whole number of tokens of at least 3 (e.g. 128)"),
            "train_top_layers": (lambda v: v is None or whole(0)(v),
                                 "None (train every layer) or a whole number of at least 0"),
            "weight_decay": (real(lambda v: v >= 0), "0 or more (e.g. 0.01)"),
            "warmup_ratio": (real(lambda v: 0 <= v < 1),
                             "at least 0 and below 1 (the share of steps spent warming up, e.g. 0.1)"),
            "seed": (whole(0), "a whole number of at least 0"),
            "patience": (whole(1), "a whole number of at least 1 (epochs without improvement before stopping)"),
            "pos_weight_cap": (real(lambda v: v >= 1), "at least 1 (1 turns the weighting off)"),
            "prefix": (lambda v: isinstance(v, str), "a string such as 'passage: ' or ''"),
            "max_grad_norm": (lambda v: v is None or real(lambda x: x > 0)(v), "None (no clipping) or above 0 (e.g. 1.0)"),
            "monitor": (lambda v: v in _MONITORS, f"one of {', '.join(_MONITORS)}"),
            "num_threads": (lambda v: v is None or whole(1)(v), "None (every available core) or at least 1"),
            "bf16": (lambda v: v is None or isinstance(v, bool), "None (where the CPU has AMX), True or False"),
        }
        problems = [f"{name} must be {hint}, got {getattr(self, name)!r}"
                    for name, (ok, hint) in rules.items() if not ok(getattr(self, name))]
        if problems:
            raise ValueError("Invalid fine-tuning settings: " + "; ".join(problems) + ".")


@dataclass
class FinetuneResult:
    """What `finetune` trained; `apply_delta(base, delta)` plus the head rebuild the fine-tuned model.

    Args:
        delta: fine-tuned minus base value of each trained encoder parameter, float16, keyed by
            state-dict name; frozen parameters are absent.
        head_weight: (k, hidden) float32, one row per code, also for codes without positives.
        head_bias: (k,) float32.
        history: one dict per epoch run: epoch, train_loss, valid_loss, valid_micro_f1 (None
            without validation data), seconds and sentences_per_s of the training pass.
        best_epoch: the 1-based epoch whose weights these are (the last one without validation).
    """

    delta: dict[str, np.ndarray]
    head_weight: np.ndarray
    head_bias: np.ndarray
    history: list[dict[str, Any]]
    best_epoch: int


def finetune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    valid_texts: Sequence[str] | None = None,
    valid_labels: np.ndarray | None = None,
    settings: FinetuneSettings | None = None,
    progress: bool = True,
) -> FinetuneResult:
    """Fine-tune a copy of `model` plus a linear head on multi-label `labels` (n, k) of 0/1.

    The passed model is not changed. Training is deterministic for a given `settings.seed` on
    the same machine and thread count; the caller's global torch RNG state and thread count are
    left as they were. With `valid_texts`/`valid_labels` each epoch is evaluated, training stops
    early after `settings.patience` epochs without improvement, and the best epoch is returned.
    """
    torch = _torch()
    settings = settings if settings is not None else FinetuneSettings()
    y = _check_labels(texts, labels, "texts", "labels")
    if len(y) == 0:
        raise TrainingError("There are no training sentences; code some sentences before fine-tuning.")
    validate = valid_texts is not None or valid_labels is not None
    if validate:
        if valid_texts is None or valid_labels is None:
            raise ValueError("Pass valid_texts and valid_labels together, or neither.")
        vy = _check_labels(valid_texts, valid_labels, "valid_texts", "valid_labels")
        if len(vy) == 0 or vy.shape[1] != y.shape[1]:
            raise ValueError(
                f"valid_labels must be a non-empty (m, {y.shape[1]}) matrix like labels, got shape {vy.shape}."
            )
    _check_model(model, settings.max_length, settings.train_top_layers)
    pad_id = _pad_id(tokenizer)
    ids = _tokenize(tokenizer, texts, settings.prefix, settings.max_length)
    valid_ids = _tokenize(tokenizer, valid_texts, settings.prefix, settings.max_length) if validate else []
    device = next(model.parameters()).device

    with torch.random.fork_rng(devices=[]), _threads(torch, settings.num_threads):
        torch.manual_seed(settings.seed)
        work = copy.deepcopy(model)
        trainable = _select_trainable(work, settings)
        pos_weight = _pos_weight(y, settings.pos_weight_cap)
        head = torch.nn.Linear(work.config.hidden_size, y.shape[1]).to(device)
        with torch.no_grad():
            head.weight.normal_(0.0, 0.02)
            # Start at the (weighted) base rate of each code instead of 0.5: no first-steps jolt.
            head.bias.copy_(torch.from_numpy(np.log((pos_weight * y.sum(0) + 0.5) / ((1 - y).sum(0) + 0.5))))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(pos_weight).to(device))
        optimizer = torch.optim.AdamW(_param_groups(trainable, head, settings))
        steps_per_epoch = math.ceil(len(ids) / settings.batch_size)
        scheduler = _linear_schedule(torch, optimizer, steps_per_epoch * settings.epochs, settings.warmup_ratio)
        rng = np.random.default_rng(settings.seed)
        lengths = np.array([len(x) for x in ids])
        y_t = torch.from_numpy(y).to(device)
        vy_t = torch.from_numpy(vy).to(device) if validate else None
        params = [p for _, p in trainable] + list(head.parameters())
        bf16 = use_bf16() if settings.bf16 is None else settings.bf16

        history: list[dict[str, Any]] = []
        best: tuple[float, int, dict[str, Any]] | None = None  # (score, epoch, snapshot)
        from tqdm import tqdm

        bar = tqdm(total=steps_per_epoch * settings.epochs, file=sys.stderr, disable=not progress,
                   desc="fine-tuning", unit="batch")
        try:
            for epoch in range(1, settings.epochs + 1):
                work.train()
                bar.set_description(f"fine-tuning, epoch {epoch}/{settings.epochs}")
                start, loss_sum = time.perf_counter(), 0.0
                for rows in _train_batches(lengths, settings.batch_size, rng):
                    input_ids, mask = _pad([ids[i] for i in rows], pad_id, device)
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        logits = head(_mean_pool(work, input_ids, mask))
                    loss = loss_fn(logits.float(), y_t[torch.from_numpy(rows)])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if settings.max_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(params, settings.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    loss_sum += loss.item() * len(rows)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.4f}")
                seconds = time.perf_counter() - start
                record: dict[str, Any] = {
                    "epoch": epoch, "train_loss": loss_sum / len(ids), "valid_loss": None,
                    "valid_micro_f1": None, "seconds": seconds, "sentences_per_s": len(ids) / seconds,
                }
                history.append(record)
                if not validate:
                    continue
                with torch.inference_mode():  # fp32: the early-stopping score is exactly reproducible
                    logits = head(_pool_all(work, valid_ids, pad_id, settings.batch_size * 2))
                    record["valid_loss"] = loss_fn(logits, vy_t).item()
                record["valid_micro_f1"] = _micro_f1(vy, logits.cpu().numpy() > 0)
                score = -record["valid_loss"] if settings.monitor == "valid_loss" else record["valid_micro_f1"]
                if best is None or score > best[0]:
                    best = (score, epoch, _snapshot(trainable, head))
                elif epoch - best[1] >= settings.patience:
                    break
        finally:
            bar.close()

        best_epoch = best[1] if best is not None else len(history)
        if best is not None:
            _restore(trainable, head, best[2])  # the copy now holds the best epoch's weights
    base = dict(model.named_parameters())
    delta = {
        name: (p.detach() - base[name].detach()).cpu().numpy().astype(np.float16) for name, p in trainable
    }
    return FinetuneResult(
        delta=delta,
        head_weight=head.weight.detach().cpu().numpy().astype(np.float32),
        head_bias=head.bias.detach().cpu().numpy().astype(np.float32),
        history=history,
        best_epoch=best_epoch,
    )


def apply_delta(model: PreTrainedModel, delta: dict[str, np.ndarray]) -> PreTrainedModel:
    """Add a `FinetuneResult.delta` to `model`'s weights in place and return `model`.

    `model` must be the same base encoder the delta was trained from, loaded fresh: applying a
    delta twice, or to another encoder, gives a wrong model. Every key must name a parameter of
    `model` with the same shape; nothing is changed unless all of them do.
    """
    torch = _torch()
    params = dict(model.named_parameters())
    unknown = sorted(set(delta) - set(params))
    if unknown:
        shown = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
        raise ModelNotFoundError(
            f"The fine-tuned weights name {len(unknown)} parameter(s) the base encoder does not have ({shown}); "
            "they were trained on another encoder, so load that encoder or fine-tune again."
        )
    wrong = [f"{k} {tuple(v.shape)} vs {tuple(params[k].shape)}" for k, v in delta.items()
             if tuple(v.shape) != tuple(params[k].shape)]
    if wrong:
        raise ModelNotFoundError(
            f"The fine-tuned weights do not fit the base encoder ({'; '.join(wrong[:3])}); "
            "they were trained on another encoder, so load that encoder or fine-tune again."
        )
    with torch.no_grad():
        for name, value in delta.items():
            p = params[name]
            p.add_(torch.from_numpy(np.array(value, dtype=np.float32)).to(device=p.device, dtype=p.dtype))
    return model


def predict_logits(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    head_weight: np.ndarray,
    head_bias: np.ndarray,
    texts: Sequence[str],
    *,
    prefix: str,
    batch_size: int = 32,
    max_length: int = 128,
    num_threads: int | None = None,
) -> np.ndarray:
    """Return the head's logits (n, k) float32 for `texts`; sigmoid gives per-code probabilities.

    Use the `prefix` and `max_length` the model was fine-tuned with. Texts are batched by length
    (rows come back in input order); the model runs in eval mode and is put back in its mode.
    `num_threads` is as in `FinetuneSettings` (None: every available core).
    """
    torch = _torch()
    hidden = model.config.hidden_size
    weight, bias = np.asarray(head_weight, np.float32), np.asarray(head_bias, np.float32)
    if weight.ndim != 2 or weight.shape[1] != hidden or bias.shape != (weight.shape[0],):
        raise ValueError(
            f"head_weight must be (k, {hidden}) and head_bias (k,) for this encoder, "
            f"got {weight.shape} and {bias.shape}; pass the head from the same FinetuneResult."
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    _check_model(model, max_length, None)
    if len(texts) == 0:
        return np.zeros((0, weight.shape[0]), np.float32)
    ids = _tokenize(tokenizer, texts, prefix, max_length)
    with torch.inference_mode(), _threads(torch, num_threads):
        pooled = _pool_all(model, ids, _pad_id(tokenizer), batch_size)
        w = torch.from_numpy(weight).to(pooled.device)
        b = torch.from_numpy(bias).to(pooled.device)
        return (pooled @ w.T + b).cpu().numpy()


# ---------------------------------------------------------------- helpers


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise MissingDependencyError(
            "Fine-tuning needs the Python packages torch and transformers; install them (see DEVELOPERS.md)."
        ) from e
    return torch


@contextlib.contextmanager
def _threads(torch: Any, n: int | None) -> Iterator[None]:
    """Run torch on `n` threads (None: every core this process may use), then restore the old count."""
    if n is None:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    old = torch.get_num_threads()
    if n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != old:
            torch.set_num_threads(old)


def _check_labels(texts: Sequence[str], labels: np.ndarray, tname: str, lname: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 2 or y.shape[0] != len(texts) or y.shape[1] < 1:
        raise ValueError(
            f"{lname} must be a ({len(texts)}, k) matrix with one row per sentence in {tname} and k >= 1 codes, "
            f"got shape {y.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{lname} must hold only 0 and 1 (one column per code); use training.label_matrix.")
    return y.astype(np.float32)


def _check_model(model: Any, max_length: int, top_layers: int | None) -> None:
    limit = model.config.max_position_embeddings
    if max_length > limit:
        raise ValueError(f"max_length is {max_length} but this encoder takes at most {limit} tokens; lower it.")
    n_layers = model.config.num_hidden_layers
    if top_layers is not None and top_layers > n_layers:
        raise ValueError(
            f"train_top_layers is {top_layers} but this encoder has only {n_layers} layers; "
            f"use at most {n_layers}, or None to train them all."
        )


def _pad_id(tokenizer: Any) -> int:
    if tokenizer.pad_token_id is None:
        raise ValueError("The tokenizer has no padding token; set tokenizer.pad_token before fine-tuning.")
    return int(tokenizer.pad_token_id)


def _tokenize(tokenizer: Any, texts: Sequence[str], prefix: str, max_length: int) -> list[list[int]]:
    return tokenizer([prefix + t for t in texts], truncation=True, max_length=max_length)["input_ids"]


def _select_trainable(model: Any, settings: FinetuneSettings) -> list[tuple[str, Any]]:
    """Set requires_grad on `model` as `settings` say; return the trainable (name, parameter) pairs."""
    n_layers = model.config.num_hidden_layers
    top = settings.train_top_layers
    trainable = []
    for name, p in model.named_parameters():
        layer = _LAYER.search(name)
        if _POOLER.search(name):
            train = False
        elif settings.freeze_embeddings and _WORD_EMBEDDINGS.search(name):
            train = False
        elif top is None:
            train = True
        elif layer is not None:
            train = int(layer.group(1)) >= n_layers - top
        else:  # embeddings sit below every layer; anything else (a final norm) sits above them
            train = _EMBEDDINGS.search(name) is None and top > 0
        p.requires_grad_(train)
        if train:
            trainable.append((name, p))
    return trainable


def _param_groups(trainable: list[tuple[str, Any]], head: Any, s: FinetuneSettings) -> list[dict[str, Any]]:
    decay = [p for n, p in trainable if not _NO_DECAY.search(n)]
    no_decay = [p for n, p in trainable if _NO_DECAY.search(n)]
    groups = [
        {"params": decay, "lr": s.lr, "weight_decay": s.weight_decay},
        {"params": no_decay, "lr": s.lr, "weight_decay": 0.0},
        {"params": [head.weight], "lr": s.head_lr, "weight_decay": s.weight_decay},
        {"params": [head.bias], "lr": s.head_lr, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def _linear_schedule(torch: Any, optimizer: Any, total: int, warmup_ratio: float) -> Any:
    """Linear warm-up over the first `warmup_ratio` of the steps, then linear decay to 0."""
    warmup = int(round(warmup_ratio * total))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _pos_weight(y: np.ndarray, cap: float) -> np.ndarray:
    """BCE pos_weight per code: neg/pos clipped into [1, cap] (a code without positives gets cap)."""
    pos = y.sum(0)
    return np.clip((len(y) - pos) / np.maximum(pos, 1), 1.0, cap).astype(np.float32)


def _train_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle, sort each pool of a few batches by length, cut batches, shuffle their order.

    Batches of similar length pad less, yet their composition still changes every epoch.
    """
    order = rng.permutation(len(lengths))
    pool = batch_size * _POOL_BATCHES
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _pad(ids: list[list[int]], pad_id: int, device: Any) -> tuple[Any, Any]:
    import torch

    input_ids = torch.full((len(ids), max(map(len, ids))), pad_id, dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return input_ids.to(device), mask.to(device)


def _mean_pool(model: Any, input_ids: Any, mask: Any) -> Any:
    """Mean of the last hidden states over the attention mask, specials included (as e5 does)."""
    hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)


def _pool_all(model: Any, ids: list[list[int]], pad_id: int, batch_size: int) -> torch.Tensor:
    """Mean-pool every sequence in eval mode, batched by length; rows in input order. Call under no-grad."""
    import torch

    from ..encoders.e5_build import length_batches

    device = next(model.parameters()).device
    out = torch.empty((len(ids), model.config.hidden_size), dtype=torch.float32, device=device)
    was_training = model.training
    model.eval()
    try:
        for rows in length_batches([len(x) for x in ids], batch_size):
            input_ids, mask = _pad([ids[i] for i in rows], pad_id, device)
            out[torch.tensor(rows, device=device)] = _mean_pool(model, input_ids, mask).float()
    finally:
        model.train(was_training)
    return out


def _micro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    tp = float((predicted & (y == 1)).sum())
    denominator = float(predicted.sum() + (y == 1).sum())
    return 2 * tp / denominator if denominator else 0.0


def _snapshot(trainable: list[tuple[str, Any]], head: Any) -> dict[str, Any]:
    state = {name: p.detach().clone() for name, p in trainable}
    state.update({f"head.{n}": p.detach().clone() for n, p in head.named_parameters()})
    return state


def _restore(trainable: list[tuple[str, Any]], head: Any, state: dict[str, Any]) -> None:
    import torch

    with torch.no_grad():
        for name, p in trainable:
            p.copy_(state[name])
        for name, p in head.named_parameters():
            p.copy_(state[f"head.{name}"])
