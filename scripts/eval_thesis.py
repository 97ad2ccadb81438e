"""Leave-one-informant-out evaluation on the thesis quotes: predict each quote's primary code and group.

Protocol (shared/spec/offline-encoder.md): for each of the six informants in
data/thesis/quotes_dev.jsonl, train on the other informants' quotes plus the always-available
training material (the demo gold transcripts, the corpus' dev interviews as the default model uses
them, and the codebook's examples; none contains thesis text), predict the held-out quotes, and take the highest-scoring code as the primary code and its
group as the group. Reports code- and group-level macro-F1 (over labels present in the truth) and
accuracy. Nothing is tuned on the held-out fold.

    .venv/bin/python scripts/eval_thesis.py [--encoder e5-small.v1] [--window 3] [--contrastive] [--finetune] [--no-demo] [--no-corpus]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from coder.classify.finetune import FinetuneSettings
from coder.classify.train import TrainSettings, train_model
from coder.codebook import load_codebook
from coder.training import codebook_examples, read_gold_transcript, read_seed_jsonl

ROOT = Path(__file__).resolve().parent.parent


def demo_gold() -> list:
    out = []
    for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
        out += read_gold_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt", gold)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", default="e5-small.v1")
    ap.add_argument("--finetune", action="store_true")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--top-layers", type=int, default=None)
    ap.add_argument("--no-demo", action="store_true", help="train on quotes and codebook examples only")
    ap.add_argument("--no-corpus", action="store_true", help="leave out the corpus' dev interviews")
    ap.add_argument("--window", type=int, default=TrainSettings().window)
    ap.add_argument("--contrastive", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    book = load_codebook("politisk-exit")
    rows = [json.loads(l) for l in (ROOT / "data/thesis/quotes_dev.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    quotes = read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book)
    split = json.loads((ROOT / "data/corpus/splits.json").read_text(encoding="utf-8"))
    corpus = [e for n in split["dev"] for e in read_gold_transcript(
        ROOT / "data/corpus/transcripts" / f"{n}.txt", ROOT / "data/corpus/gold" / f"{n}.jsonl")]
    always = codebook_examples(book) + ([] if args.no_demo else demo_gold()) + ([] if args.no_corpus else corpus)
    fs = FinetuneSettings(epochs=args.epochs, train_top_layers=args.top_layers, prefix="passage: " if args.encoder == "e5-small.v1" else "") if args.finetune else None
    settings = TrainSettings(encoder=args.encoder, finetune=args.finetune, finetune_settings=fs, window=args.window,
                             contrastive=args.contrastive)
    group_of = {c.id: c.group for c in book.codes}
    true_code, pred_code = [], []
    start = time.time()
    for informant in sorted({q.group for q in quotes}):
        train = [q for q in quotes if q.group != informant] + always
        test = [i for i, q in enumerate(quotes) if q.group == informant]
        model = train_model(train, book, settings).model
        P = model.predict_proba([quotes[i].text for i in test])
        for i, p in zip(test, P):
            true_code.append(rows[i]["codes"][0])
            pred_code.append(model.codes[int(np.nanargmax(p))])
    labels = sorted(set(true_code))
    g_true = [group_of[c] for c in true_code]
    g_pred = [group_of[c] for c in pred_code]
    result = {
        "protocol": "leave-one-informant-out on quotes_dev.jsonl (6 informants, 100 quotes)",
        "encoder": args.encoder, "window": args.window, "contrastive": args.contrastive, "finetune": args.finetune,
        "demo_gold_in_training": not args.no_demo, "corpus_dev_in_training": not args.no_corpus,
        "code_macro_f1": f1_score(true_code, pred_code, labels=labels, average="macro", zero_division=0),
        "code_accuracy": accuracy_score(true_code, pred_code),
        "group_macro_f1": f1_score(g_true, g_pred, labels=sorted(set(g_true)), average="macro", zero_division=0),
        "group_accuracy": accuracy_score(g_true, g_pred),
        "seconds": round(time.time() - start, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:<24}{v:.3f}" if isinstance(v, float) else f"{k:<24}{v}")


if __name__ == "__main__":
    main()
