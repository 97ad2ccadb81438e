"""Benchmark the review loop: next-item latency, background retraining, and an active-learning simulation.

1. Latency: a project of >= 20,000 informant sentences (shuffled copies of the demo transcripts, as in
   bench_precode.py, pre-coded with a tf-idf model to keep set-up short), served by the real app through
   Starlette's test client; a decision followed by the next item, repeated; median and p95 in ms.
2. Retraining: one background round on the demo project (default recipe: e5 head, bundled seed set).
3. Simulation on the demo gold transcripts: the pool is every informant sentence of the four
   transcripts; the model starts from the thesis quotes and codebook examples only; a simulated
   reviewer answers each batch of 25 with the gold codes; the head is refitted after each batch;
   micro-F1 is measured on the sentences not yet reviewed. Uncertainty vs random, two seeds each.

    .venv/bin/python scripts/bench_review.py [--skip-latency] [--json]
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


def simulate(batch: int = 25, steps: int = 16, seeds: tuple[int, ...] = (1, 2)) -> dict:
    from coder.codebook import load_codebook
    from coder.encoders import get_encoder
    from coder.review.simulate import simulate as run
    from coder.review.strategies import RandomOrder, Uncertainty
    from coder.training import codebook_examples, label_matrix, read_gold_transcript, read_seed_jsonl

    book = load_codebook("politisk-exit")
    pool = []
    for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
        pool += read_gold_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt", gold)
    base = read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book) + codebook_examples(book)
    enc = get_encoder("e5-small.v1")
    curves = run(
        enc.encode([e.text for e in pool]), label_matrix(pool, book.code_ids), [e.group for e in pool],
        enc.encode([e.text for e in base]), label_matrix(base, book.code_ids),
        {"uncertainty": lambda s: Uncertainty(), "random": lambda s: RandomOrder(s)}, seeds=seeds, batch=batch, steps=steps,
    )
    return {name: [(p["reviewed"], round(p["f1"], 3)) for p in pts] for name, pts in curves.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-simulation", action="store_true")
    ap.add_argument("--sentences", type=int, default=20000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {}
    if not args.skip_latency:
        out["latency"] = latency(args.sentences)
    if not args.skip_simulation:
        out["retrain"] = retrain_round()
        out["simulation"] = simulate()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for k in ("latency", "retrain"):
        if k in out:
            print(k, out[k])
    print("\nactive-learning simulation (micro-F1 on unreviewed demo sentences after n reviewed):")
    for name, pts in out.get("simulation", {}).items():
        print(f"{name:<20}" + " ".join(f"{n}:{f}" for n, f in pts))


if __name__ == "__main__":
    main()
