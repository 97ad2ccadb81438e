"""Stance of coded evidence: does a sentence support or contradict its hypothesis?

A class-weighted logistic regression on the sentence features of coded sentences, trained from
decisions with a stance (reviewed, or seed data such as the demo gold). Leave-one-transcript-out on
the demo gold (296 coded sentences, 19% contradicting): F1 for "contradicts" 0.54, accuracy 0.77.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Fewer labelled examples of either stance than this: no stance model, proposals count as supporting.
MIN_PER_STANCE = 5


def fit_stance(X: Any, stances: Sequence[str | None]) -> tuple[np.ndarray, float] | None:
    """Return (coef, intercept) of P(contradicts), or None when there are too few stance labels."""
    from sklearn.linear_model import LogisticRegression

    keep = [i for i, s in enumerate(stances) if s in ("supports", "contradicts")]
    y = np.array([stances[i] == "contradicts" for i in keep])
    if y.sum() < MIN_PER_STANCE or (~y).sum() < MIN_PER_STANCE:
        return None
    clf = LogisticRegression(C=2.0, class_weight="balanced", max_iter=2000).fit(X[keep], y)  # dense or sparse
    return clf.coef_[0], float(clf.intercept_[0])


def predict_contradicts(X: Any, coef: np.ndarray, intercept: float) -> np.ndarray:
    z = np.asarray(X @ coef).ravel() + intercept
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
