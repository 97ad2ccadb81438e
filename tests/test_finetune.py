"""Tests for coder.classify.finetune on the tiny offline encoder (`tiny_encoder_dir` in conftest.py).

Toy Danish sentences whose codes follow keywords: money words -> oekonomi, family words ->
familie, work words -> arbejde; a fourth code has no positives at all.
"""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from coder.classify.finetune import (  # noqa: E402
    FinetuneSettings,
    apply_delta,
    finetune,
    predict_logits,
)
from coder.errors import ModelNotFoundError, TrainingError  # noqa: E402

CODES = ("oekonomi", "familie", "arbejde", "ingen")  # "ingen" is never used: a code without positives
KEYWORDS = {0: ["penge", "skat"], 1: ["mor", "børn"], 2: ["job", "chef"]}
OPENERS = ["om", "vi talte om", "hun sagde", "nu er der", "han har altid", "men"]
TAILS = ["", ".", "", "hele tiden .", "", "nu ."]
NEUTRAL = ["det var godt vejret i sommer .", "vi tog bussen til byen .", "ja , tak .", "øh , nej .",
           "hun har et hus med have .", "det var vinter da vi kom hjem ."]
FAST = dict(epochs=6, lr=3e-3, head_lr=5e-2, batch_size=8, warmup_ratio=0.0, max_length=32, num_threads=1, prefix="")


def _toy(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """`n` sentences: most with one code, some with two, some with none."""
    rnd = random.Random(seed)
    texts, labels = [], np.zeros((n, len(CODES)), np.int64)
    for i in range(n):
        kind = i % 8
        if kind == 7:
            texts.append(rnd.choice(NEUTRAL))
            continue
        codes = [kind % 3] if kind < 6 else rnd.sample(range(3), 2)
        words = [rnd.choice(KEYWORDS[c]) for c in codes]
        texts.append(" ".join([rnd.choice(OPENERS), " og ".join(words), rnd.choice(TAILS)]).strip())
        labels[i, codes] = 1
    return texts, labels


TEXTS, LABELS = _toy(40, seed=1)


def _load(folder):
    model = transformers.AutoModel.from_pretrained(folder, add_pooling_layer=False)
    model.eval()
    return model, transformers.AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def tiny(tiny_encoder_dir):
    """One shared (model, tokenizer): finetune must never change the model it is given."""
    return _load(tiny_encoder_dir)


def _logits(model, tokenizer, result, texts=TEXTS, **kw):
    return predict_logits(model, tokenizer, result.head_weight, result.head_bias, texts,
                          prefix="", max_length=32, num_threads=1, **kw)


def _loss(logits: np.ndarray, y: np.ndarray, cap: float = 10.0) -> float:
    """Validation loss as finetune computes it: BCE with the training labels' pos_weight."""
    pos = LABELS.sum(0)
    pos_weight = np.clip((len(LABELS) - pos) / np.maximum(pos, 1), 1, cap)
    fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, dtype=torch.float32))
    return fn(torch.from_numpy(logits), torch.tensor(y, dtype=torch.float32)).item()


def test_finetune_toy_keywords_are_known_to_the_tiny_tokenizer(tiny):
    _, tokenizer = tiny
    words = [w for ws in KEYWORDS.values() for w in ws]
    assert tokenizer.unk_token_id not in tokenizer(" ".join(words), add_special_tokens=False)["input_ids"]


def test_finetune_learns_keywords_without_changing_the_model(tiny):
    model, tokenizer = tiny
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # Mean-pooled features of a random tiny encoder vary little, so the head needs a high rate and
    # trainable word embeddings to separate the keywords within a few steps.
    settings = FinetuneSettings(**{**FAST, "epochs": 8, "head_lr": 0.1}, freeze_embeddings=False)
    result = finetune(model, tokenizer, TEXTS, LABELS, settings=settings, progress=False)

    losses = [h["train_loss"] for h in result.history]
    assert len(losses) == 8 and losses[-1] < 0.5 * losses[0]
    assert result.best_epoch == 8
    assert all(h["valid_loss"] is None and h["sentences_per_s"] > 0 for h in result.history)
    assert result.head_weight.shape == (len(CODES), 32) and result.head_bias.shape == (len(CODES),)
    assert all(a.dtype == np.float16 for a in result.delta.values())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    tuned = apply_delta(_load(model.name_or_path)[0], result.delta)
    predicted = _logits(tuned, tokenizer, result)[:, :3] > 0
    assert (predicted == LABELS[:, :3].astype(bool)).mean() >= 0.9


