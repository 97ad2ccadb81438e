"""Benchmark `coder.segment.split_text` against spaCy's plain sentencizer on UD Danish-DDT.

Follows the protocol in ``spec/segmentation.md`` section 2: pseudo-documents of 20 gold
sentences, turned into written, speech, transcript, transcript_flat and transcript+turns
texts with seeded randomness (dev seed 7, test seed 13), scored by strict and lenient
boundary precision/recall/F1, micro-averaged over boundaries.

The gold data lives in ``../shared/data/ud-danish-ddt`` (relative to the repository root),
which CI and developers have and users of the package do not; pass ``--ddt-dir`` otherwise.

    python scripts/bench_segment.py            # table
    python scripts/bench_segment.py --json     # machine-readable
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder.segment import load_nlp, split_text

Spans = list[tuple[int, int]]
Splitter = Callable[[str], Spans]

DOC_SIZE = 20
SEEDS = {"dev": 7, "test": 13}
SPLIT_FILES = {"dev": "da_ddt-ud-dev.conllu", "test": "da_ddt-ud-test.conllu"}
VARIANTS = ("written", "speech", "transcript", "transcript_flat", "transcript+turns")
INTERVIEWERS = ("I", "Interviewer", "INT")
INTERVIEWEES = ("Birgit", "Hans", "Mette", "Søren", "B", "IP1", "Anne-Marie")
TURN_SIZES = (1, 1, 2, 2, 3, 4)
LABEL_RE = re.compile(r"^[A-ZÆØÅ][\wÆØÅæøå-]{0,20}: ")
LENIENT_SKIP = frozenset("\"“”„»«'‘’()[]….")
DEFAULT_DDT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ud-danish-ddt"


@dataclass
class Doc:
    """One evaluation text and the start offsets of its gold sentences (first one excluded)."""

    text: str
    gold: list[int]


@dataclass
class Counts:
    """What the generator did, to compare with the counts in segmentation.md."""

    periods: int = 0
    periods_removed: int = 0
    turns: int = 0
    labelled: int = 0
    paren_elisions: int = 0
    bracket_elisions: int = 0
    hesitations: int = 0
    trailing: int = 0
    leading_elisions: int = 0
    quoted: int = 0


@dataclass
class Split:
    """The five evaluation texts of one split (dev or test)."""

    written: list[Doc] = field(default_factory=list)
    speech: list[Doc] = field(default_factory=list)
    transcript: list[Doc] = field(default_factory=list)
    transcript_flat: list[Doc] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    n_sentences: int = 0
    n_words: int = 0


# --- gold data -------------------------------------------------------------------------------


def read_sentences(path: Path) -> list[str]:
    """Return the stripped ``# text =`` lines of a CoNLL-U file, in file order."""
    with path.open(encoding="utf-8") as f:
        return [line[len("# text = ") :].strip() for line in f if line.startswith("# text = ")]


def join(sentences: Sequence[str], sep: str = " ") -> Doc:
    starts, pos = [], 0
    for s in sentences:
        starts.append(pos)
        pos += len(s) + len(sep)
    return Doc(sep.join(sentences), starts[1:])


def speechify(sentence: str, rng: random.Random, counts: Counts) -> str:
    """Lower-case the first letter (within 4 chars, not past a digit); drop half the periods."""
    for i, ch in enumerate(sentence[:4]):
        if ch.isdigit():
            break
        if ch.isalpha():
            sentence = sentence[:i] + ch.lower() + sentence[i + 1 :]
            break
    if sentence.endswith(".") and not sentence.endswith(".."):
        counts.periods += 1
        if rng.random() < 0.5:
            counts.periods_removed += 1
            sentence = sentence[:-1]
    return sentence


def transcriptify(sentence: str, rng: random.Random, counts: Counts) -> str:
    """Add elisions, hesitations, trailing-off, a leading elision and quotes (spec §2 c)."""
    words = sentence.split()
    if len(words) >= 4:
        r = rng.random()
        if r < 0.08 + 0.05 + 0.10:
            k = rng.randrange(len(words) - 1)  # after word k, never after the last word
            if r < 0.08:
                counts.paren_elisions += 1
                words.insert(k + 1, "(...)")
            elif r < 0.13:
                counts.bracket_elisions += 1
                words.insert(k + 1, "[...]")
            else:
                counts.hesitations += 1
                if rng.random() < 0.5:
                    words[k] += "..."
                else:
                    words.insert(k + 1, "...")
        sentence = " ".join(words)
    if rng.random() < 0.10:
        counts.trailing += 1
        sentence = sentence[:-1] + "..." if sentence.endswith(".") else sentence + "..."
    if rng.random() < 0.04:
        counts.leading_elisions += 1
        sentence = "(...) " + sentence
    r = rng.random()
    if r < 0.11:
        counts.quoted += 1
        if r < 0.04:
            sentence = f'"{sentence}"'
        elif r < 0.08:
            sentence = f"»{sentence}«"
        else:
            sentence = f'og så sagde hun: "{sentence}"'
    return sentence


