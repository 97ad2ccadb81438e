"""Precision, recall and F1 per code, micro and macro, via scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def prf_table(Y: np.ndarray, P: np.ndarray, codes: Sequence[str], **extra: Any) -> dict[str, Any]:
    """Return ``{"codes": {code: {precision, recall, f1, support}}, "micro": {...}, "macro": {...}}``.

    Macro averages run over codes with at least one true or predicted positive, so a code that
    never occurs in the evaluation data does not count as a perfect zero.
    """
    from sklearn.metrics import precision_recall_fscore_support

    Y = np.asarray(Y).astype(int)
    P = np.asarray(P).astype(int)
    out: dict[str, Any] = {"codes": {}, **extra}
    if Y.size == 0:
        return out
    p, r, f, s = precision_recall_fscore_support(Y, P, average=None, zero_division=0)
    for j, c in enumerate(codes):
        out["codes"][c] = {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(s[j]), "predicted": int(P[:, j].sum())}
    active = [j for j in range(len(codes)) if Y[:, j].any() or P[:, j].any()]
    mp, mr, mf, _ = precision_recall_fscore_support(Y, P, average="micro", zero_division=0)
    out["micro"] = {"precision": float(mp), "recall": float(mr), "f1": float(mf)}
    out["macro"] = {
        "precision": float(np.mean(p[active])) if active else 0.0,
        "recall": float(np.mean(r[active])) if active else 0.0,
        "f1": float(np.mean(f[active])) if active else 0.0,
    }
    return out


def group_matrix(Y: np.ndarray, codes: Sequence[str], group_of: dict[str, str]) -> tuple[np.ndarray, list[str]]:
    """Collapse code columns into group columns: a sentence has a group if it has any of its codes."""
    groups = list(dict.fromkeys(group_of[c] for c in codes))
    G = np.zeros((Y.shape[0], len(groups)), dtype=int)
    for j, c in enumerate(codes):
        G[:, groups.index(group_of[c])] |= np.asarray(Y[:, j]).astype(int)
    return G, groups
