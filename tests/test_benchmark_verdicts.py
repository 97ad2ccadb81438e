"""Hypothesis verdicts along the simulated learning curve (issue 6: "and along the learning curve")."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from coder.codebook import Code, Codebook, Group, Hypothesis
from coder.review.simulate import reviewed_to_reach, simulate, verdict_evaluator
from coder.review.strategies import RandomOrder
from coder.score import Evidence, ScoringRules, score_hypotheses, verdict_agreement, verdicts

BOOK = Codebook(
    "t", 1, "T", codes=(Code("a", "A", "g", "", "#000"), Code("b", "B", "g", "", "#000")), groups=(Group("g", "G"),),
    hypotheses=(Hypothesis("H1", "a matters", ("a",)), Hypothesis("H2", "b matters", ("b",))),
)
RULES = ScoringRules(bootstrap=0)
CODES = ("a", "b")


def test_benchmark_verdicts_from_codings_match_score_hypotheses():
    codings = {1: {"a": "supports"}, 2: {"a": "supports"}, 3: {"a": "supports", "b": "contradicts"}, 4: {"b": "supports"}}
    informant_of = {1: "A", 2: "A", 3: "A", 4: "B"}
    counts = {"A": 10, "B": 10}
    v = verdicts(codings, informant_of, counts, BOOK, RULES)
    # H1: A has 3 supporting sentences, B none; 1 of 2 informants support -> confirmed.
    # H2: A 1 contradicting -> contradicts; B 1 supporting (< min_segments 2) -> partly; (0 + 0.5) / 2 >= 0.25.
    assert v == {"H1": ("confirmed", {"A": "supports", "B": "no_evidence"}),
                 "H2": ("partly_confirmed", {"A": "contradicts", "B": "partly"})}
    ev = [Evidence(informant_of[sid], "doc", sid, 0, 1, 1, "x", code, st, True) for sid, cs in codings.items() for code, st in cs.items()]
    full = score_hypotheses(ev, counts, BOOK, RULES)
    assert {h.id: (h.verdict, {i.informant: i.verdict for i in h.informants}) for h in full.hypotheses} == v
    fewer = verdicts({k: c for k, c in codings.items() if k != 4}, informant_of, counts, BOOK, RULES)
    assert verdict_agreement(v, fewer) == {"cells": 0.75, "overall": 0.5}


def _pool(n: int = 90):
    """Two codes learnable from the first two features; informant A's b-sentences contradict H2."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    Y = np.stack([X[:, 0] > 0.5, X[:, 1] > 0.5], 1).astype(int)
    informants = [("A", "B", "C")[i % 3] for i in range(n)]
    gold = [{c: "contradicts" if c == "b" and informants[i] == "A" else "supports" for c, on in zip(CODES, Y[i]) if on}
            for i in range(n)]
    base_X = np.vstack([np.eye(4)[:2] * 3, -np.eye(4)[:2] * 3])
    base_Y = np.array([[1, 0], [0, 1], [0, 0], [0, 0]])
    return X, Y, informants, gold, base_X, base_Y


def test_benchmark_verdicts_all_reviewed_is_gold_and_stance_needs_review():
    X, Y, informants, gold, *_ = _pool()
    evaluate = verdict_evaluator(gold, informants, Counter(informants), BOOK, RULES)
    everything = evaluate(list(range(len(X))), Y.astype(bool))
    assert everything == {"verdict_agreement": 1.0, "overall_verdict_agreement": 1.0}
    # Perfect codes but nothing reviewed: predicted codes carry "supports", so A's contradicting H2 is missed.
    unreviewed = evaluate([], Y.astype(bool))
    assert unreviewed["verdict_agreement"] < 1.0
    a_rows = [i for i, inf in enumerate(informants) if inf == "A"]
    assert evaluate(a_rows, Y.astype(bool))["verdict_agreement"] == 1.0


def test_benchmark_verdicts_along_simulated_curves_reproducible():
    X, Y, informants, gold, base_X, base_Y = _pool()
    evaluate = verdict_evaluator(gold, informants, Counter(informants), BOOK, RULES)
    strategies = {"random": lambda s: RandomOrder(s)}
    pts = simulate(X, Y, informants, base_X, base_Y, strategies, seeds=(1,), batch=30, steps=1, evaluate=evaluate)["random seed 1"]
    assert [p["reviewed"] for p in pts] == [0, 30]
    assert all(set(p) == {"reviewed", "f1", "kappa", "verdict_agreement", "overall_verdict_agreement"} for p in pts)
    assert all(0 <= p["verdict_agreement"] <= 1 and 0 <= p["overall_verdict_agreement"] <= 1 for p in pts)
    assert simulate(X, Y, informants, base_X, base_Y, strategies, seeds=(1,), batch=30, steps=1, evaluate=evaluate)["random seed 1"] == pts
    # The evaluation only adds keys: the curve itself is the one simulate gives without it.
    plain = simulate(X, Y, informants, base_X, base_Y, strategies, seeds=(1,), batch=30, steps=1)["random seed 1"]
    assert plain == [{k: p[k] for k in ("reviewed", "f1", "kappa")} for p in pts]