def build_split(sentences: Sequence[str], seed: int) -> Split:
    """Build every variant of one split; randomness is drawn in the order spec §2 lists it."""
    split = Split(n_sentences=len(sentences), n_words=sum(len(s.split()) for s in sentences))
    docs = [sentences[i : i + DOC_SIZE] for i in range(0, len(sentences), DOC_SIZE)]
    rng = random.Random(seed)
    speech_docs = [[speechify(s, rng, split.counts) for s in doc] for doc in docs]
    for doc, speech in zip(docs, speech_docs, strict=True):
        split.written.append(join(doc))
        split.speech.append(join(speech))
        trans = [transcriptify(s, rng, split.counts) for s in speech]
        labels = (rng.choice(INTERVIEWERS), rng.choice(INTERVIEWEES))
        turns: list[tuple[str, list[str]]] = []  # (label prefix, sentences)
        i = 0
        while i < len(trans):
            size = rng.choice(TURN_SIZES)
            labelled = rng.random() < 0.7
            prefix = f"{labels[len(turns) % 2]}: " if labelled else ""
            split.counts.turns += 1
            split.counts.labelled += labelled
            turns.append((prefix, trans[i : i + size]))
            i += size
        for sep, target in (("\n", split.transcript), (" ", split.transcript_flat)):
            target.append(_join_turns(turns, sep))
    return split


def _join_turns(turns: Sequence[tuple[str, list[str]]], sep: str) -> Doc:
    """Join turns; the label belongs to its turn's first sentence, so the boundary is there."""
    parts, starts, pos = [], [], 0
    for t, (prefix, sents) in enumerate(turns):
        if t:
            parts.append(sep)
            pos += len(sep)
        for s_i, sentence in enumerate(sents):
            if s_i:
                parts.append(" ")
                pos += 1
            starts.append(pos)
            piece = (prefix if s_i == 0 else "") + sentence
            parts.append(piece)
            pos += len(piece)
    return Doc("".join(parts), starts[1:])


# --- splitters -------------------------------------------------------------------------------


def coder_splitter() -> Splitter:
    nlp = load_nlp()
    return lambda text: split_text(text, nlp)


def sentencizer_splitter() -> Splitter:
    import spacy

    nlp = spacy.blank("da")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 10_000_000
    return lambda text: [(s.start_char, s.end_char) for s in nlp(text).sents]


def turn_aware(splitter: Splitter) -> Splitter:
    """Split on lines, drop a leading `Label: `, split each turn, add a boundary per line."""

    def split(text: str) -> Spans:
        spans: Spans = []
        offset = 0
        for line in text.split("\n"):
            label = LABEL_RE.match(line)
            skip = label.end() if label else 0
            inner = [(s + offset + skip, e + offset + skip) for s, e in splitter(line[skip:])]
            if inner:
                inner[0] = (offset, inner[0][1])  # the line (with its label) starts a sentence
            spans.extend(inner)
            offset += len(line) + 1
        return spans

    return split


# --- scoring -------------------------------------------------------------------------------


def _normalise(text: str, pos: int, lenient: bool) -> int:
    while pos < len(text) and (text[pos].isspace() or (lenient and text[pos] in LENIENT_SKIP)):
        pos += 1
    return pos


def score(docs: Sequence[Doc], splitter: Splitter, lenient: bool = False) -> dict[str, float]:
    """Micro P/R/F1 over boundaries; the first sentence start of a document is not one."""
    tp = n_pred = n_gold = 0
    for doc in docs:
        first = _normalise(doc.text, 0, lenient)
        gold = {_normalise(doc.text, g, lenient) for g in doc.gold}
        pred = {_normalise(doc.text, s, lenient) for s, _ in splitter(doc.text)}
        pred -= {first, len(doc.text)}
        tp += len(gold & pred)
        n_pred += len(pred)
        n_gold += len(gold)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f1": f1, "gold": n_gold, "pred": n_pred}


