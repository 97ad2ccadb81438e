"""Check the verdict rule against verdicts a reader wrote: the thesis', and blind readers' on our interviews.

1. Thesis: score data/thesis/quotes_dev.jsonl (the quotes the thesis prints, with its codes and
   stances; "neutral" counts as supporting, as an unmarked proposal does) and compare every
   informant verdict with data/thesis/verdicts_dev.json. The quotes are only a sample of each
   interview (3-20 per person), so each informant's sentence count is their number of quotes and
   min_segments is 1.
2. Demo and corpus: score every informant sentence of the demo transcripts and the fifteen corpus
   interviews from their gold coding and compare with the verdicts blind readers wrote from the
   transcripts alone (data/demo/verdicts.json, data/corpus/verdicts.json; brief in
   data/corpus/verdicts-brief.md). Corpus dev and test interviews are reported apart; a second blind
   reading (verdicts-second.json) of the test and demo interviews gives the agreement of two readers.
3. From the model's proposals alone: the corpus test interviews (which no shipped model was trained
   on) pre-coded by the default model in a temporary project, scored as `coder score --source model`.
4. Old rule vs new rule (issue 12) everywhere: the old rule is the new one without sides and with
   secondary_salience 0 (no salience check). The new rule's secondary_salience is also chosen
   leave-one-informant-out from a fixed grid over the thesis and corpus dev cells: for each informant,
   the value that agrees best on the other informants' cells (ties to the codebook default) scores
   that informant's cells; the test interviews are scored with the value chosen on all of them.

Rules are designed on the thesis and corpus dev cells only; the demo and corpus test cells are scored
with --test, once the rule is fixed.

    .venv/bin/python scripts/eval_verdicts.py [--test [--no-model]] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from coder.codebook import Codebook, load_codebook
from coder.ingest import read_transcript
from coder.score import Evidence, Scores, ScoringRules, score_hypotheses
from coder.segment import split_sentences
from coder.spans import map_spans
from coder.training import find_quotes

ROOT = Path(__file__).resolve().parent.parent
GRID = (0.0, 0.25, 0.33, 0.5, 0.67)
Cells = dict[tuple[str, str], str]  # (hypothesis, informant) -> verdict
Scorer = Callable[[Codebook, ScoringRules], Cells]


def _scores(evidence: list[Evidence], counts: Mapping[str, int], book: Codebook, rules: ScoringRules) -> Scores:
    return score_hypotheses(evidence, counts, book, replace(rules, bootstrap=0), source="eval", quotes_per_informant=0)


def _cells(evidence: list[Evidence], counts: Mapping[str, int], book: Codebook, rules: ScoringRules) -> Cells:
    return {(h.id, i.informant): i.verdict for h in _scores(evidence, counts, book, rules).hypotheses for i in h.informants}


def thesis_scorer() -> tuple[Scorer, Cells]:
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
    want = {(h, i): v["verdict"] for h, t in truth.items() for i, v in t["informants"].items()}
    return (lambda book, rules: _cells(evidence, counts, book, replace(rules, min_segments=1, min_share=0.0))), want


def reader_verdicts(path: Path, files: set[str] | None = None) -> Cells:
    return {(h, r["informant"]): v["verdict"] for r in json.loads(path.read_text(encoding="utf-8"))
            if files is None or Path(r["file"]).stem in files for h, v in r["verdicts"].items()}


def gold_evidence(folder: Path, stems: list[str]) -> tuple[list[Evidence], dict[str, int]]:
    """Every informant sentence of the transcripts, coded by their gold files."""
    evidence, counts = [], {}
    for stem in stems:
        t = read_transcript(folder / "transcripts" / f"{stem}.txt")
        gold = folder / "gold" / f"{stem}.jsonl"
        segs = split_sentences(t)
        quotes = [json.loads(l) for l in gold.read_text(encoding="utf-8").splitlines() if l.strip()]
        per, _ = map_spans([(s.start, s.end) for s in segs], find_quotes(t.text, quotes, str(gold)))
        for k, (s, spans) in enumerate(zip(segs, per)):
            if t.turns[s.turn].role != "informant":
                continue
            counts[t.informant] = counts.get(t.informant, 0) + 1
            for sp in spans:
                for code in sp.codes:
                    evidence.append(Evidence(t.informant, t.name, hash((stem, k)), s.start, s.end, 0, t.text[s.start:s.end],
                                             code, sp.stance or "supports", True))
    return evidence, counts


def gold_scorer(folder: Path, stems: list[str]) -> Scorer:
    evidence, counts = gold_evidence(folder, stems)
    return lambda book, rules: _cells(evidence, counts, book, rules)


def main_reason_agreement(book: Codebook, folder: Path) -> str:
    """How often the hypothesis with the most supporting sentences (of those a leaver's reason can be) is
    the blind reader's main reason: what the salience check leans on."""
    readers = json.loads((folder / "verdicts.json").read_text(encoding="utf-8"))
    scores = _scores(*gold_evidence(folder, [Path(r["file"]).stem for r in readers]), book, ScoringRules.from_mapping(book.scoring))
    leave = {h.id for h in book.hypotheses if h.direction == "leave"}
    strongest = {i.informant: i.context.strongest for h in scores.hypotheses if h.id in leave for i in h.informants}
    hits = [strongest[r["informant"]] == r["main_reason"] for r in readers if r["main_reason"] in leave]
    return f"{sum(hits)}/{len(hits)} (informants whose main reason is a leave hypothesis)"


def model_scorer(files: list[Path]) -> Scorer:
    """The transcripts pre-coded by the shipped default model in a temporary project (`--source model`)."""
    from coder import Project

    with tempfile.TemporaryDirectory() as tmp, Project.init(Path(tmp) / "p") as proj:
        proj.add_transcripts(files)
        proj.precode("default")
        evidence, counts, _ = proj.evidence("model")
    return lambda book, rules: _cells(evidence, counts, book, rules)


def agreement(got: Cells, want: Cells) -> tuple[int, int]:
    keys = [k for k in want if k in got]
    missing = set(want) - set(got)
    if missing:
        raise SystemExit(f"verdicts for cells the scorer does not have (check informant names): {sorted(missing)[:3]}")
    return sum(got[k] == want[k] for k in keys), len(keys)


def rules_of(book: Codebook) -> dict[str, tuple[Codebook, ScoringRules]]:
    base = ScoringRules.from_mapping(book.scoring)
    no_sides = replace(book, hypotheses=tuple(replace(h, sides=()) for h in book.hypotheses))
    return {"old rule": (no_sides, replace(base, secondary_salience=0.0)), "new rule": (book, base)}


def loio_salience(book: Codebook, dev: list[tuple[Scorer, Cells]]) -> tuple[dict[float, dict], float]:
    """Per grid value, every dev cell's hit; and the value best on all dev cells (ties to the default)."""
    base = ScoringRules.from_mapping(book.scoring)
    hits = {}
    for v in GRID:
        hits[v] = {}
        for n, (score, want) in enumerate(dev):
            got = score(book, replace(base, secondary_salience=v))
            hits[v].update({(n, h, i): got[(h, i)] == w for (h, i), w in want.items()})
    best = max(GRID, key=lambda v: (sum(hits[v].values()), v == base.secondary_salience))
    return hits, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--test", action="store_true", help="also score the held-out cells (demo and corpus test interviews)")
    ap.add_argument("--no-model", action="store_true", help="with --test: skip pre-coding the test interviews with the default model (~1 min)")
    args = ap.parse_args()
    book = load_codebook("politisk-exit")
    splits = json.loads((ROOT / "data/corpus/splits.json").read_text(encoding="utf-8"))
    test = sorted(splits["test"])
    dev = sorted(p.stem for p in (ROOT / "data/corpus/transcripts").glob("*.txt") if p.stem not in test)
    demo_stems = sorted(p.stem for p in (ROOT / "data/demo/gold").glob("*.jsonl"))
    corpus = ROOT / "data/corpus"
    sets: dict[str, tuple[Scorer, Cells]] = {
        "thesis quotes (24 cells)": thesis_scorer(),
        "corpus dev, gold codes": (gold_scorer(corpus, dev), reader_verdicts(corpus / "verdicts.json", set(dev))),
    }
    if args.test:
        sets["demo, gold codes"] = (gold_scorer(ROOT / "data/demo", demo_stems), reader_verdicts(ROOT / "data/demo/verdicts.json"))
        sets["corpus test, gold codes"] = (gold_scorer(corpus, test), reader_verdicts(corpus / "verdicts.json", set(test)))
    if args.test and not args.no_model:
        sets["corpus test, default model's proposals"] = (
            model_scorer([corpus / "transcripts" / f"{s}.txt" for s in test]), reader_verdicts(corpus / "verdicts.json", set(test)))
    result: dict[str, dict] = {}
    for name, (score, want) in sets.items():
        row = {}
        for rule, (b, r) in rules_of(book).items():
            k, n = agreement(score(b, r), want)
            row[rule] = f"{k}/{n} ({k / n:.0%})"
        result[name] = row
    # salience chosen leave-one-informant-out on the tuning cells (thesis + corpus dev)
    tuning = [sets["thesis quotes (24 cells)"], sets["corpus dev, gold codes"]]
    hits, best = loio_salience(book, tuning)
    informants = sorted({(n, i) for (n, _, i) in hits[GRID[0]]})
    ok = total = 0
    for held in informants:
        fit = {v: sum(x for (n, _, i), x in cells.items() if (n, i) != held) for v, cells in hits.items()}
        v = max(GRID, key=lambda v: (fit[v], v == ScoringRules.from_mapping(book.scoring).secondary_salience))
        mine = [x for (n, _, i), x in hits[v].items() if (n, i) == held]
        ok, total = ok + sum(mine), total + len(mine)
    result["new rule, secondary_salience chosen leave-one-informant-out"] = {
        "thesis + corpus dev cells": f"{ok}/{total} ({ok / total:.0%})", "value chosen on all tuning cells": round(best, 2)}
    for name, (score, want) in sets.items():
        if name.startswith(("demo", "corpus test")):
            k, n = agreement(score(book, replace(ScoringRules.from_mapping(book.scoring), secondary_salience=best)), want)
            result[name]["new rule, salience chosen on the tuning cells"] = f"{k}/{n} ({k / n:.0%})"
    if not args.test:
        return _print(result, args.json)
    second = {}
    for folder, stems in ((corpus, test), (ROOT / "data/demo", demo_stems)):
        k, n = agreement(reader_verdicts(folder / "verdicts-second.json"), reader_verdicts(folder / "verdicts.json", set(stems)))
        second[f"{folder.name} ({len(stems)} interviews)"] = f"{k}/{n} ({k / n:.0%})"
    result["second blind reader vs first reader"] = second
    result["strongest hypothesis by supporting sentences = the reader's main reason"] = {
        folder.name: main_reason_agreement(book, folder) for folder in (corpus, ROOT / "data/demo")}
    _print(result, args.json)


def _print(result: dict[str, dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for name, row in result.items():
        print(f"\n== {name}")
        for k, v in row.items():
            print(f"   {k}: {v}")


if __name__ == "__main__":
    main()
