"""Held-out evaluation of a training recipe: cross-validation over groups, or a fixed test split.

Groups are informants, documents or interviews; a group is never split between training and
test, so every figure is on people the model has not seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .classify.metrics import group_matrix, prf_table
from .classify.train import TrainSettings, train_model
from .codebook import Codebook
from .errors import TrainingError
from .training import Example, label_matrix


def cross_validate(
    examples: Sequence[Example],
    codebook: Codebook,
    settings: TrainSettings = TrainSettings(),
    *,
    extra_train: Sequence[Example] = (),
    folds: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train on all groups but the held-out ones, predict those, for every fold; pool the predictions.

    ``folds=None`` leaves one group out at a time; ``folds=K`` holds out about 1/K of the groups per
    fold (for recipes too slow to train once per group). ``extra_train`` (e.g. seed data) is added
    to every training fold and never evaluated. Returns per-code and per-group precision/recall/F1
    with micro and macro averages, plus the pooled probabilities and thresholds and each example's fold.
    """
    groups = sorted({e.group for e in examples})
    if len(groups) < 2:
        raise TrainingError("Cross-validation needs at least two informants or documents; add more labelled data.")
    k = len(groups) if folds is None else max(2, min(folds, len(groups)))
    fold_of = {g: i % k for i, g in enumerate(groups)}
    codes = list(codebook.code_ids)
    Y = label_matrix(examples, codes)
    proba = np.zeros(Y.shape)
    thresholds = np.zeros(Y.shape)
    for f in range(k):
        test = np.array([fold_of[e.group] == f for e in examples])
        train = [e for e, t in zip(examples, test) if not t] + list(extra_train)
        proba[test], thresholds[test] = _fit_predict(train, [e for e, t in zip(examples, test) if t], codebook, settings, progress)
    return {"protocol": f"{'leave-one-group-out' if folds is None else f'{k}-fold grouped'} over {len(groups)} groups",
            "fold": np.array([fold_of[e.group] for e in examples]), **score_predictions(Y, proba, thresholds, codebook)}


def held_out(
    train: Sequence[Example], test: Sequence[Example], codebook: Codebook, settings: TrainSettings = TrainSettings(),
    *, progress: bool = False,
) -> dict[str, Any]:
    """Train once on ``train``, score ``test`` (a fixed test split that no choice has looked at)."""
    Y = label_matrix(test, codebook.code_ids)
    proba, thresholds = _fit_predict(list(train), list(test), codebook, settings, progress)
    return {"protocol": f"fixed split: {len({e.group for e in test})} held-out groups", **score_predictions(Y, proba, thresholds, codebook)}


def score_predictions(Y: np.ndarray, proba: np.ndarray, thresholds: np.ndarray, codebook: Codebook) -> dict[str, Any]:
    """Per-code and per-group precision/recall/F1 of thresholded probabilities (every sentence counts)."""
    codes = list(codebook.code_ids)
    P = proba >= thresholds
    group_of = {c.id: c.group for c in codebook.codes}
    G_true, gnames = group_matrix(Y, codes, group_of)
    G_pred, _ = group_matrix(P, codes, group_of)
    return {"n": len(Y), "codes": prf_table(Y, P, codes), "groups": prf_table(G_true, G_pred, gnames),
            "proba": proba, "thresholds": thresholds, "y": Y}


def _fit_predict(
    train: list[Example], test: list[Example], codebook: Codebook, settings: TrainSettings, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    model = train_model(train, codebook, settings, progress=progress).model
    p = model.predict_proba([e.text for e in test], [e.context for e in test], [e.window for e in test])
    return p, np.broadcast_to(model.thresholds, p.shape)
