"""Sentence-level evaluation on the coded corpus (data/corpus), every informant sentence counted.

Recipes are compared by cross-validation over the corpus' dev interviews only (leave one interview
out, or ``--folds K`` for recipes that fine-tune the encoder); the four demo transcripts, the thesis
quotes and the codebook examples join every training fold and are never evaluated. ``--test``
trains once on all of that and scores the fixed test interviews of ``data/corpus/splits.json``,
which no choice of recipe, threshold or setting has looked at; beside it, the human-human kappa of
the blind second coding (``data/corpus/recode``) per group, and the model's kappa to the gold on the
same interviews.

    .venv/bin/python scripts/eval_corpus.py --variants head,window [--folds 5 [--group-then-code]] [--test] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from coder.classify.contrastive import ContrastiveSettings
from coder.classify.metrics import group_matrix
from coder.classify.train import TrainSettings
from coder.codebook import Codebook, load_codebook
from coder.evaluation import cross_validate, held_out
from coder.training import Example, codebook_examples, label_matrix, read_gold_transcript, read_seed_jsonl

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data/corpus"
VARIANTS = {
    "head": TrainSettings(contrastive=False, window=0),
    "window": TrainSettings(contrastive=False, window=3),
    "contrastive": TrainSettings(contrastive=True, window=0),
    "contrastive-window-1ep": TrainSettings(contrastive=True, window=3),  # the default recipe
    "contrastive-window-2ep": TrainSettings(contrastive=True, window=3, contrastive_settings=ContrastiveSettings(epochs=2)),
    "finetune-window": TrainSettings(contrastive=False, finetune=True, window=3),
    "both-window": TrainSettings(contrastive=True, finetune=True, window=3),
}


def corpus(names: list[str], folder: str = "gold") -> list[Example]:
    out: list[Example] = []
    for name in names:
        out += read_gold_transcript(CORPUS / "transcripts" / f"{name}.txt", CORPUS / folder / f"{name}.jsonl")
    return out


def extra_training(book: Codebook) -> list[Example]:
    demo = []
    for gold in sorted((ROOT / "data/demo/gold").glob("*.jsonl")):
        demo += read_gold_transcript(ROOT / "data/demo/transcripts" / f"{gold.stem}.txt", gold)
    return demo + read_seed_jsonl(ROOT / "data/thesis/quotes_dev.jsonl", book) + codebook_examples(book)


def group_kappas(a: list[Example], b: list[Example], book: Codebook) -> dict[str, float]:
    """Cohen's kappa per group (and over all group decisions) between two codings of the same sentences."""
    codes = list(book.code_ids)
    group_of = {c.id: c.group for c in book.codes}
    A, names = group_matrix(label_matrix(a, codes), codes, group_of)
    B, _ = group_matrix(label_matrix(b, codes), codes, group_of)
    return kappas(A, B, names)


def group_then_code(r: dict, book: Codebook) -> dict[str, float]:
    """An offline decision experiment on out-of-fold probabilities: a group passes when the noisy-OR of
    its codes' probabilities reaches a per-group threshold chosen (max F1, grid) on the other folds'
    sentences; a passing group adds its best code (highest probability / threshold) to the proposals."""
    from sklearn.metrics import f1_score

    codes = list(book.code_ids)
    group_of = {c.id: c.group for c in book.codes}
    P, T, Y, fold = r["proba"], r["thresholds"], r["y"], r["fold"]
    G_true, names = group_matrix(Y, codes, group_of)
    chosen = P >= T
    grid = np.linspace(0.05, 0.95, 37)
    for k, name in enumerate(names):
        cols = np.array([j for j, c in enumerate(codes) if group_of[c] == name])
        score = 1 - np.prod(1 - P[:, cols], axis=1)
        best = cols[(P[:, cols] / T[:, cols]).argmax(axis=1)]
        for f in np.unique(fold):
            fit, held = fold != f, np.flatnonzero(fold == f)
            t = max(grid, key=lambda t: f1_score(G_true[fit, k], score[fit] >= t, zero_division=0))
            on = held[score[held] >= t]
            chosen[on, best[on]] = True
    G_pred, _ = group_matrix(chosen, codes, group_of)
    return {"code macro-F1": round(float(f1_score(Y, chosen, average="macro", zero_division=0)), 3),
            "group macro-F1": round(float(f1_score(G_true, G_pred, average="macro", zero_division=0)), 3)}


