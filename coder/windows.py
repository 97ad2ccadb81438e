"""Meaning units: the neighbouring sentences of a sentence inside its speaker turn.

Qualitative coders code a passage, not an isolated sentence: "min datter var ni år" carries
h3.family only inside the answer about threats against the family. A model sees that passage as
the mean embedding of the sentences around the target in the same turn (`CodeModel.window`),
which costs no extra encoding: those sentences are encoded anyway.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def turn_windows(turns: Sequence[Hashable], texts: Sequence[str], width: int) -> list[tuple[str, ...]]:
    """For sentences in document order, the texts of up to ``width`` sentences before and after
    each one that belong to the same turn (``turns`` holds a turn key per sentence), itself excluded."""
    out: list[tuple[str, ...]] = []
    n = len(texts)
    for i in range(n):
        lo, hi = i, i
        while lo > 0 and i - lo < width and turns[lo - 1] == turns[i]:
            lo -= 1
        while hi < n - 1 and hi - i < width and turns[hi + 1] == turns[i]:
            hi += 1
        out.append(tuple(texts[j] for j in range(lo, hi + 1) if j != i))
    return out
