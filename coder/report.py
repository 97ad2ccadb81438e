"""Render hypothesis scores as Markdown, a self-contained HTML report and an XLSX workbook.

Rendering only: every number comes from `coder.score.Scores`. Quotes are cited as
(Informant, document, line) so a reader can find each one in the transcript. Every text is in one
language (``lang``, Danish by default) from the catalogue in `coder.i18n`; the rule lines behind
the verdicts are rewritten in that language by the same rule functions that decided them.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .codebook import Codebook
from .figures import heading, img_tag, label_counts, png, pyplot
from .outputs import atomic_output
from .i18n import DEFAULT_LANGUAGE, N_, Translate, english, translator
from .score import HypothesisScore, InformantScore, Scores, decided_hypothesis_verdict, informant_reason

# Verdicts and stances (the same words) as shown to a reader.
VERDICTS = {
    "supports": N_("supports"), "partly": N_("partly"), "contradicts": N_("contradicts"), "no_evidence": N_("no evidence"),
    "confirmed": N_("confirmed"), "partly_confirmed": N_("partly confirmed"), "not_confirmed": N_("not confirmed"),
}


def verdict_word(verdict: str, _: Translate = english) -> str:
    """A verdict or stance id as the reader's word (ids the catalogue lacks are shown as they are)."""
    return _(VERDICTS[verdict]) if verdict in VERDICTS else verdict


def verdict_text(i: InformantScore, _: Translate = english) -> str:
    """The verdict that counts, and the rule's proposal beside it where the researcher set another one."""
    r = i.researcher
    if r is None:
        return _("%(verdict)s (rule)") % {"verdict": verdict_word(i.verdict, _)}
    values = {"verdict": verdict_word(r.verdict, _), "rule": verdict_word(i.verdict, _)}
    if r.stale:
        return _("%(verdict)s (researcher; rule: %(rule)s; STALE: evidence changed since)") % values
    return _("%(verdict)s (researcher; rule: %(rule)s)") % values


def _rationale(i: InformantScore) -> str:
    return i.researcher.rationale if i.researcher else ""


def _hypothesis_reason(h: HypothesisScore, scores: Scores, _: Translate) -> str:
    return decided_hypothesis_verdict(h.informants, scores.rules, _)[1]


def _cite(q: Any, _: Translate) -> str:
    values = {"text": q.text, "informant": q.informant, "document": q.document, "line": q.line, "code": q.code,
              "stance": verdict_word(q.stance, _), "score": q.score}
    if q.reviewed:
        return _("»%(text)s« (%(informant)s, %(document)s, line %(line)s; %(code)s, %(stance)s)") % values
    if q.score is None:
        return _("»%(text)s« (%(informant)s, %(document)s, line %(line)s; %(code)s, %(stance)s, unreviewed)") % values
    return _("»%(text)s« (%(informant)s, %(document)s, line %(line)s; %(code)s, %(stance)s, unreviewed, score %(score).2f)") % values


def _md(text: str) -> str:
    """Text from transcripts and names as Markdown text: raw HTML escaped (a viewer would render it), table bars kept."""
    return html.escape(text, quote=False).replace("|", "\\|")


SOURCES = {
    "reviewed": N_("human-reviewed codes only"),
    "all": N_("human-reviewed codes, and for unreviewed sentences the model's proposals above threshold (stance from "
              "the model's stance head)"),
    "model": N_("the model's proposals above threshold only (stance from the model's stance head)"),
}


def methods_text(scores: Scores, lang: str = DEFAULT_LANGUAGE) -> str:
    _ = translator(lang)
    m = scores.meta
    cb = m.get("codebook", {})
    return _(
        "Evidence: %(source)s. Codebook %(id)s v%(version)s (sha256 %(sha)s); model %(model)s; %(reviewed)s of "
        "%(sentences)s informant sentences reviewed by a human. Rule: %(rule)s. Stability is the share of "
        "%(bootstrap)s bootstrap resamples of each informant's sentences that give the same verdict."
    ) % {"source": _(SOURCES[scores.source]) if scores.source in SOURCES else scores.source, "id": cb.get("id"),
         "version": cb.get("version"), "sha": str(cb.get("sha256"))[:12], "model": m.get("model") or _("none"),
         "reviewed": m.get("reviewed_sentences", 0), "sentences": m.get("informant_sentences", 0),
         "rule": scores.rules.describe(_), "bootstrap": scores.rules.bootstrap}


def _columns(_: Translate) -> list[str]:
    """The per-informant table's headings, shared by the Markdown and HTML reports."""
    return [_("Informant"), _("Supporting"), _("Contradicting"), _("Share"), _("Verdict"), _("Stability"), _("Across thresholds"),
            _("Rule"), _("Researcher's rationale")]