@pytest.mark.parametrize(
    ("freeze_embeddings", "top", "expected"),
    [
        (True, None, lambda k: "word_embeddings" not in k),
        (False, None, lambda k: True),
        (True, 1, lambda k: k.startswith("encoder.layer.1.")),
        (False, 0, lambda k: False),
    ],
    ids=["frozen-embeddings", "everything", "top-layer", "head-only"],
)
def test_finetune_delta_holds_only_trained_parameters(tiny, freeze_embeddings, top, expected):
    model, tokenizer = tiny
    settings = FinetuneSettings(**{**FAST, "epochs": 1}, freeze_embeddings=freeze_embeddings, train_top_layers=top)
    result = finetune(model, tokenizer, TEXTS, LABELS, settings=settings, progress=False)
    params = dict(model.named_parameters())
    assert set(result.delta) == {k for k in params if expected(k)}
    assert all(result.delta[k].shape == tuple(params[k].shape) for k in result.delta)
    if result.delta:
        assert any(np.abs(d).max() > 0 for d in result.delta.values())


def test_finetune_apply_delta_restores_the_best_epoch(tiny):
    """Validation on flipped labels gets worse as training fits: epoch 1 is best and training stops."""
    model, tokenizer = tiny
    flipped = 1 - LABELS
    settings = FinetuneSettings(**FAST, patience=2)
    result = finetune(model, tokenizer, TEXTS, LABELS, valid_texts=TEXTS, valid_labels=flipped,
                      settings=settings, progress=False)

    assert result.best_epoch == 1
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    valid_losses = [h["valid_loss"] for h in result.history]
    assert valid_losses[0] < min(valid_losses[1:])
    assert all(0 <= h["valid_micro_f1"] <= 1 for h in result.history)

    tuned = apply_delta(_load(model.name_or_path)[0], result.delta)
    recomputed = _loss(_logits(tuned, tokenizer, result, batch_size=5), flipped)
    assert recomputed == pytest.approx(valid_losses[0], rel=1e-3)
    base = _loss(_logits(model, tokenizer, result), flipped)
    assert abs(base - valid_losses[0]) > 1e-3  # the delta matters


def test_finetune_monitor_micro_f1(tiny):
    model, tokenizer = tiny
    settings = FinetuneSettings(**FAST, monitor="valid_micro_f1", patience=6)
    result = finetune(model, tokenizer, TEXTS, LABELS, valid_texts=TEXTS[:16], valid_labels=LABELS[:16],
                      settings=settings, progress=False)
    f1 = [h["valid_micro_f1"] for h in result.history]
    assert len(f1) == 6
    assert f1[result.best_epoch - 1] == max(f1) and result.best_epoch == f1.index(max(f1)) + 1


def test_finetune_same_seed_same_result(tiny):
    model, tokenizer = tiny
    settings = FinetuneSettings(**{**FAST, "epochs": 2})
    runs = [finetune(model, tokenizer, TEXTS, LABELS, settings=settings, progress=False) for _ in range(2)]
    torch.manual_seed(999)  # the caller's RNG state must not matter
    other = finetune(model, tokenizer, TEXTS, LABELS, settings=FinetuneSettings(**{**FAST, "epochs": 2}, seed=14),
                     progress=False)
    a, b = runs
    assert a.delta.keys() == b.delta.keys()
    assert all(np.array_equal(a.delta[k], b.delta[k]) for k in a.delta)
    np.testing.assert_array_equal(a.head_weight, b.head_weight)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert not np.array_equal(a.head_weight, other.head_weight)


