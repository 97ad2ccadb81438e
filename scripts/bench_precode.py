"""Benchmark `coder precode`: sentences per second end to end and peak memory, per encoder.

Builds a project of at least --sentences informant sentences from the demo transcripts. Each copy
shuffles the words inside every sentence with its own seed, so texts are unique (the encoder
memoises repeated sentences, and a corpus of verbatim copies would measure the memo, not the model)
while lengths and vocabulary stay realistic. Every measurement runs in a fresh process:

- `coder precode` with the shipped default model (e5-small.v1 + head; bfloat16 on CPUs with AMX,
  and then also forced to fp32 for comparison), and with a tfidf.v1 model;
- the naive baseline: a transformers feature-extraction pipeline over the same e5 weights, one
  sentence at a time (on a sample, scaled to sentences/s);
- head retraining on 5,000 labelled sentences with cached embeddings: the review loop's refit after
  10 more decisions (warm start), and a full fit with cross-validated calibration.

    .venv/bin/python scripts/bench_precode.py [--sentences 20000] [--naive-sample 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODER = [sys.executable, "-m", "coder"]


def make_corpus(out: Path, n_sentences: int) -> int:
    """Write shuffled copies of the demo transcripts until they hold n_sentences informant sentences."""
    from coder.ingest import read_transcript
    from coder.segment import split_sentences

    base = [read_transcript(p) for p in sorted((ROOT / "data/demo/transcripts").glob("*.txt"))]
    per_copy = sum(sum(1 for s in split_sentences(t) if t.turns[s.turn].role == "informant") for t in base)
    copies = -(-n_sentences // per_copy)
    out.mkdir(parents=True)
    for k in range(copies):
        rng = random.Random(k)
        for t in base:
            lines = []
            for turn in t.turns:
                label = "I" if turn.role == "interviewer" else "B"
                text = t.text[turn.start : turn.end].replace("\n", " ")
                if k:
                    parts = re.split(r"(?<=[.?!])\s+", text)
                    shuffled = []
                    for p in parts:
                        words = p.split()
                        rng.shuffle(words)
                        shuffled.append(" ".join(words))
                    text = " ".join(shuffled)
                lines.append(f"{label}: {text}")
            (out / f"{t.name}-{k:03d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    return copies * per_copy


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run a command in a fresh process (with `env` added); return wall seconds and its peak RSS in MB."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"r = subprocess.run({cmd!r}, capture_output=True, text=True); "
        "print(time.perf_counter() - t); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); "
        "sys.stderr.write(r.stderr[-2000:] if r.returncode else ''); sys.exit(r.returncode)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})})
    seconds, rss = res.stdout.split()[-2:]
    return {"seconds": float(seconds), "peak_rss_mb": float(rss)}


NAIVE = """
import sys, time, numpy as np
from transformers import pipeline
from coder.encoders.e5_build import ensure_e5
texts = [l.rstrip("\\n") for l in open(sys.argv[1], encoding="utf-8")]
pipe = pipeline("feature-extraction", model=str(ensure_e5()), tokenizer=str(ensure_e5()), device="cpu")
t = time.perf_counter()
for s in texts:
    np.asarray(pipe("passage: " + s)[0]).mean(0)
print(len(texts) / (time.perf_counter() - t))
"""

RETRAIN = """
import time, numpy as np
from coder.classify.head import LinearHead
rng = np.random.default_rng(0)
X = rng.normal(size=(5000, 384)).astype(np.float32); X /= np.linalg.norm(X, axis=1, keepdims=True)
W = rng.normal(size=(384, 15))
Y = ((X @ W) > 1.2).astype(int)
head = LinearHead().fit(X[:4990], Y[:4990], [str(i % 8) for i in range(4990)])
t = time.perf_counter(); head.refit(X, Y); fast = time.perf_counter() - t  # 10 new decisions, warm start
t = time.perf_counter(); LinearHead().fit(X, Y, [str(i % 8) for i in range(5000)]); full = time.perf_counter() - t
print(fast, full)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=20000)
    ap.add_argument("--naive-sample", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = make_corpus(tmp / "corpus", args.sentences)
        proj = tmp / "proj"
        subprocess.run([*CODER, "init", str(proj)], check=True, capture_output=True)
        ingest = timed([*CODER, "ingest", str(proj), str(tmp / "corpus")])
        results["ingest"] = {**ingest, "informant_sentences": n, "sentences_per_s": n / ingest["seconds"]}
        # tfidf.v1 model trained from the demo gold, saved as a project model
        seed = tmp / "seed.jsonl"
        from coder.training import read_gold_transcript

        with seed.open("w", encoding="utf-8") as f:
            for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
                for e in read_gold_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt", gold):
                    f.write(json.dumps({"text": e.text, "codes": sorted(e.codes), "informant": e.group}, ensure_ascii=False) + "\n")
        subprocess.run([*CODER, "train", str(proj), "--encoder", "tfidf.v1", "--seed-data", str(seed)], check=True, capture_output=True)
        tfidf_id = json.loads(subprocess.run([*CODER, "models", str(proj), "--json"], check=True, capture_output=True, text=True).stdout)[-1]["id"]
        from coder.encoders.transformer import use_bf16

        runs = [("e5-small.v1 (default model)", "default", {}), ("tfidf.v1", tfidf_id, {})]
        if use_bf16():  # show what bfloat16 buys on this CPU: the same model forced to fp32
            runs.insert(1, ("e5-small.v1 forced fp32 (CODER_BF16=0)", "default", {"CODER_BF16": "0"}))
        for name, model, env in runs:
            r = timed([*CODER, "precode", str(proj), "--model", model], env)
            results[name] = {**r, "sentences_per_s": n / r["seconds"]}
        results["e5-small.v1 (default model)"]["precision"] = "bf16 autocast (AMX)" if use_bf16() else "fp32"
        sample = tmp / "sample.txt"
        from coder import Project

        with Project.open(proj) as p:
            texts = [s.text for s in p.sentences(role="informant")][: args.naive_sample]
        sample.write_text("\n".join(texts) + "\n", encoding="utf-8")
        naive = subprocess.run([sys.executable, "-c", NAIVE, str(sample)], check=True, capture_output=True, text=True)
        results["naive pipeline, one sentence at a time"] = {"sentences_per_s": float(naive.stdout.split()[-1]), "sample": len(texts)}
    fast, full = subprocess.run([sys.executable, "-c", RETRAIN], check=True, capture_output=True, text=True).stdout.split()
    results["head retrain on 5,000 sentences"] = {"refit_seconds": float(fast), "fit_with_calibration_seconds": float(full)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for k, v in results.items():
        print(f"{k:<42}" + "  ".join(f"{a}={b:.2f}" if isinstance(b, float) else f"{a}={b}" for a, b in v.items()))


if __name__ == "__main__":
    main()
