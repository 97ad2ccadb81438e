"""Measure the stance head: leave one demo gold transcript out, on its coded sentences.

Training folds: the other transcripts' coded sentences plus the thesis quotes with a stance.
Reports F1 for "contradicts", accuracy, and the majority-class accuracy for reference.

    .venv/bin/python scripts/eval_stance.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from coder.classify.stance import fit_stance, predict_contradicts
from coder.codebook import load_codebook
from coder.encoders import get_encoder
from coder.training import read_gold_transcript, read_seed_jsonl

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    book = load_codebook("politisk-exit")
    demo = []
    for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
        demo += [e for e in read_gold_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt", gold) if e.codes]
    quotes = [e for e in read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book) if e.stance]
    enc = get_encoder("e5-small.v1")
    X, Xq = enc.encode([e.text for e in demo]), enc.encode([e.text for e in quotes])
    y = np.array([e.stance == "contradicts" for e in demo])
    groups = np.array([e.group for e in demo])
    pred = np.zeros(len(y), bool)
    for g in sorted(set(groups)):
        tr = groups != g
        head = fit_stance(np.vstack([X[tr], Xq]), [e.stance for e, t in zip(demo, tr) if t] + [q.stance for q in quotes])
        assert head is not None
        pred[~tr] = predict_contradicts(X[~tr], *head) >= 0.5
    print(f"coded sentences {len(y)}, contradicting {y.mean():.1%}")
    print(f"F1 contradicts {f1_score(y, pred):.3f}  accuracy {accuracy_score(y, pred):.3f}  majority accuracy {1 - y.mean():.3f}")


if __name__ == "__main__":
    main()
