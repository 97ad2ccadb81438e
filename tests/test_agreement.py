from __future__ import annotations

import json

import numpy as np
import pytest

from coder.agreement import agreement, cohen_kappa, gwet_ac1, kripp_alpha
from coder.errors import InvalidRequestError, ProjectError, UnknownCodeError


def test_agreement_kappa_hand_computed():
    a = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 0])
    b = np.array([1, 0, 0, 0, 1, 0, 1, 0, 1, 0])
    # po = 0.8; pe = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = 0.28 / 0.48
    assert cohen_kappa(a, b) == pytest.approx(0.28 / 0.48)
    # AC1: pi = 0.4, pe = 2*0.4*0.6 = 0.48; (0.8 - 0.48) / 0.52
    assert gwet_ac1(a, b) == pytest.approx(0.32 / 0.52)


def test_agreement_alpha_hand_computed():
    # Two coders, binary, 4 units: (1,1) (0,0) (1,0) (0,0). Coincidences: o11=2, o00=4, o01=o10=1; n=8,
    # n1=3, n0=5; De = 2*3*5/(8*7); Do = 2/8; alpha = 1 - Do/De = 1 - 0.25/(30/56)
    data = np.array([[1, 0, 1, 0], [1, 0, 0, 0]], dtype=float)
    assert kripp_alpha(data) == pytest.approx(1 - 0.25 / (30 / 56))


def test_agreement_undefined_is_none_not_zero():
    zeros = np.zeros(5, int)
    assert cohen_kappa(zeros, zeros) is None
    assert kripp_alpha(np.zeros((2, 5))) is None


def test_agreement_missing_units_allowed_for_alpha():
    codings = {"a": {1: {"x"}, 2: set(), 3: {"x"}}, "b": {1: {"x"}, 2: set()}, "c": {1: {"x"}, 3: {"x"}, 2: {"x"}}}
    r = agreement(codings, [1, 2, 3], ["x"], {"x": "g"})
    assert r["unit"] == "sentence" and r["n_units"] == 3
    assert set(r["codes"]["x"]) >= {"kappa", "alpha", "percent", "precision", "recall", "f1", "ci95", "ac1", "prevalence"}
    assert r["codes"]["x"]["percent"] == 1.0  # a and b agree on the two units both coded
    assert r["overall"]["alpha"] is not None


def test_agreement_bootstrap_intervals_match_the_point_formulas():
    from coder.agreement import _bootstrap_ci, bootstrap_weights

    rng = np.random.default_rng(0)
    a = rng.random(120) < 0.3
    b = np.where(rng.random(120) < 0.8, a, ~a)
    units = np.array([f"{i:03d}" for i in range(120)])  # every sentence its own cluster
    ci = _bootstrap_ci(a, b, units, np.random.default_rng(5))
    # The same resamples, expanded to unit indices, through the scalar functions give the same percentiles.
    _, W = bootstrap_weights(units, np.random.default_rng(5))
    idx = [np.repeat(np.arange(120), w) for w in W]
    kappas = [cohen_kappa(a[i], b[i]) for i in idx]
    ac1s = [gwet_ac1(a[i].astype(int), b[i].astype(int)) for i in idx]
    assert ci["kappa"] == pytest.approx([np.percentile(kappas, 2.5), np.percentile(kappas, 97.5)])
    assert ci["ac1"] == pytest.approx([np.percentile(ac1s, 2.5), np.percentile(ac1s, 97.5)])
    for key, point in (("kappa", cohen_kappa(a, b)), ("percent", float(np.mean(a == b)))):
        assert ci[key][0] < point < ci[key][1]
    assert _bootstrap_ci(np.zeros(30, bool), np.zeros(30, bool), units[:30], rng)["kappa"] is None  # undefined every time


