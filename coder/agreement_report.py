"""Render `coder agreement` and `coder benchmark` results: text tables and self-contained HTML pages.

Rendering only: every number comes from `coder.agreement` and `ExchangeMixin.benchmark`. A
statistic without a value is written "undefined", never drawn or printed as 0.
"""

from __future__ import annotations

import html
from typing import Any

from .figures import label_counts, png, pyplot


def _curves_png(curves: dict[str, list[dict[str, Any]]], key: str, ylabel: str, target: float) -> str:
    """Mean of ``key`` over seeds per strategy against sentences reviewed, with a min-max band, as a base64 PNG."""
    plt = pyplot()
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 4))
    for strategy, colour in (("uncertainty", "tab:blue"), ("random", "tab:orange")):
        runs = [pts for name, pts in curves.items() if name.startswith(strategy)]
        if not runs:
            continue
        n = min(len(r) for r in runs)
        x = [runs[0][k]["reviewed"] for k in range(n)]
        K = np.array([[r[k][key] if r[k][key] is not None else np.nan for k in range(n)] for r in runs])
        ax.plot(x, np.nanmean(K, 0), color=colour, label=strategy)
        ax.fill_between(x, np.nanmin(K, 0), np.nanmax(K, 0), color=colour, alpha=0.2)
    ax.set_xlabel("sentences reviewed")
    ax.set_ylabel(ylabel)
    ax.axhline(target, ls=":", color="grey")
    ax.legend()
    return png(fig)


def benchmark_html(result: dict[str, Any]) -> str:
    """Self-contained page for `coder benchmark`: learning curves and verdict agreement along them
    with bands across seeds, per-code kappa with bootstrap intervals, and the code confusion heatmap."""
    e = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>coder benchmark</title><style>",
             "body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem}img{max-width:100%}",
             "td,th{border:1px solid #bbb;padding:.2rem .5rem}table{border-collapse:collapse}</style></head><body>",
             f"<h1>Automatic vs manual coding</h1><p>{result['sentences']} sentences coded by {e(result['gold'])}.</p>"]
    img = _curves_png(result["curves"], "kappa", "kappa on unreviewed sentences", 0.6)
    parts.append(f"<h2>Learning curves (band: min-max over seeds)</h2><img alt='learning curves' src='data:image/png;base64,{img}'>")
    reach = result["reviewed_to_reach_kappa"]
    parts.append("<p>" + "; ".join(f"{e(s)}: kappa 0.6 after {_reviewed(t['0.6'])}, 0.8 after {_reviewed(t['0.8'])}" for s, t in reach.items()) + "</p>")
    if "reviewed_to_gold_verdicts" in result:
        img = _curves_png(result["curves"], "verdict_agreement", "share of verdicts as gold", 1.0)
        parts.append("<h2>Hypothesis verdicts along the learning curve (band: min-max over seeds)</h2>"
                     "<p>Informant x hypothesis verdicts from the reviewed sentences (gold codes and stances) and the "
                     "current model's proposals for the rest (stance: supports), against the verdicts from the full gold coding.</p>"
                     f"<img alt='verdict agreement curves' src='data:image/png;base64,{img}'>")
        parts.append("<p>All verdicts as gold after: " + "; ".join(
            f"{e(s)} {_reviewed(n)}" for s, n in result["reviewed_to_gold_verdicts"].items()) + "</p>")
    agree = result.get("model_vs_gold")
    if agree:
        codes = [c for c in agree["codes"] if not c.startswith("group:")]
        img = kappa_png(codes, [agree["codes"][c]["kappa"] for c in codes], [agree["codes"][c]["ci95"].get("kappa") for c in codes],
                        "Cohen's kappa, model vs gold (95% bootstrap interval)")
        parts.append(f"<h2>Per-code agreement</h2><img alt='per-code kappa' src='data:image/png;base64,{img}'>")
        img = confusion_png(agree["confusion"], "gold", "model")
        parts.append(f"<h2>Confusion between codes</h2><img alt='confusion heatmap' src='data:image/png;base64,{img}'>")
    if "verdicts" in result:
        v = result["verdicts"]
        parts.append(f"<h2>Hypothesis verdicts</h2><p>Agreement gold vs model: {v['agreement']:.2f}</p><table><tr><th>hypothesis</th><th>informant</th><th>gold</th><th>model</th></tr>")
        parts += [f"<tr><td>{e(c['hypothesis'])}</td><td>{e(c['informant'])}</td><td>{c['gold']}</td><td>{c['model']}</td></tr>" for c in v["cells"]]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _reviewed(n: int | None) -> str:
    """A point on a learning curve in words; 0 reviewed is a real answer, None means never."""
    return "never within the run" if n is None else f"{n} reviewed sentences"


