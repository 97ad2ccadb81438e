"""Leave-one-group-out evaluation of a training recipe (groups are informants or documents)."""

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
    progress: bool = False,
) -> dict[str, Any]:
    """Train on all groups but one, predict the held-out group, for every group; pool the predictions.

    ``extra_train`` (e.g. seed data) is added to every training fold and never evaluated.
    Returns per-code and per-group precision/recall/F1 with micro and macro averages, plus the
    pooled probabilities and thresholds for callers that want more.
    """
    groups = sorted({e.group for e in examples})
    if len(groups) < 2:
        raise TrainingError("Cross-validation needs at least two informants or documents; add more labelled data.")
    codes = list(codebook.code_ids)
    Y = label_matrix(examples, codes)
    P = np.zeros(Y.shape, dtype=bool)
    proba = np.zeros(Y.shape)
    for g in groups:
        test = np.array([e.group == g for e in examples])
        train = [e for e, t in zip(examples, test) if not t] + list(extra_train)
        model = train_model(train, codebook, settings).model
        held = [e for e, t in zip(examples, test) if t]
        p = model.predict_proba([e.text for e in held], [e.context for e in held])
        proba[test] = p
        P[test] = p >= model.thresholds
    group_of = {c.id: c.group for c in codebook.codes}
    G_true, gnames = group_matrix(Y, codes, group_of)
    G_pred, _ = group_matrix(P, codes, group_of)
    return {
        "protocol": f"leave-one-group-out over {len(groups)} groups",
        "n": len(examples),
        "codes": prf_table(Y, P, codes),
        "groups": prf_table(G_true, G_pred, gnames),
        "proba": proba,
        "y": Y,
    }
