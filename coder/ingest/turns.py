"""Find the header and the speaker turns of a transcript by its speaker labels.

Labels such as ``I:``, ``Interviewer:``, ``B:``, ``Lene:``, ``Lene Kristoffersen:`` or
``[00:23:41] Lene:`` start a turn at the beginning of a line. A label counts as a speaker when it
occurs at least twice (or is a known interviewer label), so a stray ``Dato: 11. februar`` in the
text is not mistaken for a speaker. Lines before the first turn are the header; its ``Key: value``
lines become document metadata.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import Role, Turn

_WORD = r"[A-ZÆØÅÄÖÜ][\wÆØÅæøåÄÖÜäöü'’-]*\.?"
_TS = r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?[\])]?[ \t]*"
_TS_PREFIX = re.compile(_TS)
_LABEL_LINE = re.compile(
    rf"(?P<ts>{_TS})?"
    rf"(?P<label>{_WORD}(?:[ \t]+(?:{_WORD}|\d{{1,2}})){{0,3}})[ \t]*:(?=[ \t]|$)"
)
_KEY_VALUE = re.compile(r"(?P<key>[^\W\d][\w .'-]{0,30}?)[ \t]*:[ \t]*(?P<value>\S.*)$")
INTERVIEWER_LABELS = {
    "i", "int", "int.", "interviewer", "intervieweren", "interviewer 1", "q", "spm", "spm.",
    "spørger", "journalist", "moderator", "researcher", "forsker",
}
HEADER_KEYS = {
    "informant", "interviewperson", "deltager", "dato", "date", "interviewer", "interview", "titel",
    "sted", "varighed", "kommune", "transskribent", "transskriberet af", "optagelse", "fil", "parti",
    "tid", "tidspunkt", "location", "duration", "respondent", "projekt",
}
_INFORMANT_KEYS = ("informant", "interviewperson", "deltager", "respondent")


@dataclass(frozen=True, slots=True)
class TurnSplit:
    """The result of turn detection: header metadata, turns and what the user should know."""

    turns: tuple[Turn, ...]
    header: dict[str, str] = field(default_factory=dict)
    informant: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Line:
    start: int
    end: int
    label: str | None = None
    label_start: int | None = None
    content_start: int | None = None
    time: str | None = None


def _lines(text: str, hints: Mapping[int, int]) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        lead = len(raw) - len(raw.lstrip())
        if start in hints:  # e.g. a bold speaker name in a docx paragraph
            label_end = hints[start]
            label = text[start + lead : label_end]
            ts = _TS_PREFIX.match(label)
            time = ts.group().strip(" \t[]()") if ts else None
            label = label[ts.end() if ts else 0 :].strip().rstrip(":").strip()
            content = label_end + (len(text[label_end:end]) - len(text[label_end:end].lstrip(" \t:")))
            out.append(_Line(start, end, label or None, start + lead, content, time))
            continue
        m = _LABEL_LINE.match(raw, lead)
        if m:
            after = m.end()
            while after < len(raw) and raw[after] in " \t":
                after += 1
            ts = m.group("ts")
            out.append(
                _Line(start, end, m.group("label"), start + lead, start + after, ts.strip(" \t[]()") if ts else None)
            )
        else:
            out.append(_Line(start, end))
    return out


def _front_block(lines: list[_Line], text: str, later_labels: Counter[str]) -> int:
    """Return how many leading lines form a ``Key: value`` header block (0 if none)."""
    i = 0
    while i < len(lines) and not text[lines[i].start : lines[i].end].strip():
        i += 1
    first = i
    keys = []
    while i < len(lines) and text[lines[i].start : lines[i].end].strip():
        m = _KEY_VALUE.match(text[lines[i].start : lines[i].end].strip())
        if m:
            keys.append(m.group("key").strip())
        i += 1
    if not keys or i >= len(lines) or not text[lines[i].end :].strip():
        return 0
    known = any(k.lower() in HEADER_KEYS for k in keys)
    reappears = any(later_labels[k] for k in keys)
    return i if (known or not reappears) and i > first else 0


def _unify(labels: Sequence[str]) -> dict[str, str]:
    """Map short labels onto the full name they abbreviate: 'Karsten' -> 'Karsten Holmgaard'."""
    full = [l for l in labels if " " in l]
    mapping = {}
    for label in labels:
        matches = [f for f in full if f.split()[0] == label]
        mapping[label] = matches[0] if len(matches) == 1 else label
    return mapping


def find_turns(
    text: str,
    *,
    interviewer: Sequence[str] | None = None,
    label_hints: Mapping[int, int] | None = None,
    default_speaker: str = "informant",
) -> TurnSplit:
    """Split ``text`` into header and turns; offsets refer to ``text`` unchanged."""
    lines = _lines(text, label_hints or {})
    counts = Counter(l.label for l in lines if l.label)
    n_header = _front_block(lines, text, counts)
    body = lines[n_header:]
    body_counts = Counter(l.label for l in body if l.label)
    speakers = {
        lab for lab, n in body_counts.items() if n >= 2 or lab.lower() in INTERVIEWER_LABELS
    } | {lines[i].label for i in range(len(lines)) if i >= n_header and lines[i].start in (label_hints or {})}
    speakers.discard(None)
    header: dict[str, str] = {}
    for l in lines[:n_header]:
        m = _KEY_VALUE.match(text[l.start : l.end].strip())
        if m:
            header[m.group("key").strip()] = m.group("value").strip()
    first_turn = next((i for i, l in enumerate(body) if l.label in speakers), None)
    warnings: list[str] = []
    preamble = body[:first_turn] if first_turn is not None else []
    extra = " ".join(text[l.start : l.end].strip() for l in preamble).strip()
    if extra and first_turn is not None:
        header.setdefault("preamble", extra)
    informant = next((v for k, v in header.items() if k.lower() in _INFORMANT_KEYS), None)

    if first_turn is None:
        start = lines[n_header].start if n_header < len(lines) else len(text)
        seg = text[start:]
        s = start + (len(seg) - len(seg.lstrip()))
        e = start + len(seg.rstrip())
        warnings.append("no speaker labels found (such as 'I:' or 'Lene:'); ingested the text as one informant turn.")
        turns = (Turn(speaker=informant or default_speaker, role="informant", start=s, end=e),) if e > s else ()
        return TurnSplit(turns, header, informant, tuple(warnings))

    names = _unify(sorted(speakers))
    turn_lines = [l for l in body[first_turn:] if l.label in speakers]
    roles, guess = _roles(text, turn_lines, names, interviewer, header)
    if guess:
        warnings.append(guess)
    turns = []
    for k, l in enumerate(turn_lines):
        stop = turn_lines[k + 1].label_start if k + 1 < len(turn_lines) else len(text)
        assert l.content_start is not None and stop is not None
        chunk = text[l.content_start : stop]
        s = l.content_start + (len(chunk) - len(chunk.lstrip()))
        e = l.content_start + len(chunk.rstrip())
        if e <= s:
            continue
        speaker = names[l.label or ""]
        meta: dict[str, Any] = {"label": l.label}
        if l.time:
            meta["time"] = l.time
        turns.append(Turn(speaker=speaker, role=roles[speaker], start=s, end=e, label_start=l.label_start, meta=meta))
    return TurnSplit(tuple(turns), header, informant, tuple(warnings))


def _roles(
    text: str,
    turn_lines: list[_Line],
    names: dict[str, str],
    interviewer: Sequence[str] | None,
    header: dict[str, str],
) -> tuple[dict[str, Role], str | None]:
    """Assign interviewer/informant roles; return a note when the interviewer was guessed."""
    speakers = list(dict.fromkeys(names.values()))
    wanted = {w.strip().lower() for w in interviewer or () if w.strip()}
    if wanted:
        chosen = {s for s in speakers if s.lower() in wanted or s.split()[0].lower() in wanted}
        chosen |= {names[k] for k in names if k.lower() in wanted}
        guess = None
        if not chosen:
            guess = (
                f"none of the speakers ({', '.join(speakers)}) matches --interviewer "
                f"{', '.join(sorted(wanted))}; all turns are marked as informant turns."
            )
    else:
        header_name = next((v for k, v in header.items() if k.lower() == "interviewer"), "").lower()
        chosen = {s for s in speakers if s.lower() in INTERVIEWER_LABELS}
        chosen |= {s for s in speakers if header_name and (s.lower() == header_name or header_name.split()[0] == s.lower())}
        guess = None
        if not chosen and len(speakers) > 1:
            questions: Counter[str] = Counter()
            total: Counter[str] = Counter()
            for k, l in enumerate(turn_lines):
                stop = turn_lines[k + 1].label_start if k + 1 < len(turn_lines) else len(text)
                chunk = text[l.content_start or 0 : stop].strip()
                sp = names[l.label or ""]
                total[sp] += 1
                questions[sp] += chunk.endswith("?")
            best = max(speakers, key=lambda s: (questions[s] / total[s], -total[s]))
            chosen = {best}
            guess = (
                f"guessed that '{best}' is the interviewer (most turns ending in a question mark); "
                "pass --interviewer LABEL if that is wrong."
            )
    return {s: ("interviewer" if s in chosen else "informant") for s in speakers}, guess
