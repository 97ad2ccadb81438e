"""Subtitle files from automatic transcription (.srt, .vtt): cues joined into speaker turns.

The stored text is built from the cues (one paragraph per turn, ``Speaker: text`` when the cue
names its speaker); the cue timestamps are kept per turn as metadata.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from ..errors import InputFileError
from .decode import read_text_file

_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>]+>")
_NAMED = re.compile(r"^([A-ZÆØÅ][\wÆØÅæøå-]*(?:\s[A-ZÆØÅ][\wÆØÅæøå-]*){0,2}):\s+")


def _clock(t: timedelta) -> str:
    total = t.total_seconds()
    return f"{int(total // 3600):02d}:{int(total % 3600 // 60):02d}:{total % 60:06.3f}"


def _cues(path: Path, text: str) -> list[tuple[str, str, str]]:
    """Return (start, end, raw text) per cue."""
    if path.suffix.lower() == ".srt":
        import srt

        try:
            return [(_clock(c.start), _clock(c.end), c.content) for c in srt.parse(text)]
        except srt.SRTParseError as e:
            raise InputFileError(f"{path.name} is not a valid .srt file ({e}); check the cue numbering and timestamps.") from e
    import io

    import webvtt

    try:
        return [(c.start, c.end, c.raw_text if hasattr(c, "raw_text") else c.text) for c in webvtt.from_buffer(io.StringIO(text))]
    except webvtt.errors.MalformedFileError as e:
        raise InputFileError(f"{path.name} is not a valid WebVTT file ({e}); it must start with 'WEBVTT'.") from e


def read_subtitles(path: Path, encoding: str | None = None) -> tuple[str, dict[int, int], list[str]]:
    """Return (text, label hints, warnings) with one line per turn."""
    raw, warnings = read_text_file(path, encoding)
    turns: list[tuple[str | None, list[str], str, str]] = []
    for start, end, content in _cues(path, raw):
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
