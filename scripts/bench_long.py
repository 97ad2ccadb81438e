"""Benchmark one long document (issue 15.7): `coder export` and the first review item must stay linear.

Writes a single transcript of --mb megabytes (the demo transcripts' turns repeated, so the text is
Danish with multi-byte letters, which is what made SQLite's substr() walk the document per row),
ingests it, then times in fresh processes `coder export --format jsonl` and `--format qdpx`, the
first `/api/next` through the real app (it builds the queue over every sentence) and the median of
20 decisions each followed by the next item.

    .venv/bin/python scripts/bench_long.py [--mb 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
CODER = [sys.executable, "-m", "coder"]

REVIEW = """
import statistics, sys, time
from starlette.testclient import TestClient
from coder.web.app import create_app
base = "http://127.0.0.1:8765"
client = TestClient(create_app(sys.argv[1], "bench", retrain_every=0), base_url=base, headers={"Origin": base})
t = time.perf_counter()
item = client.get("/api/next").json()["item"]
first = time.perf_counter() - t
times = []
for _ in range(20):
    t = time.perf_counter()
    client.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}, "token": item["token"]})
    item = client.get("/api/next").json()["item"]
    times.append(time.perf_counter() - t)
print(first, statistics.median(times) * 1000)
"""


def write_long_transcript(path: Path, megabytes: float) -> int:
    """Write one transcript of about ``megabytes`` MB from the demo turns; return its size in bytes."""
    turns = []
    for src in sorted((ROOT / "data/demo/transcripts").glob("*.txt")):
        turns += [t.strip() for t in src.read_text(encoding="utf-8").split("\n\n") if t.strip()[:2] in ("I:", "B:")]
    block = "\n\n".join(turns) + "\n\n"
    text = block * max(1, round(megabytes * 1e6 / len(block.encode("utf-8"))))
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def main() -> None:
    from bench_precode import timed

    from coder import Project

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        size = write_long_transcript(tmp_path / "long.txt", args.mb)
        proj = tmp_path / "p"
        subprocess.run([*CODER, "init", str(proj)], check=True, capture_output=True)
        ingest = timed([*CODER, "ingest", str(proj), str(tmp_path / "long.txt")])
        with Project.open(proj) as opened:
            sentences = opened.status()["sentences"]
        out = {"megabytes": round(size / 1e6, 2), "sentences": sentences, "ingest_s": round(ingest["seconds"], 1)}
        for fmt in ("jsonl", "qdpx"):
            r = timed([*CODER, "export", str(proj), "--format", fmt, "--out", str(tmp_path / f"out.{fmt}")])
            out[f"export_{fmt}_s"] = round(r["seconds"], 2)
            out[f"export_{fmt}_peak_rss_mb"] = round(r["peak_rss_mb"])
        review = subprocess.run([sys.executable, "-c", REVIEW, str(proj)], check=True, capture_output=True, text=True)
        first, median_ms = map(float, review.stdout.split()[-2:])
        out["first_item_s"] = round(first, 2)
        out["decision_plus_next_median_ms"] = round(median_ms, 1)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(k, v)


if __name__ == "__main__":
    main()
