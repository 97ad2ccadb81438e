"""Researcher verdicts as REFI-QDA project notes, written and read back in one format.

NVivo, ATLAS.ti, MAXQDA and QualCoder have no place for a hypothesis verdict, but all of them keep
project notes (memos). One note per informant x hypothesis carries the verdict in a sentence a reader
of the memo understands and `parse_note` reads back exactly, so a verdict survives export and import:

    name: ``coder verdict H1 Birgitte Holm``
    text: ``H1, Birgitte Holm: partly (researcher anna, 2026-12-01T10:00:00+00:00; rule: supports, +5 -1).
    Rationale: secondary to H3.`` (``; STALE: the evidence has changed since`` before the closing
    parenthesis when it was stale at export; ``Rationale: -`` when there was none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .score import INFORMANT_VERDICTS

PREFIX = "coder verdict "
STALE = "; STALE: the evidence has changed since"
_TEXT = re.compile(
    r"(?P<hypothesis>\S+), (?P<informant>.+?): (?P<verdict>" + "|".join(INFORMANT_VERDICTS) + r") "
    r"\(researcher (?P<coder>.+?), (?P<created>[^;()]+); rule: [a-z_]+, \+\d+ -\d+(?P<stale>" + re.escape(STALE) + r")?\)\. "
    r"Rationale: (?P<rationale>.*)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class NoteVerdict:
    """A researcher's verdict as read from a project note."""

    hypothesis: str
    informant: str
    verdict: str
    rationale: str
    coder: str
    created: str
    stale: bool


def format_note(hypothesis: str, informant: str, verdict: str, *, coder: str, created: str, rule_verdict: str,
                supporting: int, contradicting: int, stale: bool, rationale: str) -> tuple[str, str]:
    """(note name, note text) for one cell's verdict."""
    return (f"{PREFIX}{hypothesis} {informant}",
            f"{hypothesis}, {informant}: {verdict} (researcher {coder}, {created}; rule: {rule_verdict}, +{supporting} "
            f"-{contradicting}{STALE if stale else ''}). Rationale: {rationale or '-'}")


def parse_note(name: str, text: str) -> NoteVerdict | None:
    """The verdict a note written by `format_note` holds; None for any other note (a memo of its own)."""
    if not name.startswith(PREFIX):
        return None
    m = _TEXT.fullmatch(text.strip())
    if not m or name != f"{PREFIX}{m['hypothesis']} {m['informant']}":
        return None
    rationale = m["rationale"].strip()
    return NoteVerdict(m["hypothesis"], m["informant"], m["verdict"], "" if rationale == "-" else rationale,
                       m["coder"], m["created"].strip(), bool(m["stale"]))
