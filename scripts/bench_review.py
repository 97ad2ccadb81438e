"""Benchmark the review loop: next-item latency, background retraining, and an active-learning simulation.

1. Latency: a project of >= 20,000 informant sentences (shuffled copies of the demo transcripts, as in
   bench_precode.py, pre-coded with a tf-idf model to keep set-up short), served by the real app through
   Starlette's test client; a decision followed by the next item, repeated; median and p95 in ms.
2. Retraining: one background round on the demo project (default recipe: e5 head, bundled seed set).
3. Simulation on new interviews (`simulate`): a simulated reviewer answers each batch of 50 with the
   gold codes, the head (default recipe's features) is refitted after each batch, and micro-F1 and
   kappa are measured on the sentences not yet reviewed. Uncertainty vs random.

    .venv/bin/python scripts/bench_review.py [--skip-latency] [--simulation-data corpus|demo] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def latency(n_sentences: int, decisions: int = 60) -> dict:
    from bench_precode import make_corpus
    from starlette.testclient import TestClient

    from coder.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = make_corpus(tmp / "corpus", n_sentences)
        proj = tmp / "p"
        run = lambda *a: subprocess.run([sys.executable, "-m", "coder", *a], check=True, capture_output=True)  # noqa: E731
        run("init", str(proj))
        run("ingest", str(proj), str(tmp / "corpus"))
        run("train", str(proj), "--encoder", "tfidf.v1")
        run("precode", str(proj))
        base = "http://127.0.0.1:8765"  # the app answers only its own loopback origin
        client = TestClient(create_app(proj, "bench", retrain_every=0), base_url=base, headers={"Origin": base})
        t0 = time.perf_counter()
        item = client.get("/api/next").json()["item"]
        first = time.perf_counter() - t0
        times = []
        for _ in range(decisions):
            t = time.perf_counter()
            client.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}, "token": item["token"]})
            item = client.get("/api/next").json()["item"]
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return {"sentences": n, "first_item_s": round(first, 2), "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * len(times)) - 1], 1), "decisions": decisions}


def retrain_round() -> dict:
    from coder import Project
    from coder.review.session import Retrainer

    with tempfile.TemporaryDirectory() as tmp:
        with Project.init(Path(tmp) / "p") as proj:
            proj.add_transcripts([ROOT / "data/demo/transcripts"])
            proj.precode("default")
            for sid in proj.review_queue("bench", "sequential")[:10]:
                proj.decide(sid, "bench", {})
        entry = Retrainer(Path(tmp) / "p", every=10).run_round()
        return entry or {}


def encoder_round(labels: int = 2000) -> dict:
    """One background encoder round (contrastive, as `coder serve` runs it every --encoder-every
    decisions) on a project whose reviewer has decided ``labels`` sentences (gold codes of corpus dev
    interviews), plus the bundled seed set; then the head round that follows it."""
    from coder import Project
    from coder.review.session import Retrainer
    from coder.training import read_gold_transcript

    split = json.loads((ROOT / "data/corpus/splits.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p"
        files = [ROOT / "data/corpus/transcripts" / f"{n}.txt" for n in split["dev"][:5]]
        with Project.init(path) as proj:
            proj.add_transcripts(files)
            gold = [e for f in files for e in read_gold_transcript(f, ROOT / "data/corpus/gold" / f"{f.stem}.jsonl")]
            rows = proj.sentences(role="informant")
            assert [r.text for r in rows] == [e.text for e in gold]
            for r, e in list(zip(rows, gold))[:labels]:
                proj.decide(r.id, "bench", {c: e.stance or "supports" for c in e.codes})
        retrainer = Retrainer(path)
        encoder = retrainer.run_round(encoder=True) or {"error": retrainer.error}
        head = retrainer.run_round() or {"error": retrainer.error}
        return {"labels": labels, "encoder_round": encoder, "head_round_after": head}


def simulate(data: str = "corpus", batch: int = 50, steps: int = 8, seeds: tuple[int, ...] = (1,)) -> dict:
    """Active learning on interviews the model has not seen, with the default recipe's features.

    ``corpus``: the pool is every informant sentence of the corpus' five test interviews; the model
    starts from what the shipped default learnt (demo gold, corpus dev interviews, thesis quotes,
    codebook examples), as a researcher starting on new interviews would. ``demo``: the pool is the
    four demo transcripts and the start is the thesis quotes and codebook examples only.
    """
    from coder.classify.head import HeadSettings
    from coder.classify.model import CodeModel, shipped_default
    from coder.codebook import load_codebook
    from coder.review.simulate import reviewed_to_reach, simulate as run
    from coder.review.strategies import RandomOrder, Uncertainty
    from coder.training import codebook_examples, label_matrix, read_gold_transcript, read_seed_jsonl

    book = load_codebook("politisk-exit")
    model = CodeModel.load(shipped_default(book.id))
    quotes = read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book) + codebook_examples(book)
    demo = [e for g in sorted((ROOT / "data/demo/gold").glob("*.jsonl"))
            for e in read_gold_transcript(ROOT / "data/demo/transcripts" / f"{g.stem}.txt", g)]
    if data == "corpus":
        split = json.loads((ROOT / "data/corpus/splits.json").read_text(encoding="utf-8"))
        read = lambda names: [e for n in names for e in read_gold_transcript(  # noqa: E731
            ROOT / "data/corpus/transcripts" / f"{n}.txt", ROOT / "data/corpus/gold" / f"{n}.jsonl")]
        pool, base = read(split["test"]), demo + read(split["dev"]) + quotes
    else:
        pool, base = demo, quotes

    def features(examples):
        return model.features([e.text for e in examples], None, [e.window for e in examples])

    curves = run(
        features(pool), label_matrix(pool, book.code_ids), [e.group for e in pool],
        features(base), label_matrix(base, book.code_ids),
        {"uncertainty": lambda s: Uncertainty(), "random": lambda s: RandomOrder(s)}, seeds=seeds, batch=batch, steps=steps,
        head=HeadSettings(min_positives=2, folds=3),
    )
    return {"data": data, "pool": len(pool), "base": len(base), "model": model.id,
            "curves": {name: [(p["reviewed"], round(p["f1"], 3), None if p["kappa"] is None else round(p["kappa"], 3))
                              for p in pts] for name, pts in curves.items()},
            "reviewed_to_kappa_0.6": {s: reviewed_to_reach(curves, s, 0.6) for s in ("uncertainty", "random")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-simulation", action="store_true")
    ap.add_argument("--sentences", type=int, default=20000)
    ap.add_argument("--simulation-data", choices=("corpus", "demo"), default="corpus")
    ap.add_argument("--encoder-round", action="store_true", help="also time one background encoder round on 2,000 labels")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {}
    if not args.skip_latency:
        out["latency"] = latency(args.sentences)
    if args.encoder_round:
        out["encoder_round"] = encoder_round()
    if not args.skip_simulation:
        out["retrain"] = retrain_round()
        out["simulation"] = simulate(args.simulation_data)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for k in ("latency", "retrain", "encoder_round"):
        if k in out:
            print(k, out[k])
    sim = out.get("simulation")
    if sim:
        print(f"\nactive-learning simulation on {sim['data']} ({sim['pool']} new sentences, start: {sim['base']} labelled, "
              f"{sim['model']} features); micro-F1 / kappa on the unreviewed sentences after n reviewed:")
        for name, pts in sim["curves"].items():
            print(f"{name:<20}" + " ".join(f"{n}:{f}/{k}" for n, f, k in pts))
        print("reviewed to reach kappa 0.6:", sim["reviewed_to_kappa_0.6"])


if __name__ == "__main__":
    main()
