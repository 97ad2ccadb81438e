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
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

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
CUT_CONJUNCTIONS = frozenset(
    "og men så fordi eller da når hvis selvom mens der som hvor at".split()
)

COMPONENT = "coder_sentence_rules"

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


def _register_component() -> None:
    """Register the rule component with spaCy once (lazily, so spaCy is imported on demand)."""
    from spacy.language import Language

    if Language.has_factory(COMPONENT):
        return

    @Language.component(COMPONENT)
    def coder_sentence_rules(doc: Doc) -> Doc:
        """Set ``is_sent_start`` on every token from `coder.sentence_rules`."""
        flags = sentence_starts([t.text for t in doc], [bool(t.whitespace_) for t in doc])
        for token, flag in zip(doc, flags):
            token.is_sent_start = flag
        return doc


@functools.lru_cache(maxsize=1)
def load_nlp() -> Language:
    """Build the Danish pipeline: blank tokenizer, abbreviation exceptions, rule component."""
    import spacy
    from spacy.symbols import ORTH

    _register_component()
    nlp = spacy.blank("da")
    rules = {
        orth: value
        for orth, value in nlp.tokenizer.rules.items()
        if not (orth.endswith(".") and orth[:-1].lower() in AMBIGUOUS_ABBREVIATIONS)
    }
    nlp.tokenizer.rules = rules
    for abbr in EXTRA_ABBREVIATIONS:
        for orth in {abbr, abbr[:1].upper() + abbr[1:]}:
            nlp.tokenizer.add_special_case(orth, [{ORTH: orth}])
    nlp.add_pipe(COMPONENT)
    # Transcripts arrive as whole documents; the blank pipeline needs little memory per char.
    nlp.max_length = 10_000_000
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
    for i, (turn, spans) in enumerate(zip(transcript.turns, _split_many(turn_texts, nlp))):
        for start, end in spans:
            start, end = start + turn.start, end + turn.start
            if not turn.start <= start < end <= turn.end:
                raise RuntimeError(  # a bug, not a user error: keep it loud
                    f"sentence {start}:{end} falls outside turn {i} ({turn.start}:{turn.end})"
                )
            segments.append(Segment(turn=i, index=len(segments), start=start, end=end))
    return segments


def _lines(text: str) -> Iterable[tuple[int, str]]:
    """Yield ``(offset, line)`` for every line that has non-whitespace text."""
    offset = 0
    for line in text.split("\n"):
        if line and not line.isspace():
            yield offset, line
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
    for (t, offset), line, doc in zip(owners, lines, nlp.pipe(lines, batch_size=256)):
        for start, end in _doc_spans(doc, line):
            for s, e in _cut_long(line, start, end):
                result[t].append((s + offset, e + offset))
    return result


def _doc_spans(doc: Doc, line: str) -> list[tuple[int, int]]:
    """Turn the doc's sentence starts into whitespace-trimmed character spans of ``line``."""
    bounds = [token.idx for token in doc if token.is_sent_start]
    if not bounds or bounds[0] != 0:
        bounds.insert(0, 0)
    bounds.append(len(line))
    spans = []
    for start, end in zip(bounds, bounds[1:]):
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
    """Cut ``text[start:end]`` into pieces within `MAX_WORDS`/`MAX_CHARS`.

    Pieces are balanced in length; a cut goes after a comma if one is in reach, else before
    a conjunction, else at a space; a single word longer than `MAX_CHARS` is cut inside.
    """
    pieces: list[tuple[int, int]] = []
    while True:
        words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
        n = len(words)
        if n <= MAX_WORDS and end - start <= MAX_CHARS:
            pieces.append((start, end))
            return pieces
        # hi: the most words a first piece can take; the rest must keep at least one word.
        hi = 0
        while hi < min(n - 1, MAX_WORDS) and words[hi][1] - start <= MAX_CHARS:
            hi += 1
        if hi == 0:  # the first word alone is too long
            cut = start + MAX_CHARS
            pieces.append((start, cut))
            start, end = _trim(text, cut, end)
            if start >= end:
                return pieces
            continue
        n_pieces = max(-(-n // MAX_WORDS), -(-(end - start) // MAX_CHARS))
        lo = max(1, hi // 3)
        target = min(hi, max(lo, round(n / n_pieces)))
        i = _best_cut(text, words, lo, hi, target)
        pieces.append((start, words[i - 1][1]))
        start = words[i][0]


def _best_cut(text: str, words: list[tuple[int, int]], lo: int, hi: int, target: int) -> int:
    """Pick ``i`` in ``[lo, hi]``: the new piece starts at word ``i``."""
    candidates = range(lo, hi + 1)
    commas = [i for i in candidates if text[words[i - 1][1] - 1] in ",;:"]
    if commas:
        return min(commas, key=lambda i: abs(i - target))
    conjunctions = [
        i for i in candidates if text[words[i][0] : words[i][1]].lower() in CUT_CONJUNCTIONS
    ]
    if conjunctions:
        return min(conjunctions, key=lambda i: abs(i - target))
    return target
