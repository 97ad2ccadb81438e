"""Sentence-level evaluation on the demo gold transcripts: leave one transcript out.

Every informant sentence counts, including the ~68% that carry no code. The thesis quotes and
the codebook examples are added to every training fold (they are never evaluated). Variants:
e5-small.v1 + head with and without the interviewer's question as context, tfidf.v1 + head, and
zero-shot (no labels at all). Prints per-code P/R/F1 for the first variant and micro/macro F1 for all.

    .venv/bin/python scripts/eval_demo.py [--json] [--variants e5,e5-context,tfidf,zero-shot]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


from coder.classify.metrics import group_matrix, prf_table
from coder.classify.train import TrainSettings, zero_shot_model
from coder.codebook import load_codebook
from coder.evaluation import cross_validate
from coder.training import codebook_examples, label_matrix, read_gold_transcript, read_seed_jsonl

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {
    "e5-context": TrainSettings(encoder="e5-small.v1", contrastive=False, context=True, window=0),
    "e5": TrainSettings(encoder="e5-small.v1", contrastive=False, window=0),
    "e5-window": TrainSettings(encoder="e5-small.v1", contrastive=False, window=3),
    "e5-contrastive-window": TrainSettings(encoder="e5-small.v1", contrastive=True, window=3),
    "e5-int8": TrainSettings(encoder="e5-small-int8.v1", window=0),
    "tfidf": TrainSettings(encoder="tfidf.v1"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="e5,e5-context,e5-int8,tfidf,zero-shot")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    book = load_codebook("politisk-exit")
    demo = []
    for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
        demo += read_gold_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt", gold)
    extra = read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book) + codebook_examples(book)
    codes = list(book.code_ids)
    group_of = {c.id: c.group for c in book.codes}
    out = {}
    for name in args.variants.split(","):
        t = time.time()
        if name == "zero-shot":
            model = zero_shot_model(book)
            Y = label_matrix(demo, codes)
            P = model.predict_proba([e.text for e in demo]) >= model.thresholds
            G, gnames = group_matrix(Y, codes, group_of)
            result = {"codes": prf_table(Y, P, codes), "groups": prf_table(G, group_matrix(P, codes, group_of)[0], gnames)}
        else:
            result = cross_validate(demo, book, VARIANTS[name], extra_train=extra)
        out[name] = {
            "codes": result["codes"], "groups": result["groups"], "seconds": round(time.time() - t, 1),
        }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    first = next(iter(out))
    print(f"leave-one-transcript-out on {len(demo)} informant sentences ({sum(1 for e in demo if e.codes)} coded)\n")
    print(f"per code, {first}:\n{'code':<22}{'P':>6}{'R':>6}{'F1':>6}{'support':>9}")
    for c, m in out[first]["codes"]["codes"].items():
        print(f"{c:<22}{m['precision']:>6.2f}{m['recall']:>6.2f}{m['f1']:>6.2f}{m['support']:>9}")
    print(f"\n{'variant':<14}{'code micro':>11}{'code macro':>11}{'group micro':>12}{'group macro':>12}{'seconds':>9}")
    for name, r in out.items():
        print(f"{name:<14}{r['codes']['micro']['f1']:>11.3f}{r['codes']['macro']['f1']:>11.3f}"
              f"{r['groups']['micro']['f1']:>12.3f}{r['groups']['macro']['f1']:>12.3f}{r['seconds']:>9}")


if __name__ == "__main__":
    main()
