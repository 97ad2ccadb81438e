"""Frozen records passed between pipeline stages.

Every span is a pair of character offsets (Unicode code points) into a document's original,
unchanged text: the text of a span is always ``text[start:end]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["interviewer", "informant", "other"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker turn; ``start``/``end`` cover the spoken text only, without the label."""

    speaker: str
    role: Role
    start: int
    end: int
    label_start: int | None = None  # where the speaker label begins, if the turn had one
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. subtitle timestamps


@dataclass(frozen=True, slots=True)
class Transcript:
    """A document as read from a file, before it is stored."""

    name: str
    text: str
    turns: tuple[Turn, ...]
    informant: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Segment:
    """A sentence: ``turn`` indexes ``Transcript.turns``; ``index`` counts sentences in the document."""

    turn: int
    index: int
    start: int
    end: int
