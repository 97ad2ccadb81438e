"""Split Danish interview transcripts into sentences with exact character offsets.

Sentences are the unit that codes are attached to, so every span must point into the
original text: ``text[start:end]`` is the sentence, trimmed of surrounding whitespace.

We start from ``spacy.blank("da")`` because spaCy's trained Danish pipelines cannot be
installed offline; a rule component (`coder.sentence_rules`) handles what the plain
``sentencizer`` gets wrong on Danish and on spoken language (see ``spec/segmentation.md``).
spaCy is imported lazily: once torch is installed, ``import spacy`` pulls it in, and
``coder --help`` must stay fast.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from coder.records import Segment, Transcript
from coder.sentence_rules import sentence_starts

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["MAX_CHARS", "MAX_WORDS", "load_nlp", "split_sentences", "split_text"]

# Automatic transcripts often have no punctuation for minutes, which would make one
# "sentence" of a whole turn: too long to read in review, and past what a sentence
# encoder represents well. The longest sentences in UD Danish-DDT dev are ~60 words and
# ~400 characters (the median is 15 words), so well-punctuated text is almost never cut.
MAX_WORDS = 60
MAX_CHARS = 400

# Where a long sentence may be cut when no comma is near: before a conjunction.
CUT_CONJUNCTIONS = frozenset("og men så fordi eller for da når hvis selvom mens".split())

COMPONENT = "coder_sentence_rules"

# Longest piece of one line given to spaCy at once (see `_lines`).
_MAX_CHUNK = 100_000

# Danish abbreviations that spaCy's Danish tokenizer splits apart ("cand.mag." -> "cand.mag", ".").
EXTRA_ABBREVIATIONS = (
    "el. cand.mag. cand.polit. cand.scient. cand.jur. cand.merc. cand.psych. cand.phil. "
    "cand.theol. cand.oecon. cand.med. cand.pæd. cand.soc. cand.it. mag.art. ph.d. "
    "adm. mdl. ordf. næstfmd. jvnf. fmd. ekskl. inkl. mm. bl.a. f.eks. m.fl. mfl."
).split()

# spaCy's Danish exceptions include abbreviations that are also ordinary Danish words, which
# often end a sentence ("Det gør man."); tokenised as word + "." they end it.
AMBIGUOUS_ABBREVIATIONS = frozenset(
    "man tv rest regn vind hum arr eng lin i do off lab pass sing self temp org tor id it if "
    "gross mag".split()
)

_WORD = re.compile(r"\S+")
_UTTERANCE_OPENERS = frozenset('-–"»„“')


def _register_component() -> None:
    """Register the rule component with spaCy once (lazily, so spaCy is imported on demand)."""
    import numpy
    from spacy.language import Language

    if Language.has_factory(COMPONENT):
        return

    @Language.component(COMPONENT)
    def coder_sentence_rules(doc: Doc) -> Doc:
        """Set ``is_sent_start`` on every token from `coder.sentence_rules`."""
        if len(doc) == 0:
            return doc
        # Arrays instead of per-token attribute access: several times faster.
        orth_space = doc.to_array(["ORTH", "SPACY"])
        strings = doc.vocab.strings
        words = [strings[orth] for orth in orth_space[:, 0].tolist()]
        flags = sentence_starts(words, orth_space[:, 1].astype(bool).tolist())
        values = numpy.array([1 if flag else -1 for flag in flags], dtype="int64")
        # thinc's Ints2d type is narrower than numpy's; the array is what spaCy expects.
        doc.from_array(["SENT_START"], values.astype("uint64").reshape(-1, 1))  # type: ignore[arg-type]
        return doc


@functools.lru_cache(maxsize=1)
def load_nlp() -> Language:
    """Build the Danish pipeline: blank tokenizer, abbreviation exceptions, rule component."""
    import spacy

    _register_component()
    nlp = spacy.blank("da")
    tokenizer: Any = nlp.tokenizer  # spacy.tokenizer.Tokenizer is compiled and has no stubs
    tokenizer.rules = {
        orth: value
        for orth, value in tokenizer.rules.items()
        if not (orth.endswith(".") and orth[:-1].lower() in AMBIGUOUS_ABBREVIATIONS)
    }
    for abbr in EXTRA_ABBREVIATIONS:
        for orth in {abbr, abbr[:1].upper() + abbr[1:]}:
            tokenizer.add_special_case(orth, [{"ORTH": orth}])
    nlp.add_pipe(COMPONENT)
    return nlp


def split_text(text: str, nlp: Language | None = None) -> list[tuple[int, int]]:
    """Return sentence spans ``(start, end)`` in ``text``, in order and trimmed of whitespace.

    A line break always ends a sentence, and no sentence is longer than `MAX_WORDS` words
    or `MAX_CHARS` characters. Every non-whitespace character is inside exactly one span.
    """
    return _split_many([text], nlp)[0]


def split_sentences(transcript: Transcript, nlp: Language | None = None) -> list[Segment]:
    """Split each turn of ``transcript`` into sentences with offsets into the whole document.

    The speaker label is already outside the turn (ingest removed it), so it can never be
    glued to a sentence. ``Segment.index`` counts sentences across the document.
    """
    text = transcript.text
    turn_texts = [text[turn.start : turn.end] for turn in transcript.turns]
    segments: list[Segment] = []
    per_turn = _split_many(turn_texts, nlp)
    for i, (turn, spans) in enumerate(zip(transcript.turns, per_turn, strict=True)):
        for start, end in spans:
            start, end = start + turn.start, end + turn.start
            if not turn.start <= start < end <= turn.end:
                raise RuntimeError(  # a bug, not a user error: keep it loud
                    f"sentence {start}:{end} falls outside turn {i} ({turn.start}:{turn.end})"
                )
            segments.append(Segment(turn=i, index=len(segments), start=start, end=end))
    return segments


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """Yield ``(offset, line)`` for every line with text; very long lines come in chunks.

    Chunks (cut at a space) keep each spaCy call far below `Language.max_length`; a chunk
    boundary is a sentence boundary, which `MAX_CHARS` would force anyway.
    """
    offset = 0
    for line in text.split("\n"):
        start = 0
        while len(line) - start > _MAX_CHUNK:
            cut = line.rfind(" ", start + MAX_CHARS, start + _MAX_CHUNK)
            cut = cut if cut > start else start + _MAX_CHUNK
            if not line[start:cut].isspace():
                yield offset + start, line[start:cut]
            start = cut
        rest = line[start:]
        if rest and not rest.isspace():
            yield offset + start, rest
        offset += len(line) + 1


def _split_many(texts: Sequence[str], nlp: Language | None) -> list[list[tuple[int, int]]]:
    """Split several texts in one `nlp.pipe` run over all their lines (fast for many turns)."""
    nlp = nlp if nlp is not None else load_nlp()
    owners: list[tuple[int, int]] = []  # (text index, line offset) for each piped line
    lines: list[str] = []
    for t, text in enumerate(texts):
        for offset, line in _lines(text):
            owners.append((t, offset))
            lines.append(line)
    result: list[list[tuple[int, int]]] = [[] for _ in texts]
    for (t, offset), line, doc in zip(owners, lines, nlp.pipe(lines, batch_size=256), strict=True):
        for start, end in _doc_spans(doc, line):
            for s, e in _cut_long(line, start, end):
                result[t].append((s + offset, e + offset))
    return result


def _doc_spans(doc: Doc, line: str) -> list[tuple[int, int]]:
    """Turn the doc's sentence starts into whitespace-trimmed character spans of ``line``."""
    if len(doc) == 0:
        return []
    idx_start = doc.to_array(["IDX", "SENT_START"])
    bounds = idx_start[idx_start[:, 1] == 1, 0].tolist()
    if not bounds or bounds[0] != 0:
        bounds.insert(0, 0)
    bounds.append(len(line))
    spans = []
    for start, end in itertools.pairwise(bounds):
        start, end = _trim(line, start, end)
        if start < end:
            spans.append((start, end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces within `MAX_WORDS` words and `MAX_CHARS` characters.

    Pieces are balanced in length and cut at the best place in reach (see `_best_cut`);
    a single word longer than `MAX_CHARS` is cut inside.
    """
    if end - start <= MAX_CHARS and len(text[start:end].split()) <= MAX_WORDS:
        return [(start, end)]
    words: list[tuple[int, int]] = []
    for m in _WORD.finditer(text, start, end):
        words.extend((s, min(s + MAX_CHARS, m.end())) for s in range(m.start(), m.end(), MAX_CHARS))
    pieces = []
    first = 0  # index of the first word of the piece being cut
    while True:
        n = len(words) - first
        begin = words[first][0]
        if n <= MAX_WORDS and words[-1][1] - begin <= MAX_CHARS:
            pieces.append((begin, words[-1][1]))
            return pieces
        # hi: the most words the next piece can take (always >= 1: no word exceeds MAX_CHARS).
        hi = 1
        while hi < min(n - 1, MAX_WORDS) and words[first + hi][1] - begin <= MAX_CHARS:
            hi += 1
        n_pieces = max(-(-n // MAX_WORDS), -(-(words[-1][1] - begin) // MAX_CHARS))
        lo = max(1, hi // 3)  # no tiny pieces when a comma happens to be early
        target = min(hi, max(lo, round(n / n_pieces)))
        cut = first + _best_cut(text, words[first:], lo, hi, target)
        pieces.append((begin, words[cut - 1][1]))
        first = cut


def _best_cut(text: str, words: list[tuple[int, int]], lo: int, hi: int, target: int) -> int:
    """Pick ``i`` in ``[lo, hi]`` (the next piece starts at word ``i``), nearest ``target``.

    Preference: after a trailing-off "..." or before a dash or quote that opens an
    utterance (where an unpunctuated sentence most likely ended: +0.01 F1 on DDT dev),
    then after a comma, then before a conjunction, then any space.
    """
    candidates = range(lo, hi + 1)

    def word(i: int) -> str:
        return text[words[i][0] : words[i][1]]

    cues = [
        i
        for i in candidates
        if word(i - 1).endswith(("...", "…")) or word(i)[:1] in _UTTERANCE_OPENERS
    ]
    commas = [i for i in candidates if word(i - 1)[-1] in ",;:"]
    conjunctions = [i for i in candidates if word(i).lower() in CUT_CONJUNCTIONS]
    for pool in (cues, commas, conjunctions):
        if pool:
            return min(pool, key=lambda i: abs(i - target))
    return target