def test_agreement_document_bootstrap_keeps_interviews_together():
    from coder.agreement import bootstrap_weights

    docs = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    labels, W = bootstrap_weights(docs, np.random.default_rng(1), n_boot=300)
    assert list(labels) == ["a", "b", "c"] and W.shape == (300, 3) and (W.sum(1) == 3).all()
    # Coders agree perfectly in document a and never in c: resampling documents spreads percent
    # agreement far wider than resampling the 100 sentences does.
    a = np.r_[np.ones(50), np.zeros(30), np.ones(20)].astype(bool)
    b = np.r_[np.ones(50), np.zeros(30), np.zeros(20)].astype(bool)
    codings = {"x": {i: {"c"} if a[i] else set() for i in range(100)}, "y": {i: {"c"} if b[i] else set() for i in range(100)}}
    by_sentence = agreement(codings, list(range(100)), ["c"], {"c": "g"})
    by_document = agreement(codings, list(range(100)), ["c"], {"c": "g"}, clusters=dict(enumerate(docs.tolist())))
    assert by_document["bootstrap"] == {"resamples": 200, "unit": "document", "clusters": 3}
    assert by_sentence["bootstrap"]["unit"] == "sentence" and by_sentence["bootstrap"]["clusters"] == 100
    width = {k: r["codes"]["c"]["ci95"]["percent"][1] - r["codes"]["c"]["ci95"]["percent"][0]
             for k, r in (("sentence", by_sentence), ("document", by_document))}
    assert width["document"] > 2 * width["sentence"]
    assert by_document["codes"]["c"]["percent"] == by_sentence["codes"]["c"]["percent"] == 0.8


def test_agreement_needs_two_coders():
    with pytest.raises(Exception, match="at least two coders"):
        agreement({"a": {}}, [], ["x"], {"x": "g"})


def test_agreement_import_codings_and_model_as_coder(ingested, seed_file_path, tmp_path):
    from coder.classify.train import TrainSettings

    text = ingested.store.document_text("lene")
    start = text.index("Jeg fik en dødstrussel")
    end = text.index("nu er det nok.") + len("nu er det nok.")
    spans = tmp_path / "gold.jsonl"
    rows = [
        {"document": "lene", "start": start, "end": end, "codes": ["h3.harassment"], "stance": "supports", "text": text[start:end]},
        {"document": "lene", "start": 0, "end": 5, "codes": ["h1.council"]},  # in the header: no informant sentence
        {"document": "lene", "start": 10, "end": 99999, "codes": ["h1.council"]},
        {"document": "nope", "start": 0, "end": 5, "codes": []},
    ]
    spans.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    report = ingested.import_codings(spans, "gold")
    assert report.sentences == len(ingested.sentences(role="informant"))
    assert any("covers no informant sentence" in p for p in report.problems)
    assert any("outside 'lene'" in p for p in report.problems) and any("no document named 'nope'" in p for p in report.problems)
    gold = ingested.codings("gold")
    assert sum(1 for c in gold.values() if c) == 1
    ingested.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
    ingested.precode()
    r = ingested.agreement(["gold", "model"])
    assert r["coders"] == ["gold", "model"] and "h3.harassment" in r["codes"] and "group:h3" in r["codes"]


def test_agreement_bad_inputs(ingested, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"document": "lene", "start": 0, "end": 3, "codes": ["h9.x"]}\n', encoding="utf-8")
    with pytest.raises(UnknownCodeError, match="line 1: unknown code h9.x"):
        ingested.import_codings(bad, "x")
    with pytest.raises(ProjectError, match="The coder 'nobody' has no decisions"):
        ingested.codings("nobody")
    with pytest.raises(InvalidRequestError, match="Unknown bootstrap unit 'weekly'; use --bootstrap sentence or --bootstrap document."):
        ingested.agreement(["a", "b"], bootstrap="weekly")


def test_agreement_import_overlapping_spans_with_both_stances_are_reported(ingested, tmp_path):
    text = ingested.store.document_text("lene")
    start = text.index("Jeg fik en dødstrussel")
    rows = [{"document": "lene", "start": start, "end": start + 20, "codes": ["h3.harassment"], "stance": s}
            for s in ("supports", "contradicts")]
    spans = tmp_path / "both.jsonl"
    spans.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    report = ingested.import_codings(spans, "gold")
    assert [p for p in report.problems if "both stances" in p] == [
        next(f"spans in 'lene' overlapping {s.start}-{s.end} give h3.harassment both stances; kept contradicts"
             for s in ingested.sentences(role="informant") if s.start <= start < s.end)
    ]
    (sid,) = [k for k, v in ingested.codings("gold").items() if v]
    assert ingested.store.current_decisions(sid, "gold") == [("h3.harassment", True, "contradicts")]


