"""A fast multi-label head on frozen sentence features: one logistic regression per code.

Probabilities are calibrated with Platt scaling on out-of-fold scores (folds grouped by informant,
so a code is judged on people the model has not seen), and each code's threshold is the one that
maximises F1 on those out-of-fold probabilities. Refitting without recalibration
(`refit`) takes well under a second, which is what the review loop uses between decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class HeadSettings:
    """Settings of the linear head; ``min_positives`` below which a code is left to zero-shot."""

    C: float = 2.0
    class_weight: str | None = "balanced"
    min_positives: int = 3
    folds: int = 5
    seed: int = 13
    default_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.C <= 0:
            raise ValueError(f"C must be positive, got {self.C}.")
        if self.min_positives < 2:
            raise ValueError(f"min_positives must be at least 2, got {self.min_positives}.")
        if self.folds < 2:
            raise ValueError(f"folds must be at least 2, got {self.folds}.")
        if not 0 < self.default_threshold < 1:
            raise ValueError(f"default_threshold must be between 0 and 1, got {self.default_threshold}.")


@dataclass
class LinearHead:
    """One-vs-rest logistic regression with per-code calibration and thresholds."""

    settings: HeadSettings = field(default_factory=HeadSettings)
    coef_: np.ndarray | None = None  # (k, d)
    intercept_: np.ndarray | None = None  # (k,)
    platt_: np.ndarray | None = None  # (k, 2): a, b of sigmoid(a * score + b)
    thresholds_: np.ndarray | None = None  # (k,)
    trained_: np.ndarray | None = None  # (k,) bool: enough positives to train
    oof_: np.ndarray | None = None  # (n, k) calibrated out-of-fold probabilities (NaN where untrained)

    def fit(
        self,
        X: Any,
        Y: np.ndarray,
        groups: Sequence[str] | None = None,
        *,
        calibrate: bool = True,
        calibration_mask: np.ndarray | None = None,
    ) -> LinearHead:
        """Fit every code with enough positives; calibrate and pick thresholds out of fold.

        ``calibration_mask`` selects the examples whose out-of-fold scores set calibration and
        thresholds: those drawn like the data the model will score (whole transcripts), not
        positive-only material such as quote collections, which would push thresholds down.
        """
        Y = np.asarray(Y)
        n, k = Y.shape
        self.trained_ = Y.sum(0) >= self.settings.min_positives
        self.coef_, self.intercept_ = self._fit_all(X, Y)
        if self.platt_ is None or calibrate:
            self.platt_ = np.tile([1.0, 0.0], (k, 1))
            self.thresholds_ = np.full(k, self.settings.default_threshold)
        if calibrate:
            self._calibrate(X, Y, groups, calibration_mask)
        return self

    def refit(self, X: Any, Y: np.ndarray) -> LinearHead:
        """Refit the regressions only, keeping calibration and thresholds (fast path)."""
        return self.fit(X, Y, calibrate=False)

    def decision_function(self, X: Any) -> np.ndarray:
        assert self.coef_ is not None and self.intercept_ is not None
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities (n, k); NaN for codes that had too few positives."""
        assert self.platt_ is not None and self.trained_ is not None
        z = self.decision_function(X) * self.platt_[:, 0] + self.platt_[:, 1]
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        p[:, ~self.trained_] = np.nan
        return p

    # -- internals ---------------------------------------------------------------------------
    def _fit_all(self, X: Any, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fit every trainable code at once: the same L2-penalised, class-weighted logistic loss as
        scikit-learn's LogisticRegression per code, summed over codes and minimised jointly by
        L-BFGS, which costs one pass over X per iteration for all codes instead of one per code."""
        assert self.trained_ is not None
        k, d = Y.shape[1], X.shape[1]
        coef = np.zeros((k, d))
        intercept = np.full(k, -10.0)
        Y = np.asarray(Y, dtype=float)
        constant = Y.min(0) == Y.max(0)
        intercept[self.trained_ & constant] = 10.0  # every example positive: nothing to separate
        fit = np.flatnonzero(self.trained_ & ~constant)
        if len(fit) == 0:
            return coef, intercept
        Yf = Y[:, fit]
        n = len(Yf)
        if not hasattr(X, "tocsr"):  # dense: one float64 copy instead of an upcast per iteration
            X = np.ascontiguousarray(X, dtype=np.float64)
        if self.settings.class_weight == "balanced":
            pos = Yf.sum(0)
            S = np.where(Yf == 1, n / (2 * pos), n / (2 * (n - pos)))
        else:
            S = np.ones_like(Yf)
        C = self.settings.C
        # Warm start from the previous weights: the review loop refits after a few more labels,
        # and starting where it stopped converges in a fraction of the iterations.
        warm = self.coef_ is not None and self.coef_.shape == coef.shape and self.intercept_ is not None
        w0 = np.zeros((d + 1, len(fit)))
        if warm:
            assert self.coef_ is not None and self.intercept_ is not None
            w0[:d], w0[d] = self.coef_[fit].T, self.intercept_[fit]

        def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
            W = flat.reshape(d + 1, len(fit))
            Z = np.asarray(X @ W[:d]) + W[d]
            # log(1 + exp(-z)) for positives, log(1 + exp(z)) for negatives, computed stably
            margin = np.where(Yf == 1, Z, -Z)
            # Divided by C * n (same minimiser) so that the gradient tolerance means what it does in scikit-learn.
            value = float((S * np.logaddexp(0, -margin)).sum()) / n + float((W[:d] ** 2).sum()) / (2 * C * n)
            G = S * (1 / (1 + np.exp(-np.clip(Z, -30, 30))) - Yf) / n
            grad = np.vstack([np.asarray(X.T @ G) + W[:d] / (C * n), G.sum(0)])
            return value, grad.ravel()

        from scipy.optimize import minimize

        res = minimize(loss, w0.ravel(), jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-4})
        W = res.x.reshape(d + 1, len(fit))
        coef[fit], intercept[fit] = W[:d].T, W[d]
        return coef, intercept

    def _folds(self, Y: np.ndarray, groups: Sequence[str] | None) -> list[tuple[np.ndarray, np.ndarray]]:
        from sklearn.model_selection import GroupKFold, KFold

        n = len(Y)
        if groups is not None and len(set(groups)) >= 2:
            k = min(self.settings.folds, len(set(groups)))
            return list(GroupKFold(n_splits=k).split(np.zeros(n), groups=list(groups)))
        return list(KFold(n_splits=min(self.settings.folds, n), shuffle=True, random_state=self.settings.seed).split(np.zeros(n)))

    def _calibrate(self, X: Any, Y: np.ndarray, groups: Sequence[str] | None, mask: np.ndarray | None) -> None:
        from sklearn.linear_model import LogisticRegression

        assert self.trained_ is not None and self.platt_ is not None and self.thresholds_ is not None
        scores = np.full(Y.shape, np.nan)
        for train, test in self._folds(Y, groups):
            fold = LinearHead(self.settings)
            fold.trained_ = (Y[train].sum(0) >= 2) & self.trained_
            fold.coef_, fold.intercept_ = fold._fit_all(X[train], Y[train])
            s = fold.decision_function(X[test])
            s[:, ~fold.trained_] = np.nan
            scores[test] = s
        oof = np.full(Y.shape, np.nan)
        use = np.ones(len(Y), bool) if mask is None or not np.any(mask) else np.asarray(mask, bool)
        for j in np.flatnonzero(self.trained_):
            ok = ~np.isnan(scores[:, j]) & use
            y = Y[ok, j]
            if ok.sum() < 10 or y.min() == y.max():
                continue
            platt = LogisticRegression(C=1e4).fit(scores[ok, j, None], y)
            self.platt_[j] = platt.coef_[0, 0], platt.intercept_[0]
            p = platt.predict_proba(scores[ok, j, None])[:, 1]
            oof[ok, j] = p
            self.thresholds_[j] = best_threshold(y, p, self.settings.default_threshold)
        self.oof_ = oof


def best_threshold(y: np.ndarray, p: np.ndarray, default: float = 0.5) -> float:
    """Return the probability threshold with the best F1 (ties: the one closest to ``default``)."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    best, best_f1 = default, -1.0
    pos = y.sum()
    for t in grid:
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        f1 = 2 * tp / (pred.sum() + pos) if pred.sum() + pos else 0.0
        if f1 > best_f1 + 1e-9 or (abs(f1 - best_f1) <= 1e-9 and abs(t - default) < abs(best - default)):
            best, best_f1 = float(t), f1
    return best
