"""Render hypothesis scores as Markdown, a self-contained HTML report and an XLSX workbook.

Rendering only: every number comes from `coder.score.Scores`. Quotes are cited as
(Informant, document, line) so a reader can find each one in the transcript.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .codebook import Codebook
from .figures import label_counts, png, pyplot
from .outputs import atomic_output
from .score import Scores

VERDICT_DA = {
    "supports": "understøtter", "partly": "delvist", "contradicts": "modsiger", "no_evidence": "ingen evidens",
    "confirmed": "bekræftet", "partly_confirmed": "delvist bekræftet", "not_confirmed": "ikke bekræftet",
}


def verdict_text(i: Any) -> str:
    """The verdict that counts, and the rule's proposal beside it where the researcher set another one."""
    r = i.researcher
    if r is None:
        return f"{i.verdict} (rule)"
    return f"{r.verdict} (researcher; rule: {i.verdict}{'; STALE: evidence changed since' if r.stale else ''})"


def _rationale(i: Any) -> str:
    return i.researcher.rationale if i.researcher else ""


def _cite(q: Any) -> str:
    mark = "" if q.reviewed else f", unreviewed, score {q.score:.2f}" if q.score is not None else ", unreviewed"
    return f"»{q.text}« ({q.informant}, {q.document}, line {q.line}; {q.code}, {q.stance}{mark})"


def _md(text: str) -> str:
    """Text from transcripts and names as Markdown text: raw HTML escaped (a viewer would render it), table bars kept."""
    return html.escape(text, quote=False).replace("|", "\\|")


def methods_text(scores: Scores) -> str:
    m = scores.meta
    cb = m.get("codebook", {})
    source = {
        "reviewed": "human-reviewed codes only",
        "all": "human-reviewed codes, and for unreviewed sentences the model's proposals above threshold (stance from the model's stance head)",
        "model": "the model's proposals above threshold only (stance from the model's stance head)",
    }.get(scores.source, scores.source)
    return (
        f"Evidence: {source}. Codebook {cb.get('id')} v{cb.get('version')} (sha256 {str(cb.get('sha256'))[:12]}); "
        f"model {m.get('model') or 'none'}; {m.get('reviewed_sentences', 0)} of {m.get('informant_sentences', 0)} "
        f"informant sentences reviewed by a human. Rule: {scores.rules.describe()}. Stability is the share of "
        f"{scores.rules.bootstrap} bootstrap resamples of each informant's sentences that give the same verdict."
    )


def to_markdown(scores: Scores) -> str:
    out = ["# Hypotheses: verdicts per informant", "", methods_text(scores), ""]
    for h in scores.hypotheses:
        out += [f"## {h.id}: {_md(h.statement)}", "", f"**Verdict: {h.verdict.replace('_', ' ')}** ({_md(h.reason)}).", ""]
        out += ["| informant | supporting | contradicting | share | verdict | stability | across thresholds | rule | rationale |",
                "|---|---|---|---|---|---|---|---|---|"]
        for i in h.informants:
            out.append(f"| {_md(i.informant)} | {i.supporting} | {i.contradicting} | {i.share:.1%} | {verdict_text(i)} | {i.stability:.2f} | "
                       f"{i.rule_stability:.2f} | {_md(i.reason)} | {_md(_rationale(i))} |")
        out.append("")
        for i in h.informants:
            for q in i.quotes:
                out.append(f"- {_md(_cite(q))}")
        out.append("")
    return "\n".join(out)


def heatmap_png(scores: Scores, codebook: Codebook) -> str:
    """Informants x evidence codes: coded sentences of either stance, as a base64 PNG."""
    plt = pyplot()
    import numpy as np

    informants = [i.informant for i in scores.hypotheses[0].informants] if scores.hypotheses else []
    codes = list(codebook.code_ids)
    M = np.zeros((len(informants), len(codes)))
    for h in scores.hypotheses:
        for r, i in enumerate(h.informants):
            for code, counts in i.per_code.items():
                M[r, codes.index(code)] = counts["supports"] + counts["contradicts"]
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(codes)), 0.5 * len(informants) + 2))
    ax.imshow(M, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(codes)), codes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(informants)), informants, fontsize=9)
    label_counts(ax, M, M > M.max() / 2)
    ax.set_title("Coded sentences per informant and evidence code")
    return png(fig, dpi=110)