def test_finetune_leaves_the_global_rng_and_threads_alone(tiny):
    model, tokenizer = tiny
    threads = torch.get_num_threads()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    finetune(model, tokenizer, TEXTS[:8], LABELS[:8], settings=FinetuneSettings(epochs=1, num_threads=threads + 1),
             progress=False)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_finetune_bf16_trains_like_fp32(tiny):
    model, tokenizer = tiny
    runs = {}
    for bf16 in (False, True):
        settings = FinetuneSettings(**{**FAST, "epochs": 3, "head_lr": 0.1}, freeze_embeddings=False, bf16=bf16)
        runs[bf16] = finetune(model, tokenizer, TEXTS, LABELS, settings=settings, progress=False)
    fp32, bf16 = ([h["train_loss"] for h in runs[b].history] for b in (False, True))
    assert bf16[-1] < bf16[0]
    assert bf16 != fp32 and np.allclose(bf16, fp32, rtol=0.05)  # bfloat16 really ran, and it learns alike


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a whole number of at least 1"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"lr": 0}, "lr must be a learning rate between 0 and 1"),
        ({"head_lr": float("nan")}, "head_lr must be a learning rate"),
        ({"batch_size": 0}, "batch_size must be a whole number of at least 1"),
        ({"max_length": 2}, "max_length must be a whole number of tokens of at least 3"),
        ({"train_top_layers": -1}, "train_top_layers must be None"),
        ({"weight_decay": -0.1}, "weight_decay must be 0 or more"),
        ({"warmup_ratio": 1.0}, "warmup_ratio must be at least 0 and below 1"),
        ({"patience": 0}, "patience must be a whole number of at least 1"),
        ({"pos_weight_cap": 0.5}, "pos_weight_cap must be at least 1"),
        ({"seed": True}, "seed must be a whole number"),
        ({"max_grad_norm": 0}, "max_grad_norm must be None"),
        ({"num_threads": 0}, "num_threads must be None"),
        ({"monitor": "accuracy"}, "monitor must be one of valid_loss, valid_micro_f1"),
        ({"bf16": "yes"}, "bf16 must be None"),
    ],
)
def test_finetune_settings_reject_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FinetuneSettings(**kwargs)


def test_finetune_settings_list_every_problem():
    with pytest.raises(ValueError) as e:
        FinetuneSettings(epochs=0, batch_size=0)
    assert "epochs" in str(e.value) and "batch_size" in str(e.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((TEXTS, LABELS[:5]), {}, ValueError, r"labels must be a \(40, k\) matrix"),
        ((TEXTS, LABELS * 2), {}, ValueError, "labels must hold only 0 and 1"),
        (([], np.zeros((0, 2))), {}, TrainingError, "no training sentences"),
        ((TEXTS, LABELS), {"valid_texts": TEXTS}, ValueError, "valid_texts and valid_labels together"),
        ((TEXTS, LABELS), {"valid_texts": TEXTS[:2], "valid_labels": LABELS[:2, :2]}, ValueError,
         r"valid_labels must be a non-empty \(m, 4\) matrix"),
        ((TEXTS, LABELS), {"settings": FinetuneSettings(train_top_layers=3)}, ValueError,
         "this encoder has only 2 layers"),
        ((TEXTS, LABELS), {"settings": FinetuneSettings(max_length=512)}, ValueError,
         "this encoder takes at most 128 tokens"),
    ],
    ids=["rows", "values", "empty", "valid-half", "valid-codes", "too-deep", "too-long"],
)
def test_finetune_rejects_bad_input(tiny, args, kwargs, error, message):
    model, tokenizer = tiny
    with pytest.raises(error, match=message):
        finetune(model, tokenizer, *args, progress=False, **kwargs)


def test_finetune_apply_delta_rejects_a_foreign_delta(tiny_encoder_dir):
    model, _ = _load(tiny_encoder_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    good = np.zeros((32,), np.float16)
    with pytest.raises(ModelNotFoundError, match=r"1 parameter\(s\) the base encoder does not have \(pooler"):
        apply_delta(model, {"encoder.layer.0.output.dense.bias": good, "pooler.dense.bias": good})
    with pytest.raises(ModelNotFoundError, match=r"do not fit the base encoder \(encoder.layer.0.output.dense.bias \(16,\)"):
        apply_delta(model, {"encoder.layer.0.output.dense.bias": np.zeros(16, np.float16)})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_finetune_predict_logits_checks_the_head(tiny):
    model, tokenizer = tiny
    with pytest.raises(ValueError, match=r"head_weight must be \(k, 32\)"):
        predict_logits(model, tokenizer, np.zeros((2, 16)), np.zeros(2), ["hej"], prefix="")
    empty = predict_logits(model, tokenizer, np.zeros((2, 32)), np.zeros(2), [], prefix="")
    assert empty.shape == (0, 2)


def test_finetune_predict_logits_keeps_input_order(tiny):
    model, tokenizer = tiny
    rnd = np.random.default_rng(0)
    weight, bias = rnd.normal(size=(3, 32)), rnd.normal(size=3)
    texts = ["ja", "jeg havde ikke nok penge og det var svært hele tiden", "hun sagde at", "nej"]
    together = predict_logits(model, tokenizer, weight, bias, texts, prefix="", batch_size=2, num_threads=1)
    alone = np.vstack([predict_logits(model, tokenizer, weight, bias, [t], prefix="", num_threads=1) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_finetune_import_does_not_import_torch():
    code = "import sys, coder.classify.finetune; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
