"""Subtitle files from automatic transcription (.srt, .vtt): cues joined into speaker turns.

The stored text is built from the cues (one paragraph per turn, ``Speaker: text`` when the cue
names its speaker); the cue timestamps are kept per turn as metadata. Cues are read here rather
than by a subtitle library because those drop a cue with malformed timing without a word (and
its neighbours' turns merge) or fail quoting the whole rest of the file: a cue that cannot be read
is reported with its line number, never its text (issue 15.3/15.4).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputFileError
from .decode import read_text_file

_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>]+>")
_NAMED = re.compile(r"^([A-ZÆØÅ][\wÆØÅæøå-]*(?:\s[A-ZÆØÅ][\wÆØÅæøå-]*){0,2}):\s+")
_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")
_VTT_BLOCKS = ("NOTE", "STYLE", "REGION")


def _clock(h: str | None, m: str, s: str, ms: str) -> str:
    return f"{int(h or 0):02d}:{m}:{s}.{ms}"


def _cues(path: Path, text: str) -> tuple[list[tuple[str, str, str]], list[int]]:
    """Return (start, end, raw text) per readable cue, and the line numbers of cues that cannot be read."""
    vtt = path.suffix.lower() == ".vtt"
    lines = text.split("\n")
    if vtt and not lines[0].startswith("WEBVTT"):
        raise InputFileError(f"{path.name} is not a valid WebVTT file; its first line must be 'WEBVTT'.")
    cues, bad = [], []
    block: list[tuple[int, str]] = []
    for n, line in enumerate([*lines, ""], start=1):
        if line.strip():
            block.append((n, line))
            continue
        if not block:
            continue
        first = block[0][1].strip()
        if not (vtt and (block[0][0] == 1 or first.split(" ")[0] in _VTT_BLOCKS)):  # header and NOTE/STYLE/REGION
            at = next((i for i, (_, ln) in enumerate(block[:2]) if "-->" in ln), None)
            m = _TIMING.match(block[at][1]) if at is not None else None
            if m is None:
                bad.append(block[0][0])
            else:
                g = m.groups()
                cues.append((_clock(*g[:4]), _clock(*g[4:]), "\n".join(ln for _, ln in block[at + 1 :])))
        block = []
    return cues, bad


def read_subtitles(path: Path, encoding: str | None = None, *, skip_bad_cues: bool = False) -> tuple[str, dict[int, int], list[str]]:
    """Return (text, label hints, warnings) with one line per turn; unreadable cues fail the file
    unless ``skip_bad_cues``, which leaves them out with a warning."""
    raw, warnings = read_text_file(path, encoding)
    cues, bad = _cues(path, raw)
    if bad:
        lines = ", ".join(map(str, bad[:10])) + (", ..." if len(bad) > 10 else "")
        if not skip_bad_cues:
            raise InputFileError(
                f"{path.name}: {len(bad)} cue(s) without a readable 'start --> end' timing line (line {lines}); "
                "fix them, or pass --skip-bad-cues to leave them out."
            )
        warnings = [*warnings, f"left out {len(bad)} cue(s) without a readable timing line (line {lines})."]
    turns: list[tuple[str | None, list[str], str, str]] = []
    for start, end, content in cues:
        speaker = None
        content = content.strip()
        m = _VOICE.match(content)
        if m:
            speaker = m.group(1).strip()
        body = " ".join(_TAGS.sub("", content).split())
        n = _NAMED.match(body)
        if n and speaker is None:
            speaker, body = n.group(1), body[n.end():]
        if not body:
            continue
        if turns and (speaker is None or speaker == turns[-1][0]):
            turns[-1][1].append(body)
            turns[-1] = (turns[-1][0], turns[-1][1], turns[-1][2], end)
        else:
            turns.append((speaker, [body], start, end))
    if not turns:
        raise InputFileError(f"{path.name} contains no subtitle text; check that it is the transcript's subtitle file.")
    if all(sp is None for sp, *_ in turns):
        # Without speaker names a timestamp prefix would end up inside the first sentence.
        return "\n\n".join(" ".join(b) for _, b, _, _ in turns), {}, warnings
    # The cues name their speakers, so every line's label is certain: pass it as a hint.
    text, hints = "", {}
    for sp, body, start, _ in turns:
        prefix = f"[{start}] {sp or 'Ukendt'}:"
        if text:
            text += "\n\n"
        hints[len(text)] = len(text) + len(prefix)
        text += f"{prefix} {' '.join(body)}"
    return text, hints, warnings