@pytest.mark.parametrize("second, expected", [(1.0, 10), (0.9, None)])
def test_benchmark_verdicts_reviewed_to_gold(second, expected):
    curves = {"random seed 1": [{"reviewed": 0, "verdict_agreement": 0.5}, {"reviewed": 10, "verdict_agreement": 1.0}],
              "random seed 2": [{"reviewed": 0, "verdict_agreement": 1.0}, {"reviewed": 10, "verdict_agreement": second}]}
    assert reviewed_to_reach(curves, "random", 1.0, key="verdict_agreement") == expected


def test_benchmark_verdicts_html_plot():
    from coder.agreement_report import benchmark_html

    pts = [{"reviewed": n, "f1": 0.1 * k, "kappa": 0.1 * k, "verdict_agreement": 0.5 + 0.25 * k} for k, n in enumerate((0, 25, 50))]
    result = {"gold": "gold", "sentences": 100, "curves": {"uncertainty seed 1": pts, "random seed 1": pts},
              "reviewed_to_reach_kappa": {"uncertainty": {"0.6": None, "0.8": None}, "random": {"0.6": None, "0.8": None}},
              "reviewed_to_gold_verdicts": {"uncertainty": 50, "random": None}}
    page = benchmark_html(result, "en")
    assert page.count("data:image/png;base64,") == 2 and "alt='verdict agreement curves'" in page
    assert "uncertainty 50 reviewed sentences" in page and "random never within the run" in page


def _transcript(name: str) -> str:
    council = ["Byrådet kunne aldrig blive enige.", "Samarbejdet i byrådet var umuligt.", "Oppositionen i byrådet blokerede alt."]
    threats = ["Jeg fik trusler på nettet.", "Der kom en trussel i postkassen.", "Nogen sendte trusler til min familie."]
    other = ["Det var en tirsdag.", "Jeg har to børn.", "Sådan var det bare.", "Vejret var godt den sommer."]
    lines = [f"Interview: {name}", f"Informant: {name.title()} Test", "", "I: Fortæl.", ""]
    for k in range(4):
        lines += [f"{name.title()}: " + " ".join(council + threats + other[k:] + other[:k]), "", "I: Og så?", ""]
    return "\n".join(lines)


def test_benchmark_verdicts_project_json_and_cli(project, tmp_path, runner, monkeypatch):
    from coder import encoders
    from coder.cli import app

    class KeywordEncoder:
        """Two keyword features: enough for the head to learn both codes offline and fast."""

        name, trainable = "keywords", False

        def encode(self, texts, *, query=False, progress=False):
            return np.array([[("byråd" in t.lower()) * 2.0, ("trussel" in t.lower() or "trusler" in t.lower()) * 2.0, 1.0] for t in texts])

    # Patch the cache behind get_encoder, not get_encoder itself: modules first imported during this
    # test (classify.train) would otherwise bind the fake for the rest of the session.
    monkeypatch.setattr(encoders, "_shared_encoder", lambda name: KeywordEncoder())
    src = tmp_path / "in"
    src.mkdir()
    for name in ("anna", "bo"):
        (src / f"{name}.txt").write_text(_transcript(name), encoding="utf-8")
    project.add_transcripts(sorted(src.iterdir()))
    spans = []
    for name in ("anna", "bo"):
        text = project.store.document_text(name)
        for word, code in (("byråd", "h1.council"), ("trussel", "h3.harassment"), ("trusler", "h3.harassment")):
            at = text.find(word)
            while at >= 0:
                start = max(text.rfind(". ", 0, at), text.rfind(": ", 0, at)) + 2
                end = text.index(".", at) + 1
                spans.append({"document": name, "start": start, "end": end, "codes": [code],
                              "stance": "contradicts" if name == "bo" and code == "h1.council" else "supports"})
                at = text.find(word, end)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(s, ensure_ascii=False) for s in spans) + "\n", encoding="utf-8")
    assert not project.import_codings(gold, "gold").problems
    r = project.benchmark("gold", seeds=(1,), batch=25, steps=1)
    assert set(r["reviewed_to_gold_verdicts"]) == {"uncertainty", "random"}
    for pts in r["curves"].values():
        assert [p["reviewed"] for p in pts] == [0, 25]
        assert {"verdict_agreement", "overall_verdict_agreement"} <= set(pts[0])
    # bo's council sentences contradict H1 in gold; a model without stance cannot see that before review.
    assert r["curves"]["random seed 1"][0]["verdict_agreement"] < 1.0
    json.dumps(r)
    monkeypatch.setattr(type(project), "benchmark", lambda self, gold, **kw: r)  # the CLI's printing, not a second run
    out = runner.invoke(app, ["benchmark", str(project.path), "--gold", "gold", "--seeds", "1"])
    assert out.exit_code == 0, out.output
    first = r["curves"]["uncertainty seed 1"][0]["verdict_agreement"]
    assert f"uncertainty seed 1  0:{first:.2f} 25:" in out.output.split("verdict agreement with gold")[1]
    assert "all verdicts as gold after: uncertainty " in out.output
