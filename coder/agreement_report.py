"""Render `coder agreement` and `coder benchmark` results: text tables and self-contained HTML pages.

Rendering only: every number comes from `coder.agreement` and `ExchangeMixin.benchmark`. A
statistic without a value is written "undefined", never drawn or printed as 0. The HTML pages are in
one language (``lang``, Danish by default) from the catalogue in `coder.i18n`; the terminal tables
stay English like the rest of the command line.
"""

from __future__ import annotations

import html
from typing import Any

from .figures import heading, img_tag, label_counts, png, pyplot
from .i18n import DEFAULT_LANGUAGE, Translate, english, translator
from .report import verdict_word


def _head(title: str, lang: str, style: str) -> str:
    """The start of a self-contained page: its language, title and inline stylesheet."""
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>")


def _curves_png(curves: dict[str, list[dict[str, Any]]], key: str, ylabel: str, target: float, _: Translate) -> str:
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
    ax.set_xlabel(_("sentences reviewed"))
    ax.set_ylabel(ylabel)
    ax.axhline(target, ls=":", color="grey")
    ax.legend()
    return png(fig)


def benchmark_html(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    """Self-contained page for `coder benchmark`: learning curves and verdict agreement along them
    with bands across seeds, per-code kappa with bootstrap intervals, and the code confusion heatmap."""
    e, _ = html.escape, translator(lang)
    parts = [_head(_("coder benchmark"), lang, "body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
                   "img{max-width:100%}td,th{border:1px solid #bbb;padding:.2rem .5rem}table{border-collapse:collapse}"),
             heading(1, _("Automatic vs manual coding")) + "<p>"
             + e(_("%(n)s sentences coded by %(gold)s.") % {"n": result["sentences"], "gold": result["gold"]}) + "</p>"]
    img = _curves_png(result["curves"], "kappa", _("kappa on unreviewed sentences"), 0.6, _)
    parts.append(heading(2, _("Learning curves (band: min-max over seeds)")) + img_tag(_("learning curves"), img))
    reach = result["reviewed_to_reach_kappa"]
    parts.append("<p>" + "; ".join(e(_("%(strategy)s: kappa 0.6 after %(at6)s, 0.8 after %(at8)s") % {
        "strategy": s, "at6": _reviewed(t["0.6"], _), "at8": _reviewed(t["0.8"], _)}) for s, t in reach.items()) + "</p>")
    if "reviewed_to_gold_verdicts" in result:
        img = _curves_png(result["curves"], "verdict_agreement", _("share of verdicts as gold"), 1.0, _)
        parts.append(heading(2, _("Hypothesis verdicts along the learning curve (band: min-max over seeds)")) +
                     "<p>" + e(_("Informant x hypothesis verdicts from the reviewed sentences (gold codes and stances) and the "
                                 "current model's proposals for the rest (stance: supports), against the verdicts from the "
                                 "full gold coding.")) + "</p>" +
                     img_tag(_("verdict agreement curves"), img))
        parts.append("<p>" + e(_("All verdicts as gold after:")) + " " + "; ".join(
            f"{e(s)} {e(_reviewed(n, _))}" for s, n in result["reviewed_to_gold_verdicts"].items()) + "</p>")
    agree = result.get("model_vs_gold")
    if agree:
        codes = [c for c in agree["codes"] if not c.startswith("group:")]
        img = kappa_png(codes, [agree["codes"][c]["kappa"] for c in codes], [agree["codes"][c]["ci95"].get("kappa") for c in codes],
                        _("Cohen's kappa, model vs gold (95% bootstrap interval)"), _)
        parts.append(heading(2, _("Per-code agreement")) + img_tag(_("kappa per code"), img))
        img = confusion_png(agree["confusion"], _("gold"), _("model"))
        parts.append(heading(2, _("Confusion between codes")) + img_tag(_("confusion heatmap"), img))
    if "verdicts" in result:
        v = result["verdicts"]
        parts.append(heading(2, _("Hypothesis verdicts")) + "<p>" + e(_("Agreement gold vs model:")) + f" {v['agreement']:.2f}</p><table><tr>"
                     + "".join(f"<th>{e(h)}</th>" for h in (_("hypothesis"), _("informant"), _("gold"), _("model"))) + "</tr>")
        parts += [f"<tr><td>{e(c['hypothesis'])}</td><td>{e(c['informant'])}</td><td>{e(verdict_word(c['gold'], _))}</td>"
                  f"<td>{e(verdict_word(c['model'], _))}</td></tr>" for c in v["cells"]]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _reviewed(n: int | None, _: Translate = english) -> str:
    """A point on a learning curve in words; 0 reviewed is a real answer, None means never."""
    return _("never within the run") if n is None else _("%(n)s reviewed sentences") % {"n": n}


def _num(v: float | None, _: Translate = english) -> str:
    """Two decimals, or "undefined": a statistic without a value is never shown as 0."""
    return _("undefined") if v is None else f"{v:.2f}"


def _is_model(coder: str) -> bool:
    return coder == "model" or coder.startswith("model:")


def kappa_png(names: list[str], kappas: list[float | None], intervals: list[list[float] | None], xlabel: str,
              _: Translate = english) -> str:
    """Kappa per code (groups in orange) with its 95% interval as a bar; an undefined kappa is
    written as "undefined" on its row instead of being drawn at 0."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(names) + 1.4))
    for y, (name, k, ci) in enumerate(zip(names, kappas, intervals)):
        if k is None:
            ax.text(0, y, _("undefined"), ha="center", va="center", fontsize=8, color="grey", style="italic")
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


def agreement_html(result: dict[str, Any], lang: str = DEFAULT_LANGUAGE) -> str:
    """Self-contained page for `coder agreement`: the table per code and group, per-code kappa with
    95% intervals, the confusion heatmap, and pairwise agreement with human-human as the ceiling.

    Takes either result of `Project.agreement` (``unit`` sentence or segment); segment results have
    no intervals, no confusion table and no pairs, so those parts are left out.
    """
    e, _ = html.escape, translator(lang)
    coders = result["coders"]
    segment = result["unit"] == "segment"
    parts = [_head(_("coder agreement"), lang,
                   "body{font-family:Georgia,serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}img{max-width:100%}"
                   "table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9em}td,th{border:1px solid #bbb;padding:.2rem .5rem}"
                   "td.n{text-align:right}th{background:#f1f1f1}.undefined{color:#888;font-style:italic}.group td{background:#fff6e8}"
                   ".ceiling td{background:#e9f3e6}.note{color:#555;font-size:.9em}"),
             heading(1, _("Agreement:") + " " + _(" vs ").join(coders))]

    def cell(m: dict[str, Any], key: str) -> str:
        v, ci = m[key], (m.get("ci95") or {}).get(key)
        if isinstance(v, int):  # a count of segments
            return f"<td class='n'>{v}</td>"
        text = f"{v:.1%}" if v is not None and key in ("percent", "prevalence") else e(_num(v, _))
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
        return f"<td class='n{' undefined' if v is None else ''}'>{text}</td>"

    if segment:
        o = result["overall"]
        parts.append("<p>" + e(_(
            "%(units)s coded segments over %(sentences)s sentences both coders decided on. A segment agrees when the other "
            "coder has a segment of the same code overlapping it by at least %(overlap).0f%% of their combined extent "
            "(MAXQDA's segment comparison). Kappa after Brennan & Prediger with chance agreement 1/k for the k = "
            "%(k)s codes either coder used.") % {"units": result["n_units"], "sentences": result["n_sentences"],
                                                 "overlap": 100 * result["overlap"], "k": o["codes_used"]}) + "</p>")
        keys = ["agree", "a_only", "b_only", "percent", "kappa"]
        heads = [_("agree"), _("%(coder)s only") % {"coder": coders[0]}, _("%(coder)s only") % {"coder": coders[1]}, _("percent"), "kappa"]
    else:
        boot = result["bootstrap"]
        parts.append("<p>" + e(_(
            "%(units)s informant sentences; per-code figures compare %(a)s and %(b)s; precision, recall and F1 of %(b)s "
            "against %(a)s; 95%% bootstrap intervals in brackets (%(resamples)s resamples of %(clusters)s %(unit)s); "
            "overall Krippendorff's alpha %(alpha)s.") % {
            "units": result["n_units"], "a": coders[0], "b": coders[1], "resamples": boot["resamples"],
            "clusters": boot["clusters"], "unit": _("documents") if boot["unit"] == "document" else _("sentences"), "alpha": _num(result["overall"]["alpha"], _)}) + "</p>")
        keys = ["percent", "kappa", "alpha", "ac1", "precision", "recall", "f1", "prevalence"]
        heads = [_("percent"), _("Cohen's kappa"), _("Krippendorff's alpha"), _("Gwet's AC1"), _("precision"), _("recall"), "F1", _("prevalence")]
    parts.append(heading(2, _("Per code and group")) + "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in [_("code"), *heads]) + "</tr>")
    for name, m in result["codes"].items():
        parts.append(f"<tr{' class=group' if name.startswith('group:') else ''}><td>{e(name)}</td>{''.join(cell(m, k) for k in keys)}</tr>")
    if segment:
        parts.append("<tr><th>" + e(_("all codes")) + f"</th>{''.join(cell(o, k) for k in keys)}</tr>")
    parts.append("</table>")
    names = list(result["codes"])
    kappas = [result["codes"][n]["kappa"] for n in names]
    intervals = [(result["codes"][n].get("ci95") or {}).get("kappa") for n in names]
    label = _("kappa (Brennan & Prediger)") if segment else \
        _("Cohen's kappa, %(a)s vs %(b)s, with 95%% bootstrap interval") % {"a": coders[0], "b": coders[1]}
    parts.append(heading(2, _("Kappa per code")) + img_tag(_("kappa per code"), kappa_png(names, kappas, intervals, label, _)))
    if not segment:
        img = confusion_png(result["confusion"], coders[0], coders[1])
        parts.append(heading(2, _("Confusion between codes")) + "<p class='note'>" + e(_(
            "Sentences where %(a)s's code (rows) met %(b)s's (columns); 'none' is a sentence without codes.")
            % {"a": coders[0], "b": coders[1]}) + "</p>" + img_tag(_("confusion heatmap"), img))
        parts += _pairs_html(result["pairs"], coders, _)
    parts.append("</body></html>")
    return "\n".join(parts)


def _pairs_html(pairs: dict[str, dict[str, Any]], coders: list[str], _: Translate) -> list[str]:
    """Every coder pair over all codes; with two humans and the model, human-human rows come first as the ceiling."""
    e = html.escape
    humans = [c for c in coders if not _is_model(c)]
    ceiling = len(coders) >= 3 and len(humans) >= 2 and len(humans) < len(coders)

    def kind(pair: str) -> str:
        n = sum(_is_model(c) for c in pair.split(" ~ "))
        return ("ceiling" if ceiling else "human-human") if n == 0 else "model-human" if n == 1 else "model-model"

    words = {"ceiling": _("human-human (ceiling)"), "human-human": _("human-human"), "model-human": _("model-human"),
             "model-model": _("model-model")}
    out = [heading(2, _("Pairwise agreement, all codes"))]
    if ceiling:
        out.append("<p class='note'>" + e(_("Human-human agreement is the ceiling: model-human agreement near it means the model "
                                            "codes about as consistently as a second human; well below it, the model is the "
                                            "weaker coder.")) + "</p>")
    out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in (
        _("pair"), _("kind"), _("Cohen's kappa"), _("Gwet's AC1"), _("sentences"))) + "</tr>")
    for pair, m in sorted(pairs.items(), key=lambda p: kind(p[0]) != "ceiling"):
        out.append(f"<tr{' class=ceiling' if kind(pair) == 'ceiling' else ''}><td>{e(pair)}</td><td>{e(words[kind(pair)])}</td>"
                   f"<td class='n'>{e(_num(m['kappa'], _))}</td><td class='n'>{e(_num(m['ac1'], _))}</td><td class='n'>{m['units']}</td></tr>")
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
