"""Agreement between coders (humans or a model) at the sentence level, per code and per group.

Units are informant sentences; each code is a binary decision per unit. Per code: percent
agreement, Cohen's kappa (two coders), Krippendorff's alpha (nominal, any number of coders,
missing values allowed, via the `krippendorff` package), Gwet's AC1 (kappa misleads for rare
codes), precision/recall/F1 of the second coder against the first, prevalence, and bootstrap 95%
intervals over units. A statistic that is undefined (e.g. kappa when nobody used the code) is
reported as None, never as 0 or 1. `segment_agreement` compares two coders' coded segments
instead, the way MAXQDA does.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

BOOTSTRAP = 200


def gwet_ac1(a: np.ndarray, b: np.ndarray) -> float | None:
    """Gwet's AC1 for two binary raters."""
    return _value(_table_stats(_cells(a.astype(bool), b.astype(bool)).sum(0))["ac1"][0])


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


def _cells(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each unit's place in the 2x2 table of two binary coders: (n, 4) counts of tp, fp, fn, tn (b against a)."""
    return np.stack([a & b, ~a & b, a & ~b, ~a & ~b], 1).astype(float)


def _table_stats(tables: np.ndarray) -> dict[str, np.ndarray]:
    """Percent, kappa, AC1, precision, recall and F1 from 2x2 tables (tp, fp, fn, tn; one per row),
    NaN where a statistic is undefined. One set of formulas for the point estimates and every
    bootstrap resample."""
    tp, fp, fn, tn = np.atleast_2d(tables).T
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        po, pa, pb = (tp + tn) / n, (tp + fn) / n, (tp + fp) / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        pi = (pa + pb) / 2
        pe1 = 2 * pi * (1 - pi)
        return {"percent": po, "kappa": np.where(pe < 1, (po - pe) / (1 - pe), np.nan),
                "ac1": np.where(pe1 < 1, (po - pe1) / (1 - pe1), np.nan), "precision": tp / (tp + fp),
                "recall": tp / (tp + fn), "f1": 2 * tp / (2 * tp + fp + fn)}


def _value(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def bootstrap_weights(clusters: np.ndarray, rng: np.random.Generator, n_boot: int = BOOTSTRAP) -> tuple[np.ndarray, np.ndarray]:
    """Draw `n_boot` resamples of whole clusters with replacement (a unit is its own cluster for a
    sentence bootstrap, its document for a cluster bootstrap).

    Returns (labels, weights): the distinct cluster labels and an (n_boot, n_labels) matrix of how
    often each was drawn. Resampling documents keeps the sentences of one interview together, so
    the interval reflects that they are not independent.
    """
    labels, _ = np.unique(clusters, return_inverse=True)
    return labels, rng.multinomial(len(labels), np.full(len(labels), 1 / len(labels)), size=n_boot)


def _bootstrap_ci(a: np.ndarray, b: np.ndarray, clusters: np.ndarray, rng: np.random.Generator) -> dict[str, list[float] | None]:
    """95% percentile intervals for the two-coder statistics over resampled clusters (`bootstrap_weights`).

    All resamples at once: each cluster's 2x2 table times how often it was drawn, through
    `_table_stats`. A resample where a statistic is undefined is left out; with fewer than 20 defined
    resamples the interval is None. Krippendorff's alpha gets no interval (its reference
    implementation is too slow to run hundreds of times per code).
    """
    keys = ("percent", "kappa", "ac1", "precision", "recall", "f1")
    if len(a) == 0:
        return dict.fromkeys(keys)
    labels, W = bootstrap_weights(clusters, rng)
    per_cluster = np.zeros((len(labels), 4))
    np.add.at(per_cluster, np.searchsorted(labels, clusters), _cells(a, b))
    stats = _table_stats(W @ per_cluster)
    out: dict[str, list[float] | None] = {}
    for key in keys:
        v = stats[key][np.isfinite(stats[key])]
        out[key] = [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if len(v) > 20 else None
    return out


def _stats(mat: np.ndarray, clusters: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Statistics for one code (or group) from a (coders, units) 0/1/NaN matrix."""
    out: dict[str, Any] = {"alpha": kripp_alpha(mat), "n_units": int((~np.isnan(mat)).all(0).sum())}
    both = (~np.isnan(mat[:2])).all(0)
    a, b = mat[0, both].astype(bool), mat[1, both].astype(bool)
    point = {k: _value(v[0]) for k, v in _table_stats(_cells(a, b).sum(0)).items()}
    out["percent"] = point["percent"]
    out["kappa"] = cohen_kappa(a, b)
    out["ac1"] = point["ac1"]
    out["prevalence"] = float((a.mean() + b.mean()) / 2) if both.any() else None
    out.update({k: point[k] for k in ("precision", "recall", "f1")})
    out["ci95"] = _bootstrap_ci(a, b, clusters[both], rng)
    return out


def agreement(
    codings: Mapping[str, Mapping[int, set[str]]],
    units: Sequence[int],
    codes: Sequence[str],
    group_of: Mapping[str, str],
    *,
    clusters: Mapping[int, str] | None = None,
    seed: int = 13,
) -> dict[str, Any]:
    """Agreement of the coders in ``codings`` (coder -> unit -> codes; a missing unit = not coded).

    The first coder is the reference for precision/recall/F1. Intervals resample units, or with
    ``clusters`` (unit -> document) whole documents. Returns the documented JSON shape:
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
    cluster_of = np.array([clusters[u] if clusters else str(u) for u in units])
    result: dict[str, Any] = {"unit": "sentence", "n_units": len(units), "coders": coders, "codes": {},
                              "bootstrap": {"resamples": BOOTSTRAP, "unit": "document" if clusters else "sentence",
                                            "clusters": len(set(cluster_of.tolist()))}}
    for k, code in enumerate(codes):
        result["codes"][code] = _stats(cube[:, :, k], cluster_of, rng)
    groups = list(dict.fromkeys(group_of[c] for c in codes))
    for g in groups:
        cols = [k for k, c in enumerate(codes) if group_of[c] == g]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # units a coder did not code stay NaN
            mat = np.nanmax(cube[:, :, cols], axis=2) if cols else np.full(cube.shape[:2], np.nan)
        result["codes"][f"group:{g}"] = _stats(mat, cluster_of, rng)
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


# -- segment agreement (MAXQDA style) ------------------------------------------------------------
Unit = tuple[int, str, int, int, int]
"""An informant sentence as (sentence id, document, sentence index in the document, start, end)."""


def coded_segments(coding: Mapping[int, set[str]], units: Sequence[Unit], codes: Collection[str]) -> list[tuple[str, int, int]]:
    """A coder's segments for ``codes``: maximal runs of adjacent sentences (index i, i+1 of one
    document, in document order) that carry any of them, as (document, start, end) character spans.

    Sentences of another speaker break a run, as a turn change would in a QDA tool.
    """
    wanted = set(codes)
    out: list[tuple[str, int, int]] = []
    last: tuple[str, int] | None = None
    for sid, doc, idx, start, end in units:
        if not wanted & coding.get(sid, set()):
            last = None
            continue
        if last == (doc, idx - 1):
            out[-1] = (doc, out[-1][1], end)
        else:
            out.append((doc, start, end))
        last = (doc, idx)
    return out


def _matched(segs: Sequence[tuple[str, int, int]], others: Sequence[tuple[str, int, int]], overlap: float) -> int:
    """How many of ``segs`` meet a segment of ``others`` with intersection >= overlap x union."""
    return sum(
        any(d == d2 and min(e, e2) - max(s, s2) >= overlap * (max(e, e2) - min(s, s2)) for d2, s2, e2 in others)
        for d, s, e in segs
    )


def _bp_kappa(percent: float | None, p_chance: float | None) -> float | None:
    return None if percent is None or p_chance is None else (percent - p_chance) / (1 - p_chance)


def segment_agreement(
    codings: Mapping[str, Mapping[int, set[str]]],
    units: Sequence[Unit],
    codes: Sequence[str],
    group_of: Mapping[str, str],
    *,
    overlap: float = 0.9,
) -> dict[str, Any]:
    """Segment agreement of two coders the way MAXQDA computes it ("segment level" comparison).

    Only sentences both coders decided on count. For each code, every segment of either coder
    (see `coded_segments`) agrees when the other coder has a segment of the same code in the same
    document that overlaps it by at least ``overlap`` (MAXQDA's default is 90%), measured against
    the extent both segments cover together (intersection over union). MAXQDA's help gives the
    threshold as a percentage of overlap without a formula; the union is our choice because it is
    symmetric, so a matched pair agrees from both sides and one long segment over several short
    ones of the other coder cannot earn agreement. Percent = agreeing segments / all segments.

    Kappa follows MAXQDA. In a 2x2 table (a both coders, b and c one coder only, d neither) cell d
    does not exist at segment level: text that neither coder coded is not a countable segment. So
    the observed agreement is a / (a + b + c), the percent above (MAXQDA: the percentage of the
    total row), and chance agreement cannot come from Cohen's marginals, which need d; MAXQDA takes
    Brennan & Prediger's (1981) 1/k for k categories, k being the number of codes either coder used
    (the rows of its code table). The same 1/k corrects each code's percent, so a code's kappa is
    on the scale of the overall one; a group's kappa uses 1/k for the k groups either coder used.
    Undefined values (a code nobody used, fewer than two codes used) are None, never 0 or 1.
    Sources: MAXQDA manual, "Intercoder Agreement"
    (https://www.maxqda.com/help-mx24/coding/problem-intercoder-agreement-qualitative-research);
    Brennan, R. L. & Prediger, D. J. (1981), Educational and Psychological Measurement 41(3), 687-699.
    """
    from .errors import InvalidRequestError

    if len(codings) != 2:
        raise InvalidRequestError(f"Segment agreement compares exactly two coders, not {len(codings)}; name two with --coders A --coders B.")
    if not 0 < overlap <= 1:
        raise InvalidRequestError(f"--overlap must be a share above 0 and at most 1 (e.g. 0.9), not {overlap}.")
    (name_a, a), (name_b, b) = codings.items()
    both = [u for u in units if u[0] in a and u[0] in b]
    targets = {c: [c] for c in codes}
    targets.update({f"group:{g}": [c for c in codes if group_of[c] == g] for g in dict.fromkeys(group_of[c] for c in codes)})
    counts: dict[str, dict[str, Any]] = {}
    for name, members in targets.items():
        sa, sb = coded_segments(a, both, members), coded_segments(b, both, members)
        ma, mb = _matched(sa, sb, overlap), _matched(sb, sa, overlap)
        counts[name] = {"agree": ma + mb, "a_only": len(sa) - ma, "b_only": len(sb) - mb}
    used = [c for c in codes if sum(counts[c].values())]
    used_groups = [g for g in targets if g.startswith("group:") and sum(counts[g].values())]
    p_chance = 1 / len(used) if len(used) >= 2 else None
    p_group = 1 / len(used_groups) if len(used_groups) >= 2 else None
    total: dict[str, Any] = {k: sum(counts[c][k] for c in codes) for k in ("agree", "a_only", "b_only")}
    for name, m in [*counts.items(), ("", total)]:
        n = m["agree"] + m["a_only"] + m["b_only"]
        m["percent"] = m["agree"] / n if n else None
        m["kappa"] = _bp_kappa(m["percent"], p_group if name.startswith("group:") else p_chance)
    total |= {"p_chance": p_chance, "codes_used": len(used)}
    return {"unit": "segment", "overlap": overlap, "coders": [name_a, name_b], "n_sentences": len(both),
            "n_units": sum(total[k] for k in ("agree", "a_only", "b_only")), "codes": counts, "overall": total}
