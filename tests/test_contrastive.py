"""Contrastive fine-tuning, turn windows and the joint head, on the tiny offline encoder and toy data."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from coder.classify.contrastive import ContrastiveSettings, _pair_loss, contrastive_finetune  # noqa: E402
from coder.classify.finetune import apply_delta  # noqa: E402
from coder.classify.head import HeadSettings, LinearHead  # noqa: E402
from coder.errors import TrainingError  # noqa: E402
from coder.windows import turn_windows  # noqa: E402

from .test_finetune import LABELS, TEXTS, _load  # noqa: E402

FAST = dict(epochs=6, lr=3e-3, codes_per_batch=2, per_code=4, uncoded=4, train_top_layers=2, max_length=32,
            warmup_ratio=0.0, prefix="", num_threads=1, bf16=False)


def _pooled(model, tokenizer, texts):
    batch = tokenizer(list(texts), padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    z = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(z, dim=-1).numpy()


def _separation(model, tokenizer) -> float:
    """Mean cosine of pairs sharing a code minus mean cosine of coded/other pairs."""
    z = _pooled(model, tokenizer, TEXTS)
    y = LABELS[:, :3].astype(bool)
    cos = z @ z.T
    shared = (y.astype(int) @ y.T.astype(int)) > 0
    upper = np.triu(np.ones_like(cos, bool), 1)
    either = y.any(1)[:, None] | y.any(1)[None, :]
    return float(cos[shared & upper].mean() - cos[~shared & either & upper].mean())


def test_contrastive_pulls_sentences_of_a_code_together(tiny_encoder_dir):
    model, tokenizer = _load(tiny_encoder_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = contrastive_finetune(model, tokenizer, TEXTS, LABELS, settings=ContrastiveSettings(**FAST), progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the base stays as it was
    assert result.delta and all(v.dtype == np.float16 for v in result.delta.values())
    assert not any("word_embeddings" in k for k in result.delta)  # the vocabulary matrix stays frozen
    tuned = apply_delta(_load(tiny_encoder_dir)[0], result.delta)
    assert _separation(tuned, tokenizer) > _separation(model, tokenizer) + 0.05
    assert len(result.history) == 6 and result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_contrastive_refuses_too_few_labels(tiny_encoder_dir):
    model, tokenizer = _load(tiny_encoder_dir)
    few = np.zeros_like(LABELS)
    few[:5, 0] = 1  # one code with labels: nothing to contrast it with
    few[5:7, 1] = 1
    with pytest.raises(TrainingError, match="at least 2 codes with 4 or more"):
        contrastive_finetune(model, tokenizer, TEXTS, few, settings=ContrastiveSettings(**FAST), progress=False)


def test_contrastive_pair_loss_targets():
    y = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 0], [0, 0]], dtype=torch.bool)
    perfect = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    # rows 0-1 share a code (cos 1, target 1); coded vs other pairs have cos 0 except 2~3, 2~4 (cos 1, target 0);
    # the uncoded pair 3~4 is left out.
    loss = _pair_loss(torch, perfect, y).item()
    negatives = 2 * 3 + 2  # pairs (0|1, 2|3|4) and (2, 3|4): 8 negatives, 2 of them with cos 1
    assert loss == pytest.approx(0.5 * 0 + 0.5 * (2 / negatives))


def test_contrastive_settings_reject_bad_values():
    with pytest.raises(ValueError, match="codes_per_batch must be a whole number of at least 2"):
        ContrastiveSettings(codes_per_batch=1)


def test_windows_stay_inside_the_turn():
    turns = ["a", "a", "a", "b", "b", "a"]
    texts = ["s0", "s1", "s2", "s3", "s4", "s5"]
    assert turn_windows(turns, texts, 1) == [("s1",), ("s0", "s2"), ("s1",), ("s4",), ("s3",), ()]
    assert turn_windows(turns, texts, 3)[0] == ("s1", "s2")


def test_head_joint_fit_matches_scikit_learn_per_code():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12))
    Y = np.stack([(X[:, 0] + rng.normal(size=300) > 1), (X[:, 1] - X[:, 2] > 0.5), np.zeros(300, bool)], 1).astype(int)
    Y[:2, 2] = 1  # too few positives: not trained
    head = LinearHead(HeadSettings(C=2.0))
    head.trained_ = Y.sum(0) >= 3
    coef, intercept = head._fit_all(X, Y)
    for j in (0, 1):
        ref = LogisticRegression(C=2.0, class_weight="balanced", max_iter=1000).fit(X, Y[:, j])
        assert np.allclose(coef[j], ref.coef_[0], atol=2e-3) and intercept[j] == pytest.approx(ref.intercept_[0], abs=2e-3)
    assert not coef[2].any() and intercept[2] == -10.0


def test_train_deltas_add_up_when_training_continues():
    from coder.classify.train import _add_deltas

    a = {"x": np.array([1.0, 2.0], np.float16)}
    b = {"x": np.array([0.5, -2.0], np.float16), "y": np.array([3.0], np.float16)}
    out = _add_deltas(a, b)
    assert out["x"].tolist() == [1.5, 0.0] and out["y"].tolist() == [3.0] and out["x"].dtype == np.float16
    assert _add_deltas(None, b)["y"].tolist() == [3.0]


def test_contrastive_max_batches_bounds_the_run(tiny_encoder_dir):
    model, tokenizer = _load(tiny_encoder_dir)
    settings = ContrastiveSettings(**{**FAST, "epochs": 2, "max_batches": 2})
    result = contrastive_finetune(model, tokenizer, TEXTS, LABELS, settings=settings, progress=False)
    assert [h["batches"] for h in result.history] == [1, 1]  # the 35 coded toy sentences would make 5 per epoch
    with pytest.raises(ValueError, match="max_batches must be None or at least 1"):
        ContrastiveSettings(max_batches=0)


def test_train_refuses_a_window_the_examples_do_not_carry():
    from coder.classify.train import TrainSettings, train_model
    from coder.codebook import load_codebook
    from coder.training import codebook_examples

    book = load_codebook("politisk-exit")
    with pytest.raises(TrainingError, match="turn window is 3 sentences per side or 0"):
        train_model(codebook_examples(book), book, TrainSettings(window=2))
