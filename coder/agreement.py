"""Agreement between coders (humans or a model) at the sentence level, per code and per group.

Units are informant sentences; each code is a binary decision per unit. Per code: percent
agreement, Cohen's kappa (two coders), Krippendorff's alpha (nominal, any number of coders,
missing values allowed, via the `krippendorff` package), Gwet's AC1 (kappa misleads for rare
codes), precision/recall/F1 of the second coder against the first, prevalence, and bootstrap 95%
intervals over units. A statistic that is undefined (e.g. kappa when nobody used the code) is
reported as None, never as 0 or 1.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

BOOTSTRAP = 200


def gwet_ac1(a: np.ndarray, b: np.ndarray) -> float | None:
    """Gwet's AC1 for two binary raters."""
    if len(a) == 0:
        return None
    pa = float(np.mean(a == b))
    pi = (a.mean() + b.mean()) / 2
    pe = 2 * pi * (1 - pi)
    return None if pe == 1 else (pa - pe) / (1 - pe)


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa, None when undefined (both raters constant and equal)."""
    from sklearn.metrics import cohen_kappa_score

    if len(a) == 0 or (len(set(a.tolist()) | set(b.tolist())) < 2):
        return None
    return float(cohen_kappa_score(a, b))


def kripp_alpha(data: np.ndarray) -> float | None:
    """Krippendorff's alpha (nominal) for a (coders, units) array with NaN for missing values."""
    import krippendorff

    values = data[~np.isnan(data)]
    if values.size == 0 or len(np.unique(values)) < 2:
        return None
    pairable = (~np.isnan(data)).sum(0) >= 2
    if not pairable.any():
        return None
    return float(krippendorff.alpha(reliability_data=data[:, pairable], level_of_measurement="nominal"))


def _prf(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    tp, fp, fn = int((a & b).sum()), int((~a & b).sum()), int((a & ~b).sum())
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {"precision": p, "recall": r, "f1": f}


def _stats(mat: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Statistics for one code (or group) from a (coders, units) 0/1/NaN matrix."""
    out: dict[str, Any] = {"alpha": kripp_alpha(mat), "n_units": int((~np.isnan(mat)).all(0).sum())}
    both = (~np.isnan(mat[:2])).all(0)
    a, b = mat[0, both].astype(bool), mat[1, both].astype(bool)
    out["percent"] = float(np.mean(a == b)) if both.any() else None
    out["kappa"] = cohen_kappa(a, b)
    out["ac1"] = gwet_ac1(a.astype(int), b.astype(int))
    out["prevalence"] = float((a.mean() + b.mean()) / 2) if both.any() else None
    out.update(_prf(a, b))
    kappas = []
    n = len(a)
    for _ in range(BOOTSTRAP if n else 0):
        idx = rng.integers(0, n, n)
        k = cohen_kappa(a[idx], b[idx])
        if k is not None:
            kappas.append(k)
    out["ci95"] = {"kappa": [float(np.percentile(kappas, 2.5)), float(np.percentile(kappas, 97.5))]} if len(kappas) > 20 else {"kappa": None}
    return out


def agreement(
    codings: Mapping[str, Mapping[int, set[str]]],
    units: Sequence[int],
    codes: Sequence[str],
    group_of: Mapping[str, str],
    *,
    seed: int = 13,
) -> dict[str, Any]:
    """Agreement of the coders in ``codings`` (coder -> unit -> codes; a missing unit = not coded).

    The first coder is the reference for precision/recall/F1. Returns the documented JSON shape:
    ``{"unit": "sentence", "n_units", "coders", "codes": {code or group: {...}}, "overall": {"alpha"}, "confusion"}``.
    """
    rng = np.random.default_rng(seed)
    coders = list(codings)
    if len(coders) < 2:
        from .errors import CoderError

        raise CoderError("Agreement needs at least two coders; name them with --coders A B.")
    units = [u for u in units if any(u in codings[c] for c in coders)]
    cube = np.full((len(coders), len(units), len(codes)), np.nan)
    for i, c in enumerate(coders):
        for j, u in enumerate(units):
            if u in codings[c]:
                cube[i, j] = [float(code in codings[c][u]) for code in codes]
    result: dict[str, Any] = {"unit": "sentence", "n_units": len(units), "coders": coders, "codes": {}}
    for k, code in enumerate(codes):
        result["codes"][code] = _stats(cube[:, :, k], rng)
    groups = list(dict.fromkeys(group_of[c] for c in codes))
    for g in groups:
        cols = [k for k, c in enumerate(codes) if group_of[c] == g]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # units a coder did not code stay NaN
            mat = np.nanmax(cube[:, :, cols], axis=2) if cols else np.full(cube.shape[:2], np.nan)
        result["codes"][f"group:{g}"] = _stats(mat, rng)
    flat = cube.reshape(len(coders), -1)
    result["overall"] = {"alpha": kripp_alpha(flat)}
    # Every pair side by side: with two humans and a model, human-human kappa is the ceiling that
    # model-human kappa is read against.
    result["pairs"] = {}
    for i in range(len(coders)):
        for j in range(i + 1, len(coders)):
            both = ~np.isnan(cube[i]).any(1) & ~np.isnan(cube[j]).any(1)
            a, b = cube[i, both].astype(int).ravel(), cube[j, both].astype(int).ravel()
            result["pairs"][f"{coders[i]} ~ {coders[j]}"] = {"kappa": cohen_kappa(a, b), "ac1": gwet_ac1(a, b), "units": int(both.sum())}
    result["confusion"] = _confusion(cube[0], cube[1], codes)
    return result


def _confusion(a: np.ndarray, b: np.ndarray, codes: Sequence[str]) -> dict[str, dict[str, int]]:
    """How often coder A's code met coder B's code on the same unit (including 'none')."""
    out: dict[str, dict[str, int]] = {}
    both = ~np.isnan(a).any(1) & ~np.isnan(b).any(1)
    for ra, rb in zip(a[both], b[both]):
        la = [codes[k] for k in np.flatnonzero(ra)] or ["none"]
        lb = [codes[k] for k in np.flatnonzero(rb)] or ["none"]
        for x in la:
            for y in lb:
                out.setdefault(x, {})[y] = out.setdefault(x, {}).get(y, 0) + 1
    return out