def to_markdown(scores: Scores, lang: str = DEFAULT_LANGUAGE) -> str:
    _ = translator(lang)
    out = ["# " + _("Hypotheses: verdicts per informant"), "", methods_text(scores, lang), ""]
    for h in scores.hypotheses:
        out += [f"## {h.id}: {_md(h.statement)}", "",
                "**" + _("Overall") + f": {verdict_word(h.verdict, _)}** ({_md(_hypothesis_reason(h, scores, _))}).", ""]
        out += ["| " + " | ".join(_columns(_)) + " |", "|---|---|---|---|---|---|---|---|---|"]
        for i in h.informants:
            out.append(f"| {_md(i.informant)} | {i.supporting} | {i.contradicting} | {i.share:.1%} | {_md(verdict_text(i, _))} | "
                       f"{i.stability:.2f} | {i.rule_stability:.2f} | {_md(informant_reason(i, scores.rules, _))} | {_md(_rationale(i))} |")
        out.append("")
        for i in h.informants:
            for q in i.quotes:
                out.append(f"- {_md(_cite(q, _))}")
        out.append("")
    return "\n".join(out)


def heatmap_png(scores: Scores, codebook: Codebook, title: str) -> str:
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
    ax.set_title(title)
    return png(fig, dpi=110)


def to_html(scores: Scores, codebook: Codebook, lang: str = DEFAULT_LANGUAGE) -> str:
    """One self-contained page: no scripts, no external assets, opens offline."""
    e = html.escape
    _ = translator(lang)
    title, figure = _("Hypotheses: verdicts per informant"), _("Coded sentences per informant and evidence code")
    img = heatmap_png(scores, codebook, figure)
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>coder: {e(title)}</title><style>",
        "body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}",
        "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #bbb;padding:.3rem .6rem;text-align:left}",
        "th{background:#f1f1f1}.supports{background:#d9f0d3}.contradicts{background:#f8d7d3}.partly{background:#fdf1c7}",
        "img{max-width:100%}.no_evidence{color:#888}blockquote{margin:.3rem 0 .3rem 1rem;font-style:italic}.rule{font-size:.9em;color:#555}",
        "</style></head><body>",
        heading(1, title) + f"<p class='rule'>{e(methods_text(scores, lang))}</p>",
        img_tag(figure, img),
    ]
    for h in scores.hypotheses:
        parts.append(f"<h2>{e(h.id)}: {e(h.statement)}</h2>")
        parts.append("<p><strong>" + e(_("Overall")) + f": {e(verdict_word(h.verdict, _))}</strong> <span class='rule'>({e(_hypothesis_reason(h, scores, _))})</span></p>")
        parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in _columns(_)) + "</tr>")
        for i in h.informants:
            parts.append(
                f"<tr class='{i.decided}'><td>{e(i.informant)}</td><td>{i.supporting}</td><td>{i.contradicting}</td>"
                f"<td>{i.share:.1%}</td><td>{e(verdict_text(i, _))}</td><td>{i.stability:.2f}</td><td>{i.rule_stability:.2f}</td>"
                f"<td class='rule'>{e(informant_reason(i, scores.rules, _))}</td><td>{e(_rationale(i))}</td></tr>"
            )
        parts.append("</table>")
        for i in h.informants:
            for q in i.quotes:
                parts.append(f"<blockquote>{e(_cite(q, _))}</blockquote>")
    parts.append("</body></html>")
    return "\n".join(parts)


def to_xlsx(scores: Scores, path: Path, lang: str = DEFAULT_LANGUAGE) -> None:
    """One sheet per hypothesis plus every coded segment behind the verdicts."""
    from openpyxl import Workbook

    _ = translator(lang)
    wb = Workbook()
    wb.remove(wb.active)
    for h in scores.hypotheses:
        ws = wb.create_sheet(h.id)
        ws.append([h.id, h.statement])
        ws.append([_("Overall"), verdict_word(h.verdict, _), _hypothesis_reason(h, scores, _)])
        ws.append([])
        ws.append([_("Informant"), _("Supporting"), _("Contradicting"), _("Sentences"), _("Share"), _("Verdict"), _("Stability"), _("Rule"),
                   _("Rule verdict"), _("Researcher's verdict"), _("Rationale"), _("Stale")])
        for i in h.informants:
            r = i.researcher
            ws.append([i.informant, i.supporting, i.contradicting, i.sentences, round(i.share, 4), verdict_word(i.decided, _),
                       round(i.stability, 3), informant_reason(i, scores.rules, _), verdict_word(i.verdict, _),
                       verdict_word(r.verdict, _) if r else None, r.rationale if r else None, r.stale if r else False])
    ws = wb.create_sheet(_("segments"))
    ws.append([_("Hypothesis"), _("Informant"), _("Document"), _("Line"), _("Start"), _("End"), _("Code"), _("Stance"),
               _("Reviewed"), _("Score"), _("Text")])
    for h in scores.hypotheses:
        for i in h.informants:
            for q in i.quotes:
                ws.append([h.id, q.informant, q.document, q.line, q.start, q.end, q.code, verdict_word(q.stance, _), q.reviewed, q.score, q.text])
    with atomic_output(path) as tmp:
        wb.save(tmp)
