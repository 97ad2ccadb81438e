"""Benchmark pre-coding at scale: the local engine against Ray with 1 and 2 workers, and `coder batch`.

Builds a project of at least --sentences informant sentences from the demo transcripts (shuffled
copies, see bench_precode.make_corpus), then, each in a fresh process, pre-codes it with the
local engine and with a local Ray of 1 and 2 workers (sentences/s end to end including Ray's start
and the workers' model load; peak RSS of the driver and of the largest worker), and scores the
first --files transcript files with `coder batch --engine ray` (2 workers). All on the same
machine, so the Ray rows show the engine's overhead, not a cluster's speed-up.

    .venv/bin/python scripts/bench_scale.py [--sentences 20000] [--files 200] [--model default] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_precode import make_corpus  # noqa: E402

CODER = [sys.executable, "-m", "coder"]


def run(args: argparse.Namespace) -> dict:
    """One measurement in this (fresh) process: ``local``, ``ray1``, ``ray2`` or ``batch``."""
    from coder import Project
    from coder.batch import find_model, run_batch
    from coder.engine import LocalEngine, RayEngine

    workers: list[float] = []
    engine = LocalEngine("cpu") if args.run == "local" else RayEngine(
        workers=1 if args.run == "ray1" else 2, device="cpu", batch_size=args.batch_size,
        on_batch=lambda s: workers.append(s.worker_peak_rss_mb),
    )
    t = time.perf_counter()
    if args.run == "batch":
        files = sorted(Path(args.corpus).glob("*.txt"))[: args.files]
        report = run_batch(files, find_model(args.model), Path(args.out), engine)
        n = report.sentences
    else:
        with Project.open(Path(args.project)) as proj:
            n = proj.precode(args.model, engine=engine).sentences
    seconds = time.perf_counter() - t
    return {"engine": args.run, "sentences": n, "seconds": round(seconds, 1), "sentences_per_s": round(n / seconds, 1),
            "driver_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "worker_peak_mb": round(max(workers)) if workers else None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sentences", type=int, default=20000)
    p.add_argument("--files", type=int, default=200)
    p.add_argument("--model", default="default")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--json", action="store_true")
    p.add_argument("--run", help=argparse.SUPPRESS)
    p.add_argument("--project", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run:
        print(json.dumps(run(args)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        corpus, proj = Path(tmp) / "corpus", Path(tmp) / "proj"
        make_corpus(corpus, args.sentences)
        subprocess.run([*CODER, "init", str(proj)], check=True, capture_output=True)
        subprocess.run([*CODER, "ingest", str(proj), str(corpus)], check=True, capture_output=True)
        rows = []
        for name in ("local", "ray1", "ray2", "batch"):
            cmd = [sys.executable, __file__, "--run", name, "--project", str(proj), "--corpus", str(corpus), "--model", args.model,
                   "--files", str(args.files), "--batch-size", str(args.batch_size), "--out", str(Path(tmp) / f"shards-{name}")]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            if not args.json:
                print(rows[-1], flush=True)
    info = {"cpus": os.cpu_count(), "rows": rows}
    print(json.dumps(info, indent=2) if args.json else "")


if __name__ == "__main__":
    main()
