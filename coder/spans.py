"""Map coded character spans onto sentences.

Rule (documented in the README): a sentence carries a span's codes when the overlap covers at
least half of the sentence, or the whole span lies inside the sentence. A span that reaches no
sentence by that rule is reported, never silently dropped.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    codes: tuple[str, ...]
    stance: str | None = None


def overlaps(sentence: tuple[int, int], span: tuple[int, int]) -> bool:
    """Apply the mapping rule to one sentence and one span."""
    s0, s1 = sentence
    p0, p1 = span
    inter = min(s1, p1) - max(s0, p0)
    if inter <= 0:
        return False
    return inter * 2 >= (s1 - s0) or (s0 <= p0 and p1 <= s1)


def map_spans(sentences: Sequence[tuple[int, int]], spans: Sequence[Span]) -> tuple[list[list[Span]], list[Span]]:
    """Return, per sentence, the spans it carries, and the spans that reached no sentence.

    ``sentences`` must be sorted by start and non-overlapping (as segmentation returns them).
    """
    starts = [s for s, _ in sentences]
    per_sentence: list[list[Span]] = [[] for _ in sentences]
    unmatched = []
    for span in spans:
        hit = False
        i = max(0, bisect_right(starts, span.start) - 1)
        while i < len(sentences) and sentences[i][0] < span.end:
            if overlaps(sentences[i], (span.start, span.end)):
                per_sentence[i].append(span)
                hit = True
            i += 1
        if not hit:
            unmatched.append(span)
    return per_sentence, unmatched