def _num(v: float | None) -> str:
    """Two decimals, or "undefined": a statistic without a value is never shown as 0."""
    return "undefined" if v is None else f"{v:.2f}"


def _is_model(coder: str) -> bool:
    return coder == "model" or coder.startswith("model:")


def kappa_png(names: list[str], kappas: list[float | None], intervals: list[list[float] | None], xlabel: str) -> str:
    """Kappa per code (groups in orange) with its 95% interval as a bar; an undefined kappa is
    written as "undefined" on its row instead of being drawn at 0."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(names) + 1.4))
    for y, (name, k, ci) in enumerate(zip(names, kappas, intervals)):
        if k is None:
            ax.text(0, y, "undefined", ha="center", va="center", fontsize=8, color="grey", style="italic")
            continue
        colour = "tab:orange" if name.startswith("group:") else "tab:blue"
        if ci:
            ax.hlines(y, ci[0], ci[1], color=colour, lw=1.5)
            ax.plot(ci, [y, y], "|", color=colour, ms=8)
        ax.plot(k, y, "o", color=colour)
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(xlabel)
    return png(fig)


def confusion_png(confusion: dict[str, dict[str, int]], rows: str, columns: str) -> str:
    """How often one coder's code met the other's on the same unit, counts in the cells ("none" last)."""
    import numpy as np

    plt = pyplot()
    found = set(confusion) | {b for row in confusion.values() for b in row}
    labels = sorted(found - {"none"}) + ["none"] * ("none" in found)
    M = np.array([[confusion.get(a, {}).get(b, 0) for b in labels] for a in labels])
    fig, ax = plt.subplots(figsize=(0.45 * len(labels) + 3, 0.4 * len(labels) + 2.5))
    ax.imshow(np.log1p(M), cmap="Blues")
    label_counts(ax, M, M > M.max() / 3)  # the colours are log-scaled, so cells darken early
    ax.set_xticks(range(len(labels)), labels, rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel(columns)
    ax.set_ylabel(rows)
    return png(fig, dpi=110)


def agreement_html(result: dict[str, Any]) -> str:
    """Self-contained page for `coder agreement`: the table per code and group, per-code kappa with
    95% intervals, the confusion heatmap, and pairwise agreement with human-human as the ceiling.

    Takes either result of `Project.agreement` (``unit`` sentence or segment); segment results have
    no intervals, no confusion table and no pairs, so those parts are left out.
    """
    e = html.escape
    coders = result["coders"]
    segment = result["unit"] == "segment"
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>coder agreement</title><style>",
             "body{font-family:Georgia,serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}img{max-width:100%}",
             "table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9em}td,th{border:1px solid #bbb;padding:.2rem .5rem}",
             "td.n{text-align:right}th{background:#f1f1f1}.undefined{color:#888;font-style:italic}.group td{background:#fff6e8}",
             ".ceiling td{background:#e9f3e6}.note{color:#555;font-size:.9em}</style></head><body>",
             f"<h1>Agreement: {' vs '.join(e(c) for c in coders)}</h1>"]

    def cell(m: dict[str, Any], key: str) -> str:
        v, ci = m[key], (m.get("ci95") or {}).get(key)
        if isinstance(v, int):  # a count of segments
            return f"<td class='n'>{v}</td>"
        text = f"{v:.1%}" if v is not None and key in ("percent", "prevalence") else _num(v)
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
        return f"<td class='n{' undefined' if v is None else ''}'>{text}</td>"

    if segment:
        o = result["overall"]
        parts.append(f"<p>{result['n_units']} coded segments over {result['n_sentences']} sentences both coders decided on. "
                     f"A segment agrees when the other coder has a segment of the same code overlapping it by at least "
                     f"{result['overlap']:.0%} of their combined extent (MAXQDA's segment comparison). Kappa after Brennan &amp; "
                     f"Prediger with chance agreement 1/k for the k = {o['codes_used']} codes either coder used.</p>")
        keys, heads = ["agree", "a_only", "b_only", "percent", "kappa"], ["agree", f"{e(coders[0])} only", f"{e(coders[1])} only", "percent", "kappa"]
    else:
        parts.append(f"<p>{result['n_units']} informant sentences; per-code figures compare {e(coders[0])} and {e(coders[1])}; "
                     f"precision, recall and F1 of {e(coders[1])} against "
                     f"{e(coders[0])}; 95% bootstrap intervals in brackets ({result['bootstrap']['resamples']} resamples of "
                     f"{result['bootstrap']['clusters']} {result['bootstrap']['unit']}s); overall Krippendorff's alpha "
                     f"{_num(result['overall']['alpha'])}.</p>")
        keys = ["percent", "kappa", "alpha", "ac1", "precision", "recall", "f1", "prevalence"]
        heads = ["percent", "Cohen's kappa", "Krippendorff's alpha", "Gwet's AC1", "precision", "recall", "F1", "prevalence"]
    parts.append("<h2>Per code and group</h2><table><tr><th>code</th>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>")
    for name, m in result["codes"].items():
        parts.append(f"<tr{' class=group' if name.startswith('group:') else ''}><td>{e(name)}</td>{''.join(cell(m, k) for k in keys)}</tr>")
    if segment:
        parts.append(f"<tr><th>all codes</th>{''.join(cell(o, k) for k in keys)}</tr>")
    parts.append("</table>")
    names = list(result["codes"])
    kappas = [result["codes"][n]["kappa"] for n in names]
    intervals = [(result["codes"][n].get("ci95") or {}).get("kappa") for n in names]
    label = "kappa (Brennan & Prediger)" if segment else f"Cohen's kappa, {coders[0]} vs {coders[1]}, with 95% bootstrap interval"
    parts.append(f"<h2>Kappa per code</h2><img alt='kappa per code' src='data:image/png;base64,{kappa_png(names, kappas, intervals, label)}'>")
    if not segment:
        img = confusion_png(result["confusion"], coders[0], coders[1])
        parts.append(f"<h2>Confusion between codes</h2><p class='note'>Sentences where {e(coders[0])}'s code (rows) met "
                     f"{e(coders[1])}'s (columns); 'none' is a sentence without codes.</p>"
                     f"<img alt='confusion heatmap' src='data:image/png;base64,{img}'>")
        parts += _pairs_html(result["pairs"], coders)
    parts.append("</body></html>")
    return "\n".join(parts)


def _pairs_html(pairs: dict[str, dict[str, Any]], coders: list[str]) -> list[str]:
    """Every coder pair over all codes; with two humans and the model, human-human rows come first as the ceiling."""
    e = html.escape
    humans = [c for c in coders if not _is_model(c)]
    ceiling = len(coders) >= 3 and len(humans) >= 2 and len(humans) < len(coders)

    def kind(pair: str) -> str:
        n = sum(_is_model(c) for c in pair.split(" ~ "))
        return ("human-human (ceiling)" if ceiling else "human-human") if n == 0 else "model-human" if n == 1 else "model-model"

    out = ["<h2>Pairwise agreement, all codes</h2>"]
    if ceiling:
        out.append("<p class='note'>Human-human agreement is the ceiling: model-human agreement near it means the model "
                   "codes about as consistently as a second human; well below it, the model is the weaker coder.</p>")
    out.append("<table><tr><th>pair</th><th>kind</th><th>Cohen's kappa</th><th>Gwet's AC1</th><th>sentences</th></tr>")
    for pair, m in sorted(pairs.items(), key=lambda p: kind(p[0]) != "human-human (ceiling)"):
        out.append(f"<tr{' class=ceiling' if kind(pair).endswith('(ceiling)') else ''}><td>{e(pair)}</td><td>{kind(pair)}</td>"
                   f"<td class='n'>{_num(m['kappa'])}</td><td class='n'>{_num(m['ac1'])}</td><td class='n'>{m['units']}</td></tr>")
    out.append("</table>")
    return out


def agreement_text(result: dict[str, Any]) -> str:
    """The terminal table of `coder agreement` for either unit; "-" marks an undefined statistic."""
    def fmt(v: float | None) -> str:
        return "   -" if v is None else f"{v:5.2f}"

    if result["unit"] == "segment":
        a, b = result["coders"]
        o = result["overall"]
        lines = [(f"{result['n_units']} coded segments of {a} and {b} over {result['n_sentences']} sentences; "
                  f"agreement = overlap >= {result['overlap']:.0%} of both segments' extent"),
                 f"{'code':<26}{'agree':>6}{a[:8].rstrip() + ' only':>13}{b[:8].rstrip() + ' only':>13}{'%':>6}{'kappa':>7}"]
        for name, m in [*result["codes"].items(), ("all codes", o)]:
            lines.append(f"{name:<26}{m['agree']:>6}{m['a_only']:>13}{m['b_only']:>13}{fmt(m['percent']):>6}{fmt(m['kappa']):>7}")
        lines.append(f"kappa after Brennan & Prediger: chance = 1/k for the k = {o['codes_used']} codes used")
        return "\n".join(lines)
    lines = [f"{result['n_units']} sentences; coders {', '.join(result['coders'])} (P/R/F1 of the second against the first)",
             f"{'code':<26}{'%':>6}{'kappa':>7}{'alpha':>7}{'AC1':>7}{'P':>6}{'R':>6}{'F1':>6}{'prev':>6}"]
    for name, m in result["codes"].items():
        lines.append(f"{name:<26}{fmt(m['percent']):>6}{fmt(m['kappa']):>7}{fmt(m['alpha']):>7}{fmt(m['ac1']):>7}"
                     f"{fmt(m['precision']):>6}{fmt(m['recall']):>6}{fmt(m['f1']):>6}{fmt(m['prevalence']):>6}")
    lines.append(f"overall alpha {fmt(result['overall']['alpha'])}")
    for pair, m in result["pairs"].items():
        lines.append(f"{pair}: kappa {fmt(m['kappa'])}, AC1 {fmt(m['ac1'])} over {m['units']} sentences (all codes)")
    return "\n".join(lines)


def benchmark_text(r: dict[str, Any]) -> str:
    """The benchmark as terminal lines: model vs gold, the learning curves, verdicts along them."""
    lines = [f"{r['sentences']} sentences coded by {r['gold']}"]
    if "model_vs_gold" in r:
        groups = {k: v["kappa"] for k, v in r["model_vs_gold"]["codes"].items() if k.startswith("group:")}
        lines.append("model vs gold, kappa per group: " + ", ".join(f"{k[6:]} {_num(v)}" for k, v in groups.items()))
        lines.append(f"hypothesis verdicts, gold vs model: {_num(r['verdicts']['agreement'])} of informant x hypothesis cells agree")
    for name, pts in r["curves"].items():
        lines.append(f"{name:<20}" + " ".join(f"{p['reviewed']}:{_num(p['kappa'])}" for p in pts))
    for s, t in r["reviewed_to_reach_kappa"].items():
        lines.append(f"{s}: kappa 0.6 after {_reviewed(t['0.6'])}, 0.8 after {_reviewed(t['0.8'])}")
    lines.append("verdict agreement with gold (reviewed sentences as gold, the rest as predicted):")
    for name, pts in r["curves"].items():
        lines.append(f"{name:<20}" + " ".join(f"{p['reviewed']}:{_num(p['verdict_agreement'])}" for p in pts))
    lines.append("all verdicts as gold after: " + ", ".join(f"{s} {_reviewed(n)}" for s, n in r["reviewed_to_gold_verdicts"].items()))
    return "\n".join(lines)