def to_html(scores: Scores, codebook: Codebook) -> str:
    """One self-contained page: no scripts, no external assets, opens offline."""
    e = html.escape
    img = heatmap_png(scores, codebook)
    parts = [
        "<!doctype html><html lang='da'><head><meta charset='utf-8'><title>coder: hypotheses</title><style>",
        "body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}",
        "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #bbb;padding:.3rem .6rem;text-align:left}",
        "th{background:#f1f1f1}.supports{background:#d9f0d3}.contradicts{background:#f8d7d3}.partly{background:#fdf1c7}",
        ".no_evidence{color:#888}blockquote{margin:.3rem 0 .3rem 1rem;font-style:italic}.rule{font-size:.9em;color:#555}",
        "</style></head><body>",
        f"<h1>Hypoteser: vurdering pr. informant</h1><p class='rule'>{e(methods_text(scores))}</p>",
        f"<img alt='Coded sentences per informant and code' src='data:image/png;base64,{img}' style='max-width:100%'>",
    ]
    for h in scores.hypotheses:
        parts.append(f"<h2>{e(h.id)}: {e(h.statement)}</h2>")
        parts.append(f"<p><strong>Samlet: {e(VERDICT_DA.get(h.verdict, h.verdict))}</strong> <span class='rule'>({e(h.reason)})</span></p>")
        parts.append("<table><tr><th>Informant</th><th>Understøttende</th><th>Modsigende</th><th>Andel</th><th>Vurdering</th><th>Stabilitet</th><th>På tværs af tærskler</th><th>Regel</th><th>Forskerens begrundelse</th></tr>")
        for i in h.informants:
            shown = VERDICT_DA[i.decided] + (f" (forsker; reglen: {VERDICT_DA[i.verdict]}{'; FORÆLDET' if i.researcher.stale else ''})" if i.researcher else "")
            parts.append(
                f"<tr class='{i.decided}'><td>{e(i.informant)}</td><td>{i.supporting}</td><td>{i.contradicting}</td>"
                f"<td>{i.share:.1%}</td><td>{e(shown)}</td><td>{i.stability:.2f}</td><td>{i.rule_stability:.2f}</td><td class='rule'>{e(i.reason)}</td>"
                f"<td>{e(_rationale(i))}</td></tr>"
            )
        parts.append("</table>")
        for i in h.informants:
            for q in i.quotes:
                parts.append(f"<blockquote>{e(_cite(q))}</blockquote>")
    parts.append("</body></html>")
    return "\n".join(parts)


def to_xlsx(scores: Scores, path: Path) -> None:
    """One sheet per hypothesis plus every coded segment behind the verdicts."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for h in scores.hypotheses:
        ws = wb.create_sheet(h.id)
        ws.append([h.id, h.statement])
        ws.append(["verdict", h.verdict, h.reason])
        ws.append([])
        ws.append(["informant", "supporting", "contradicting", "sentences", "share", "verdict", "stability", "rule",
                   "rule_verdict", "researcher_verdict", "rationale", "stale"])
        for i in h.informants:
            r = i.researcher
            ws.append([i.informant, i.supporting, i.contradicting, i.sentences, round(i.share, 4), i.decided, round(i.stability, 3), i.reason,
                       i.verdict, r.verdict if r else None, r.rationale if r else None, r.stale if r else False])
    ws = wb.create_sheet("segments")
    ws.append(["hypothesis", "informant", "document", "line", "start", "end", "code", "stance", "reviewed", "score", "text"])
    for h in scores.hypotheses:
        for i in h.informants:
            for q in i.quotes:
                ws.append([h.id, q.informant, q.document, q.line, q.start, q.end, q.code, q.stance, q.reviewed, q.score, q.text])
    with atomic_output(path) as tmp:
        wb.save(tmp)