def variant_docs(split: Split, variant: str) -> list[Doc]:
    return split.transcript if variant == "transcript+turns" else getattr(split, variant)


def evaluate(splits: dict[str, Split], splitters: dict[str, Splitter]) -> list[dict[str, Any]]:
    """One row per splitter x variant: test P/R/F1, test lenient F1, dev F1."""
    rows = []
    for name, splitter in splitters.items():
        for variant in VARIANTS:
            run = turn_aware(splitter) if variant == "transcript+turns" else splitter
            test = score(variant_docs(splits["test"], variant), run)
            lenient = score(variant_docs(splits["test"], variant), run, lenient=True)
            dev = score(variant_docs(splits["dev"], variant), run)
            rows.append(
                {
                    "splitter": name,
                    "variant": variant,
                    "p": test["p"],
                    "r": test["r"],
                    "f1": test["f1"],
                    "f1_lenient": lenient["f1"],
                    "dev_f1": dev["f1"],
                    "gold": test["gold"],
                }
            )
    return rows


def measure_speed(splits: dict[str, Split], min_seconds: float = 2.0) -> dict[str, float]:
    """Throughput of `split_text` on the written and transcript texts of both splits."""
    t0 = time.perf_counter()
    nlp = load_nlp()
    load_s = time.perf_counter() - t0
    docs = [d for s in splits.values() for d in s.written + s.transcript]
    n_sents = sum(len(d.gold) + 1 for d in docs)
    n_bytes = sum(len(d.text.encode("utf-8")) for d in docs)
    for d in docs[:5]:  # warm up
        split_text(d.text, nlp)
    rounds, elapsed = 0, 0.0
    t0 = time.perf_counter()
    while elapsed < min_seconds:
        for d in docs:
            split_text(d.text, nlp)
        rounds += 1
        elapsed = time.perf_counter() - t0
    return {
        "load_s": load_s,
        "sentences_per_s": n_sents * rounds / elapsed,
        "mb_per_s": n_bytes * rounds / elapsed / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- output -------------------------------------------------------------------------------


def format_table(
    rows: Sequence[dict[str, Any]], speed: dict[str, float], splits: dict[str, Split]
) -> str:
    lines = [
        "| splitter | variant | P | R | F1 | F1 lenient | dev F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['splitter']} | {row['variant']} | {row['p']:.3f} | {row['r']:.3f} | "
            f"**{row['f1']:.3f}** | {row['f1_lenient']:.3f} | {row['dev_f1']:.3f} |"
        )
    c = splits["test"].counts
    lines += [
        "",
        f"test: {splits['test'].n_sentences} sentences, {len(splits['test'].written)} documents, "
        f"{rows[0]['gold']} gold boundaries, {splits['test'].n_words} words; "
        f"{c.periods_removed}/{c.periods} periods removed; {c.turns} turns, {c.labelled} labelled; "
        f"{c.paren_elisions} (...), {c.bracket_elisions} [...], {c.hesitations} hesitations, "
        f"{c.trailing} final ..., {c.leading_elisions} leading (...), {c.quoted} quoted",
        f"speed (coder): {speed['sentences_per_s']:,.0f} sentences/s, "
        f"{speed['mb_per_s']:.2f} MB/s, peak RSS {speed['peak_rss_mb']:.0f} MB, "
        f"pipeline load {speed['load_s']:.2f} s",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ddt-dir", type=Path, default=DEFAULT_DDT, help="UD Danish-DDT folder")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--speed-seconds", type=float, default=2.0, help="time spent timing")
    args = parser.parse_args(argv)
    missing = [f for f in SPLIT_FILES.values() if not (args.ddt_dir / f).is_file()]
    if missing:
        parser.error(f"{', '.join(missing)} not found in {args.ddt_dir}; pass --ddt-dir")
    splits = {
        name: build_split(read_sentences(args.ddt_dir / SPLIT_FILES[name]), seed)
        for name, seed in SEEDS.items()
    }
    speed = measure_speed(splits, args.speed_seconds)  # before the baseline is loaded: RSS is ours
    rows = evaluate(
        splits, {"coder (rules)": coder_splitter(), "spaCy sentencizer": sentencizer_splitter()}
    )
    if args.json:
        out = {
            "rows": rows,
            "speed": speed,
            "counts": {n: vars(s.counts) for n, s in splits.items()},
        }
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(format_table(rows, speed, splits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