def test_agreement_simulation_learns_and_reports_targets():
    from coder.review.simulate import reviewed_to_reach, simulate
    from coder.review.strategies import RandomOrder, Uncertainty

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    Y = np.stack([X[:, 0] > 0.8, X[:, 1] > 0.8], 1).astype(int)
    base_X, base_Y = X[:0], Y[:0]
    base_X = np.vstack([np.eye(6)[:2] * 3, -np.eye(6)[:2] * 3])
    base_Y = np.array([[1, 0], [0, 1], [0, 0], [0, 0]])
    curves = simulate(X, Y, [str(i % 5) for i in range(300)], base_X, base_Y,
                      {"uncertainty": lambda s: Uncertainty(), "random": lambda s: RandomOrder(s)}, seeds=(1,), batch=30, steps=4)
    assert set(curves) == {"uncertainty seed 1", "random seed 1"}
    pts = curves["uncertainty seed 1"]
    assert [p["reviewed"] for p in pts] == [0, 30, 60, 90, 120] and pts[-1]["kappa"] > 0.6
    assert reviewed_to_reach(curves, "uncertainty", 0.6) is not None
    assert reviewed_to_reach(curves, "uncertainty", 1.01) is None
    again = simulate(X, Y, [str(i % 5) for i in range(300)], base_X, base_Y, {"random": lambda s: RandomOrder(s)}, seeds=(1,), batch=30, steps=2)
    assert again["random seed 1"] == curves["random seed 1"][:3]  # reproducible with a seed


def test_agreement_benchmark_needs_enough_gold(ingested, tmp_path):
    spans = tmp_path / "g.jsonl"
    spans.write_text('{"document": "lene", "start": 0, "end": 5, "codes": []}\n', encoding="utf-8")
    ingested.import_codings(spans, "gold")
    with pytest.raises(ProjectError, match="a benchmark needs at least 20"):
        ingested.benchmark("gold")


def test_agreement_benchmark_html_report():
    from coder.agreement_report import benchmark_html

    pts = [{"reviewed": n, "f1": 0.1 * k, "kappa": 0.1 * k} for k, n in enumerate((0, 25, 50))]
    result = {"gold": "gold", "sentences": 100, "curves": {"uncertainty seed 1": pts, "random seed 1": pts},
              "reviewed_to_reach_kappa": {"uncertainty": {"0.6": None, "0.8": None}, "random": {"0.6": None, "0.8": None}},
              "model_vs_gold": {"codes": {"a": {"kappa": 0.5, "ci95": {"kappa": [0.3, 0.7]}}, "group:g": {"kappa": 0.5, "ci95": {"kappa": None}}},
                                "confusion": {"a": {"a": 3, "none": 1}, "none": {"none": 10}}},
              "verdicts": {"agreement": 0.5, "cells": [{"hypothesis": "H1", "informant": "A", "gold": "supports", "model": "partly"}]}}
    page = benchmark_html(result, "en")
    assert page.count("data:image/png;base64,") == 3 and "<script" not in page and "partly" in page


def test_agreement_pairs_show_every_coder_pair():
    codings = {"h1": {1: {"x"}, 2: set(), 3: {"x"}}, "h2": {1: {"x"}, 2: set(), 3: set()}, "model": {1: {"x"}, 2: {"x"}, 3: {"x"}}}
    r = agreement(codings, [1, 2, 3], ["x"], {"x": "g"})
    assert set(r["pairs"]) == {"h1 ~ h2", "h1 ~ model", "h2 ~ model"}
    assert r["pairs"]["h1 ~ h2"]["units"] == 3
