"""Training examples: seed JSONL files, gold-coded transcripts, and the label matrix.

Most sentences of an interview carry no code; a model trained on coded quotes alone never
learns what not to code, so gold transcripts contribute every informant sentence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .codebook import Codebook
from .errors import InputFileError, UnknownCodeError
from .records import Segment, Transcript
from .spans import Span, map_spans
from .stance import parse_stance
from .windows import turn_windows

# Sentences on each side of a target that examples carry as its passage; a model uses up to this many.
WINDOW = 3


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled sentence; ``group`` (informant or document) keeps folds honest."""

    text: str
    codes: frozenset[str]
    group: str
    context: str = ""
    stance: str | None = None
    source: str = ""
    window: tuple[str, ...] = ()  # the neighbouring sentences of its turn (coder.windows)


def read_seed_jsonl(path: Path, codebook: Codebook, *, skip_unknown: bool = False) -> list[Example]:
    """Read ``{"text", "codes", "informant"?, "stance"?, "window"?}`` lines; errors name the line.

    ``window`` lists the neighbouring sentences of the same speaker turn (the passage the sentence
    was coded in); without it a line stands for its own passage.
    """
    from .jsonl import read_jsonl

    known = set(codebook.code_ids)
    out = []
    for n, obj in read_jsonl(path):
        if not isinstance(obj.get("text"), str) or not isinstance(obj.get("codes", []), list):
            raise InputFileError(f"{path}, line {n}: each line needs 'text' (a string) and 'codes' (a list of code ids).")
        window = obj.get("window") or []
        if not isinstance(window, list) or not all(isinstance(t, str) for t in window):
            raise InputFileError(f"{path}, line {n}: 'window' must be a list of the neighbouring sentences (strings).")
        codes = [c for c in obj.get("codes", [])]
        unknown = [c for c in codes if c not in known]
        if unknown and not skip_unknown:
            raise UnknownCodeError(
                f"{path}, line {n}: unknown code {', '.join(map(repr, unknown))} for codebook '{codebook.id}'; "
                "fix the id or pass --skip-unknown to ignore such codes."
            )
        stance = parse_stance(obj.get("stance"), f"{path}, line {n}")
        out.append(
            Example(
                text=obj["text"],
                codes=frozenset(c for c in codes if c in known),
                group=str(obj.get("informant") or obj.get("document") or f"{Path(path).stem}"),
                context=str(obj.get("context_question") or ""),
                stance=stance,
                source=str(path),
                window=tuple(window),
            )
        )
    return out


def question_before(transcript: Transcript, turn: int) -> str:
    """The interviewer's last turn before ``turn``: the question the answer responds to."""
    for t in reversed(transcript.turns[:turn]):
        if t.role == "interviewer":
            return transcript.text[t.start : t.end]
    return ""


def find_quotes(text: str, quotes: Sequence[dict], source: str) -> list[Span]:
    """Locate gold quotes (exact substrings) in ``text`` as spans."""
    spans, pos = [], 0
    for i, q in enumerate(quotes, start=1):
        at = text.find(q["quote"], pos)
        if at < 0:
            at = text.find(q["quote"])
        if at < 0:
            raise InputFileError(f"{source}, line {i}: quote not found in the transcript: {q['quote'][:60]!r}.")
        spans.append(Span(at, at + len(q["quote"]), tuple(q["codes"]), q.get("stance")))
        pos = at
    return spans


def gold_examples(
    transcript: Transcript, segments: Sequence[Segment], spans: Sequence[Span]
) -> list[Example]:
    """Every informant sentence of a gold-coded transcript, coded or not."""
    per_sentence, unmatched = map_spans([(s.start, s.end) for s in segments], spans)
    if unmatched:
        raise InputFileError(
            f"{transcript.source}: {len(unmatched)} gold span(s) match no sentence, e.g. "
            f"{transcript.text[unmatched[0].start:unmatched[0].end][:60]!r}."
        )
    out = []
    windows = turn_windows([s.turn for s in segments], [transcript.text[s.start : s.end] for s in segments], WINDOW)
    for seg, hits, window in zip(segments, per_sentence, windows):
        if transcript.turns[seg.turn].role != "informant":
            continue
        codes = frozenset(c for h in hits for c in h.codes)
        stance = next((h.stance for h in hits), None)
        out.append(
            Example(
                text=transcript.text[seg.start : seg.end],
                codes=codes,
                group=transcript.informant or transcript.name,
                context=question_before(transcript, seg.turn),
                stance=stance,
                source=transcript.source,
                window=window,
            )
        )
    return out


def read_gold_transcript(transcript_path: Path, gold_path: Path) -> list[Example]:
    """Read a transcript and its gold quotes (``data/demo/gold`` format) into examples."""
    from .ingest import read_transcript
    from .segment import split_sentences

    transcript = read_transcript(transcript_path)
    try:
        quotes = [json.loads(l) for l in Path(gold_path).read_text(encoding="utf-8").splitlines() if l.strip()]
    except json.JSONDecodeError as e:
        raise InputFileError(f"{gold_path}: line {e.lineno} is not valid JSON ({e.msg}).") from e
    return gold_examples(transcript, split_sentences(transcript), find_quotes(transcript.text, quotes, str(gold_path)))


def label_matrix(examples: Sequence[Example], codes: Sequence[str]) -> np.ndarray:
    """Return the (n_examples, n_codes) 0/1 matrix in codebook order."""
    index = {c: j for j, c in enumerate(codes)}
    y = np.zeros((len(examples), len(codes)), dtype=np.int8)
    for i, ex in enumerate(examples):
        for c in ex.codes:
            if c in index:
                y[i, index[c]] = 1
    return y


def codebook_examples(codebook: Codebook) -> list[Example]:
    """The codebook's own example sentences as labelled data (one code each)."""
    return [
        Example(text=ex, codes=frozenset([c.id]), group="codebook", source=f"codebook:{codebook.id}")
        for c in codebook.codes
        for ex in c.examples
    ]
