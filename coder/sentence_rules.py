"""Rules that decide where a Danish sentence starts, given a line's tokens.

Pure Python over ``(words, spaces)`` lists, so the rules can be tested and reasoned about
without spaCy; `coder.segment` wraps them in a spaCy component. The rules and what they
are worth on UD Danish-DDT are described in ``spec/segmentation.md`` (shared folder).

The rules, in short:

* ``?`` and ``!`` end a sentence, and so does a ``.`` after an ordinary word, whatever the
  case of the next word: speech-like transcripts rarely capitalise after a full stop.
* ``...``/``…``, an abbreviation (``osv.``, ``kr.``) or an ordinal (``kl. 8.``) end a sentence
  only before a capitalised word. Hesitations (``tror... at``), dates (``1. november``) and
  most abbreviations are followed by lower case.
* Abbreviations that introduce something (``f.eks.``, ``bl.a.``, ``ca.``, ``kl.``, ``nr.``)
  and initials (``H.C. Andersen``) never end a sentence.
* An elision ``(...)`` or ``[...]`` never ends a sentence; after a sentence end it opens the
  next one, like an opening quote or bracket.
* Closing quotes and brackets stay with the sentence they close, and a bracketed stage
  direction (``[griner]``) after a sentence end stays with that sentence.
* ``"...?" spurgte hun``: a reporting verb after the end keeps the quote and the verb together.
* A quotation that opens a sentence (or follows ``sagde hun:``) and closes without an end
  mark ends the sentence: ``»hvad nu« det ved jeg ikke``; so does ``...`` before a closing
  quote, and ``...`` before an opening quote, a dash or an elision (a new utterance).
* In a transcript pasted as one block, a speaker label (``Birgit:``) starts a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Abbreviations that introduce a number, a name or an example, so a capital after them is
# not a new sentence ("bl.a. Danmark", "hr. Jensen", "kl. 8").
NEVER_FINAL = frozenset(
    """
    bl.a. f.eks. fx. ca. kl. s. nr. nrs. jf. jfr. jvf. mht. m.h.t. dvs. d.v.s. hhv. ift. pga.
    vha. iflg. ifm. iht. vedr. ang. stk. hr. fr. frk. fru. dr. prof. st. skt. sdr. ndr. pkt.
    kap. bd. pr. inkl. ekskl. evt. sml. jnr. j.nr. tlf. ml. gl. kgl. mr. mrs. omkr. cand.
    dr.phil. dr.med. dr.jur. dr.theol. dr.scient. dr.techn. dr.polit.
    """.split()
)

# Abbreviations that often end a sentence, without their final period.
ABBREVIATION_STEMS = frozenset(
    "osv mv mfl etc kr stk pct mio mia km kg ca nr inkl ekskl evt fx tlf mm ff".split()
)

# Danish reporting verbs: after `"Hvad nu?"` or `"Nej!"` they continue the sentence.
REPORTING_VERBS = frozenset(
    """
    sagde siger sagt spurgte spørger svarede svarer råbte råber mente mener tænkte tænker
    skrev skriver fortalte fortæller forklarede forklarer lød lyder udbrød tilføjede tilføjer
    hviskede hvisker sukkede sukker konstaterede konstaterer understregede understreger
    erklærede erklærer fastslog fastslår påpegede påpeger indrømmede indrømmer bemærkede
    bemærker fortsatte fortsætter spurgt råbt mumlede mumler skreg skriger protesterede
    protesterer istemte indvendte indvender vurderede vurderer oplyser oplyste meddeler
    meddelte uddyber uddybede foreslår foreslog opfordrer opfordrede advarer advarede
    konkluderer konkluderede lover lovede medgiver medgav citerer
    """.split()
)

OPENING = frozenset("\"'“„‘»«([{-–—")
CLOSING = frozenset("\"'”’«»)]}")
ALWAYS_CLOSING = frozenset(")]}”’")
_TERMINAL_CHARS = frozenset(".?!…")
_NO_START = frozenset(",;:")  # a sentence never starts with these

_LABEL = re.compile(r"^[A-ZÆØÅ][\wÆØÅæøå-]{0,20}$")
_INITIALS = re.compile(r"^(?:[A-ZÆØÅ]\.)+$")
_ELLIPSIS = re.compile(r"^(?:\.{2,}|…+|\.*…[.…]*)$")

# How far past a candidate boundary to look for the first word (opening quotes, elisions).
_LOOKAHEAD = 6

# Strengths of a sentence end. WEAK ones need a capital (or a new utterance) after them.
NONE, WEAK, WEAK_ELLIPSIS, STRONG, QUOTE = 0, 1, 2, 3, 4
_QUOTE_CLOSERS = {
    '"': frozenset('"'),
    "»": frozenset("«»"),
    "„": frozenset('“"'),
    "“": frozenset('”"'),
}
# Tokens that open a new utterance after a trailing-off "...".
_UTTERANCE_OPENERS = frozenset(['"', "»", "„", "“", "-", "–"])


_WORD_CHAR = re.compile(r"[^\W_]")


def _has_word(token: str) -> bool:
    """A letter or a digit anywhere in the token."""
    return _WORD_CHAR.search(token) is not None


def _is_abbreviation_stem(token: str) -> bool:
    """`f.eks`, `stk`: a token that, with a period, is an abbreviation."""
    return ("." in token and token[-1].isalpha()) or token.lower() in ABBREVIATION_STEMS


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and 1000 <= int(token) <= 2099


def _is_elision(words: Sequence[str], gaps: Sequence[bool], j: int) -> bool:
    """`(...)` / `[...]`: transcribers mark left-out speech; the sentence goes on."""
    return (
        0 < j < len(words) - 1
        and words[j - 1] in ("(", "[")
        and words[j + 1] in (")", "]")
        and not gaps[j]
        and not gaps[j + 1]
    )


def _terminal_strength(words: Sequence[str], gaps: Sequence[bool], j: int) -> int:
    """How surely token ``j`` ends a sentence: STRONG, WEAK (only before a capital) or NONE."""
    w = words[j]
    last = w[-1]
    if last not in _TERMINAL_CHARS:
        return NONE
    if set(w) <= {"?", "!"} or (len(w) > 1 and set(w) <= {"?", "!", "."} and "." not in w[:1]):
        return STRONG  # "?", "!", "?!", "!!", "?.."
    if w == ".." and j > 0 and not gaps[j] and _is_abbreviation_stem(words[j - 1]):
        return STRONG  # "til 20 kr. stk..": the abbreviation's period, then the sentence's
    if _ELLIPSIS.match(w):
        return NONE if _is_elision(words, gaps, j) else WEAK_ELLIPSIS
    if w == ".":
        if j == 0 or gaps[j]:
            return STRONG
        prev = words[j - 1]
        if prev.isdigit():
            # "i 1990." ends a sentence; "den 32. plads" does not.
            return STRONG if _is_year(prev) else WEAK
        if len(prev) == 1 and prev.isupper():
            return NONE  # an initial: "J . Jensen" tokenised apart
        return STRONG
    if last == "." and len(w) > 1:
        # A token that keeps its period: a tokenizer exception (abbreviation) or an ordinal.
        stem = w[:-1]
        if stem.replace(".", "").isdigit():
            return WEAK  # "kl. 8. Derefter", "1. november"
        if _INITIALS.match(w):
            return NONE
        if w.lower() in NEVER_FINAL:
            return NONE
        return WEAK
    if last in "?!":
        return STRONG
    if last == "…":
        return WEAK_ELLIPSIS
    return NONE


def _stage_direction_end(words: Sequence[str], k: int) -> int:
    """Return the index after a `[griner]`-style mark starting at ``k``, or ``k`` if none."""
    if k >= len(words) or words[k] != "[":
        return k
    for end in range(k + 1, min(len(words), k + 6)):
        if words[end] == "]":
            inner = words[k + 1 : end]
            if inner and all(t.isalpha() for t in inner):
                return end + 1
            return k
    return k


def sentence_starts(words: Sequence[str], spaces: Sequence[bool]) -> list[bool]:
    """Mark the tokens that start a sentence; ``spaces[i]`` says whitespace follows token ``i``.

    Whitespace-only tokens are transparent: they never start a sentence. The first token
    always does (a line break is always a boundary, so callers pass one line at a time).
    """
    n = len(words)
    flags = [False] * n
    if n == 0:
        return flags
    flags[0] = True
    # Work on content tokens only; gaps[j] says whitespace separates content token j-1 and j.
    index = [i for i in range(n) if not words[i].isspace()]
    toks = [words[i] for i in index]
    m = len(toks)
    gaps = [False] * m
    for j in range(1, m):
        gaps[j] = index[j] - index[j - 1] > 1 or spaces[index[j - 1]]
    words_before = 0  # tokens with a letter or digit in the current sentence, before j
    quote = _opening_quote(toks, 0)  # closer of a quotation that opened the sentence
    j = 0
    while j < m:
        w = toks[j]
        if w[-1] in _TERMINAL_CHARS:
            strength = _terminal_strength(toks, gaps, j)
        elif quote and w in quote and not gaps[j] and j > 0 and _has_word(toks[j - 1]):
            # »hvad skal vi nu« det ved jeg ikke: the quoted sentence lost its end mark.
            strength = QUOTE
        else:
            strength = NONE
            if w in _QUOTE_CLOSERS and j > 0 and toks[j - 1] == ":" and gaps[j]:
                quote = _QUOTE_CLOSERS[w]  # sagde hun: "det var godt" - a quoted sentence
        if words_before and _is_speaker_label(toks, gaps, j):
            flags[index[j]] = True
            words_before = 0
            quote = None
            j += 1
            continue
        if strength in (WEAK, WEAK_ELLIPSIS) and words_before == 0:
            strength = NONE  # a list number "2." or a lone "..." does not make a sentence
        if strength == NONE or (words_before == 0 and not _has_word(w)):
            if not words_before and _has_word(w):
                words_before = 1
            j += 1
            continue
        k, question, closed = _absorb(toks, gaps, j)
        if strength == QUOTE:
            closed = True
        elif strength == WEAK_ELLIPSIS and closed:
            strength = STRONG  # a quotation that trails off and closes: »og så videre...«
        if closed:
            quote = None  # the quotation that opened the sentence (if any) is over
        if k >= m:
            break
        followed_by_mark = strength == QUOTE and not _has_word(toks[k]) and toks[k] not in OPENING
        if (
            toks[k] not in _NO_START
            and not followed_by_mark
            and _splits(toks, k, strength, question or strength == QUOTE, closed)
        ):
            flags[index[k]] = True
            words_before = 0
            quote = _opening_quote(toks, k)
        else:
            words_before += 1
        j = k
    return flags


def _is_speaker_label(toks: Sequence[str], gaps: Sequence[bool], j: int) -> bool:
    """``... og det var det Birgit: ja``: a speaker label inside a transcript pasted flat.

    A capitalised name glued to a colon, after a word that is not part of a name
    ("siger Poul Ebbe Nielsen: Det" is not a label) and not after a comma or colon.
    """
    return (
        0 < j < len(toks) - 1
        and toks[j + 1] == ":"
        and toks[j][:1].isupper()
        and not gaps[j + 1]
        and gaps[j]
        and (j + 2 == len(toks) or gaps[j + 2])
        and _LABEL.match(toks[j]) is not None
        and not toks[j - 1][:1].isupper()
        and toks[j - 1] not in (",", ":")
    )


def _absorb(toks: Sequence[str], gaps: Sequence[bool], j: int) -> tuple[int, bool, bool]:
    """Skip end marks and closing quotes after token ``j``; say if a ?/! or a quote was seen."""
    question = "?" in toks[j] or "!" in toks[j]
    closed = False
    k = j + 1
    while k < len(toks):
        t = toks[k]
        if t[-1] in _TERMINAL_CHARS and not _has_word(t) and not gaps[k]:
            question = question or "?" in t or "!" in t
        elif t in ALWAYS_CLOSING or (t in CLOSING and not gaps[k]):
            closed = closed or t not in ")]}"
        else:
            break
        k += 1
    return _stage_direction_end(toks, k), question, closed


def _splits(toks: Sequence[str], k: int, strength: int, question: bool, closed: bool) -> bool:
    """Decide whether the sentence ends before token ``k``, from the words that follow."""
    first = _first_word(toks, k)
    if first is None:
        return strength >= STRONG
    if strength == WEAK_ELLIPSIS and toks[k] != first and _opens_utterance(toks, k):
        return True  # "ned... »det er" / "ned... (...) det": a new utterance opens
    if strength < STRONG:
        # "h. L. Hansen" (initials continue a name) vs "kl. 8. Derefter"
        return first[:1].isupper() and not _INITIALS.match(first)
    if first[:1].isupper() or first[:1].isdigit():
        return True
    return not ((question or closed) and first.lower() in REPORTING_VERBS)


def _opens_utterance(toks: Sequence[str], k: int) -> bool:
    """An opening quote or a leading elision "(...)" at ``k``."""
    if toks[k] in _UTTERANCE_OPENERS:
        return True
    return k + 2 < len(toks) and toks[k] in ("(", "[") and _ELLIPSIS.match(toks[k + 1]) is not None


def _opening_quote(toks: Sequence[str], k: int) -> frozenset[str] | None:
    """If the sentence starting at ``k`` opens with a quotation mark, return its closers."""
    while k + 2 < len(toks) and toks[k] in ("(", "[") and toks[k + 2] in (")", "]"):
        k += 3  # skip a leading elision "(...)"
    if k < len(toks):
        return _QUOTE_CLOSERS.get(toks[k])
    return None


def _first_word(toks: Sequence[str], k: int) -> str | None:
    """The first token with a letter or digit at or after ``k``, skipping quotes and elisions."""
    for t in toks[k : k + _LOOKAHEAD]:
        if _has_word(t):
            return t
    return None
