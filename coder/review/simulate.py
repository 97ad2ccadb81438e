"""Active-learning simulation: a simulated reviewer answers queued items with gold codes.

Starting from base training data, each round the strategy picks a batch from the pool, the gold
codes join the training data, the head is refitted, and micro-F1 and Cohen's kappa (over every
sentence x code decision) are measured on the pool sentences not yet reviewed. An optional
``evaluate`` adds measures of its own to each point, e.g. `verdict_evaluator`: do the hypothesis
verdicts the researcher would see at that moment match the verdicts from the full gold coding?
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..classify.head import HeadSettings, LinearHead
from ..codebook import Codebook
from ..score import ScoringRules, verdict_agreement, verdicts
from .strategies import QueryStrategy


def simulate(
    X: np.ndarray,
    Y: np.ndarray,
    groups: Sequence[str],
    base_X: np.ndarray,
    base_Y: np.ndarray,
    strategies: dict[str, Callable[[int], QueryStrategy]],
    *,
    seeds: Sequence[int] = (1, 2),
    batch: int = 25,
    steps: int = 16,
    evaluate: Callable[[list[int], np.ndarray], dict[str, Any]] | None = None,
    head: HeadSettings = HeadSettings(min_positives=2),
) -> dict[str, list[dict[str, Any]]]:
    """Return, per "strategy seed N", the learning curve as [{reviewed, f1, kappa}].

    ``evaluate(reviewed, coded)``, if given, adds its keys to every point: ``reviewed`` are the row
    indices answered so far and ``coded`` the (n, codes) boolean matrix the researcher sees at that
    moment: gold rows where reviewed, the current head's predictions elsewhere.
    """
    from sklearn.metrics import cohen_kappa_score, f1_score

    curves: dict[str, list[dict[str, Any]]] = {}
    for name, make in strategies.items():
        for seed in seeds:
            strat = make(seed)
            reviewed: list[int] = []
            points = []
            for step in range(steps + 1):
                Xt = np.vstack([base_X, X[reviewed]]) if reviewed else base_X
                Yt = np.vstack([base_Y, Y[reviewed]]) if reviewed else base_Y
                g = ["base"] * len(base_X) + [groups[i] for i in reviewed]
                mask = np.r_[np.zeros(len(base_X), bool), np.ones(len(reviewed), bool)] if len(reviewed) >= 50 else None
                fitted = LinearHead(replace(head, seed=seed)).fit(Xt, Yt, g, calibration_mask=mask)
                rest = np.setdiff1d(np.arange(len(X)), reviewed)
                if len(rest) == 0:
                    break
                P = np.nan_to_num(fitted.predict_proba(X[rest]), nan=0.0)
                pred = P >= fitted.thresholds_
                truth = Y[rest].astype(bool)
                flat_t, flat_p = truth.ravel(), pred.ravel()
                kappa = float(cohen_kappa_score(flat_t, flat_p)) if len(set(flat_t) | set(flat_p)) > 1 else None
                points.append({"reviewed": len(reviewed), "f1": float(f1_score(truth, pred, average="micro", zero_division=0)), "kappa": kappa})
                if evaluate is not None:
                    coded = Y.astype(bool)
                    coded[rest] = pred
                    points[-1].update(evaluate(list(reviewed), coded))
                if step == steps:
                    break
                prio = strat.priority(P, fitted.thresholds_, np.arange(len(rest)))
                reviewed += [int(rest[i]) for i in np.argsort(prio, kind="stable")[:batch]]
            curves[f"{name} seed {seed}"] = points
    return curves


def verdict_evaluator(
    gold: Sequence[Mapping[str, str]],
    informants: Sequence[str],
    informant_sentences: Mapping[str, int],
    codebook: Codebook,
    rules: ScoringRules,
) -> Callable[[list[int], np.ndarray], dict[str, Any]]:
    """An ``evaluate`` for `simulate`: how far the verdicts at each point agree with the gold verdicts.

    Row i carries ``gold[i]`` (code -> stance) once reviewed and the head's predicted codes (columns
    in the codebook's code order) before, as ``coder score --source all`` would show them. The simulated head has no stance head, so
    predicted codes take stance "supports", the convention `Project.evidence` uses for a model
    without one: contradicting evidence (gold has it) only counts once its sentence is reviewed.
    Returns ``verdict_agreement`` (informant x hypothesis cells) and ``overall_verdict_agreement``
    (hypothesis verdicts), both 1.0 once every row is reviewed.
    """
    codes = codebook.code_ids
    informant_of = dict(enumerate(informants))
    target = verdicts(dict(enumerate(gold)), informant_of, informant_sentences, codebook, rules)

    def evaluate(reviewed: list[int], coded: np.ndarray) -> dict[str, Any]:
        done = set(reviewed)
        now = {i: gold[i] if i in done else {c: "supports" for c, on in zip(codes, row) if on} for i, row in enumerate(coded)}
        same = verdict_agreement(target, verdicts(now, informant_of, informant_sentences, codebook, rules))
        return {"verdict_agreement": same["cells"], "overall_verdict_agreement": same["overall"]}

    return evaluate


def reviewed_to_reach(curves: dict[str, list[dict[str, Any]]], strategy: str, target: float, key: str = "kappa") -> int | None:
    """Sentences reviewed until the mean of ``key`` over seeds first reaches ``target`` (None: never)."""
    runs = [pts for name, pts in curves.items() if name.startswith(f"{strategy} seed")]
    if not runs:
        return None
    for k in range(min(len(p) for p in runs)):
        ks = [p[k][key] for p in runs if p[k][key] is not None]
        if ks and float(np.mean(ks)) >= target:
            return int(runs[0][k]["reviewed"])
    return None
