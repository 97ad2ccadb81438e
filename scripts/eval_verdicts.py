"""Check the verdict rules: the thesis' own verdicts, and verdicts on the demo gold transcripts.

1. Thesis: score data/thesis/quotes_dev.jsonl (the quotes the thesis prints, with its codes and
   stances; "neutral" counts as supporting, as an unmarked proposal does) and compare every
   informant verdict with data/thesis/verdicts_dev.json. The quotes are only a sample of each
   interview (3-20 per person), so the share-of-sentences rule cannot apply: each informant's
   sentence count is taken as their number of quotes, and min_segments is reported for 1 and 2.
2. Demo gold: score the four demo transcripts from their gold coding (every informant sentence),
   for reading against data/demo/README.md's description of each interview.
3. Old rule vs new rule (issue 12) on the thesis cells: the old rule is the new one without sides
   and with secondary_salience 0 (no salience check). The new rule's secondary_salience is also
   chosen leave-one-informant-out from a fixed grid: for each informant, the value that agrees best
   on the other informants' cells (ties to the codebook default) scores the held-out informant's
   cells, so the figure is not fitted to the cells it is tested on.

    .venv/bin/python scripts/eval_verdicts.py [--json]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from coder.codebook import load_codebook
from coder.ingest import read_transcript
from coder.score import Evidence, ScoringRules, score_hypotheses
from coder.segment import split_sentences
from coder.spans import map_spans
from coder.training import find_quotes

ROOT = Path(__file__).resolve().parent.parent


def thesis(book, rules: ScoringRules) -> dict:
    rows = [json.loads(l) for l in (ROOT / "data/thesis/quotes_dev.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    truth = json.loads((ROOT / "data/thesis/verdicts_dev.json").read_text(encoding="utf-8"))
    evidence = [
        Evidence(r["informant"], "thesis", i, 0, 0, 0, r["text"], code, "contradicts" if r["stance"] == "contradicts" else "supports", True)
        for i, r in enumerate(rows)
        for code in r["codes"]
    ]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["informant"]] = counts.get(r["informant"], 0) + 1
    scores = score_hypotheses(evidence, counts, book, rules, source="thesis quotes")
    agree = total = 0
    table = []
    for h in scores.hypotheses:
        for i in h.informants:
            want = truth.get(h.id, {}).get("informants", {}).get(i.informant, {}).get("verdict")
            if want is None:
                continue
            total += 1
            agree += want == i.verdict
            table.append((h.id, i.informant, i.verdict, want, i.supporting, i.contradicting))
        table.append((h.id, "(overall)", h.verdict, truth.get(h.id, {}).get("overall_level"), None, None))
    return {"agreement": agree / total if total else None, "n": total, "table": table}


GRID = (0.0, 0.25, 1 / 3, 0.5, 2 / 3)


def old_and_new(book) -> dict:
    """Agreement of the old rule, the new rule (codebook defaults) and the new rule with LOIO-chosen salience."""
    base = {**book.scoring, "min_segments": 1, "min_share": 0.0}
    no_sides = replace(book, hypotheses=tuple(replace(h, sides=()) for h in book.hypotheses))
    old = thesis(no_sides, ScoringRules(**base, secondary_salience=0.0))
    new = thesis(book, ScoringRules(**base))
    by_value = {v: {(r[0], r[1]): r[2] == r[3] for r in thesis(book, ScoringRules(**{**base, "secondary_salience": v}))["table"]
                    if r[1] != "(overall)"} for v in GRID}
    informants = sorted({i for _, i in by_value[GRID[0]]})
    default = ScoringRules(**base).secondary_salience
    hits, chosen = 0, {}
    for held in informants:
        fit = {v: sum(ok for (_, i), ok in cells.items() if i != held) for v, cells in by_value.items()}
        best = max(GRID, key=lambda v: (fit[v], v == default))
        chosen[held] = round(best, 2)
        hits += sum(ok for (_, i), ok in by_value[best].items() if i == held)
    n = len(by_value[GRID[0]])
    return {"old rule": f"{round(old['agreement'] * old['n'])}/{old['n']}", "new rule": f"{round(new['agreement'] * new['n'])}/{new['n']}",
            "new rule, salience chosen leave-one-informant-out": f"{hits}/{n}", "chosen salience per held-out informant": chosen}


def demo(book, rules: ScoringRules) -> list:
    out = []
    evidence, counts = [], {}
    for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
        t = read_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt")
        segs = split_sentences(t)
        quotes = [json.loads(l) for l in gold.read_text(encoding="utf-8").splitlines() if l.strip()]
        per, _ = map_spans([(s.start, s.end) for s in segs], find_quotes(t.text, quotes, str(gold)))
        for k, (s, spans) in enumerate(zip(segs, per)):
            if t.turns[s.turn].role != "informant":
                continue
            counts[t.informant] = counts.get(t.informant, 0) + 1
            for sp in spans:
                for code in sp.codes:
                    evidence.append(Evidence(t.informant, t.name, k, s.start, s.end, 0, t.text[s.start:s.end], code, sp.stance or "supports", True))
    scores = score_hypotheses(evidence, counts, book, rules, source="demo gold")
    for h in scores.hypotheses:
        for i in h.informants:
            out.append((h.id, i.informant, i.verdict, i.supporting, i.contradicting, round(i.share, 3), round(i.stability, 2)))
        out.append((h.id, "(overall)", h.verdict, None, None, None, None))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    book = load_codebook("politisk-exit")
    base = ScoringRules.from_mapping(book.scoring)
    result = {
        f"thesis, min_segments={k}": thesis(book, ScoringRules(**{**book.scoring, "min_segments": k, "min_share": 0.0}))
        for k in (1, 2)
    }
    result["demo gold (codebook defaults)"] = demo(book, base)
    result["thesis: old rule vs new rule (min_segments=1)"] = old_and_new(book)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for name, r in result.items():
        print(f"\n== {name}")
        if isinstance(r, dict) and "table" not in r:
            for k, v in r.items():
                print(f"   {k}: {v}")
        elif isinstance(r, dict):
            print(f"informant verdict agreement with the thesis: {r['agreement']:.2f} ({r['n']} informant x hypothesis cells)")
            for row in r["table"]:
                print("  ", *row)
        else:
            for row in r:
                print("  ", *row)


if __name__ == "__main__":
    main()