def kappas(A: np.ndarray, B: np.ndarray, names: list[str]) -> dict[str, float]:
    from sklearn.metrics import cohen_kappa_score

    out = {n: float(cohen_kappa_score(A[:, j], B[:, j])) for j, n in enumerate(names)}
    out["all"] = float(cohen_kappa_score(A.ravel(), B.ravel()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="head,window")
    ap.add_argument("--folds", type=int, default=None, help="grouped folds over the dev interviews (default: leave one out)")
    ap.add_argument("--test", action="store_true", help="train on dev + extra, score the fixed test interviews")
    ap.add_argument("--group-then-code", action="store_true",
                    help="with --folds: also score the group-then-code decision on the out-of-fold probabilities (not shipped)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    book = load_codebook("politisk-exit")
    split = json.loads((CORPUS / "splits.json").read_text(encoding="utf-8"))
    dev, extra = corpus(split["dev"]), extra_training(book)
    test = corpus(split["test"]) if args.test else []
    codes = list(book.code_ids)
    group_of = {c.id: c.group for c in book.codes}
    out: dict[str, dict] = {}
    for name in args.variants.split(","):
        t = time.time()
        if args.test:
            r = held_out(dev + extra, test, book, VARIANTS[name], progress=True)
        else:
            r = cross_validate(dev, book, VARIANTS[name], extra_train=extra, folds=args.folds, progress=True)
        out[name] = {"protocol": r["protocol"], "codes": r["codes"], "groups": r["groups"], "seconds": round(time.time() - t, 1)}
        if args.test:
            G_true, gnames = group_matrix(r["y"], codes, group_of)
            G_pred, _ = group_matrix(r["proba"] >= r["thresholds"], codes, group_of)
            out[name]["kappa_model_gold"] = kappas(G_true, G_pred, gnames)
            recoded = {e.group for n in split.get("blind_recode", []) for e in corpus([n])}
            on = np.array([e.group in recoded for e in test])
            out[name]["kappa_model_gold_recoded"] = kappas(G_true[on], G_pred[on], gnames)
        print(f"{name}: group macro-F1 {r['groups']['macro']['f1']:.3f}, code macro-F1 {r['codes']['macro']['f1']:.3f} "
              f"({out[name]['seconds']} s)", flush=True)
        if args.group_then_code and not args.test:
            out[name]["group_then_code"] = group_then_code(r, book)
            print(f"{name}, group-then-code: {out[name]['group_then_code']}", flush=True)
    human = {}
    recoded = [n for n in split.get("blind_recode", []) if (CORPUS / "recode" / f"{n}.jsonl").exists()] if args.test else []
    for name in recoded:
        human[name] = group_kappas(corpus([name]), corpus([name], "recode"), book)
    if recoded:
        human["pooled"] = group_kappas(corpus(recoded), corpus(recoded, "recode"), book)
    if args.json:
        print(json.dumps({"variants": out, "human_kappa": human}, indent=2))
        return
    data = test if args.test else dev
    print(f"\n{'test' if args.test else 'dev'}: {len(data)} informant sentences, {sum(1 for e in data if e.codes)} coded, "
          f"{len({e.group for e in data})} interviews; protocol: {next(iter(out.values()))['protocol']}")
    print(f"{'variant':<24}{'code micro':>11}{'code macro':>11}{'group micro':>12}{'group macro':>12}{'seconds':>9}")
    for name, r in out.items():
        print(f"{name:<24}{r['codes']['micro']['f1']:>11.3f}{r['codes']['macro']['f1']:>11.3f}"
              f"{r['groups']['micro']['f1']:>12.3f}{r['groups']['macro']['f1']:>12.3f}{r['seconds']:>9}")
    first = next(iter(out.values()))
    print("\nper group, " + next(iter(out)) + ": " + ", ".join(f"{g} {m['f1']:.2f}" for g, m in first["groups"]["codes"].items()))
    if args.test:
        for name, r in out.items():
            print(f"kappa model~gold per group, {name}: " + ", ".join(f"{g} {k:.2f}" for g, k in r["kappa_model_gold"].items()))
            print(f"  the same on the three blindly re-coded interviews: "
                  + ", ".join(f"{g} {k:.2f}" for g, k in r["kappa_model_gold_recoded"].items()))
        for name, k in human.items():
            print(f"kappa human~human (blind re-coding) {name}: " + ", ".join(f"{g} {v:.2f}" for g, v in k.items()))


if __name__ == "__main__":
    main()
