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
    kap. bd. pr. inkl. ekskl. evt. sml. jnr. j.nr. tlf. ml. gl. kgl. mr. mrs. ca. omkr.
    cand. mag.
    """.split()
)

# Danish reporting verbs: after `"Hvad nu?"` or `"Nej!"` they continue the sentence.
REPORTING_VERBS = frozenset(
    """
    sagde siger sagt spurgte spørger svarede svarer råbte råber mente mener tænkte tænker
    skrev skriver fortalte fortæller forklarede forklarer lød lyder udbrød tilføjede tilføjer
    hviskede hvisker sukkede sukker konstaterede konstaterer understregede understreger
    erklærede erklærer fastslog fastslår påpegede påpeger indrømmede indrømmer bemærkede
    bemærker fortsatte fortsætter spurgt råbt mumlede mumler skreg skriger protesterede
    protesterer istemte indvendte indvender vurderede vurderer
    """.split()
)

OPENING = frozenset("\"'“„‘»«([{-–—")
CLOSING = frozenset("\"'”’«»)]}")
ALWAYS_CLOSING = frozenset(")]}”’")
_TERMINAL_CHARS = frozenset(".?!…")
_NO_START = frozenset(",;:")  # a sentence never starts with these

_INITIALS = re.compile(r"^(?:[A-ZÆØÅ]\.)+$")
_ELLIPSIS = re.compile(r"^(?:\.{2,}|…+|\.*…[.…]*)$")

# How far past a candidate boundary to look for the first word (opening quotes, elisions).
_LOOKAHEAD = 6

STRONG, WEAK, NONE = 2, 1, 0


def _has_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


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
    if _ELLIPSIS.match(w):
        return NONE if _is_elision(words, gaps, j) else WEAK
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
        if not any(ch.isalpha() for ch in stem):
            return WEAK
        return WEAK
    if last in "?!":
        return STRONG
    if last == "…":
        return WEAK
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
    gaps = [False] * len(toks)
    for j in range(1, len(toks)):
        gaps[j] = index[j] - index[j - 1] > 1 or spaces[index[j - 1]]
    m = len(toks)
    seen_word = False
    j = 0
    while j < m:
        w = toks[j]
        if not seen_word and _has_word(w):
            seen_word = True
        strength = _terminal_strength(toks, gaps, j) if w[-1] in _TERMINAL_CHARS else NONE
        if strength == NONE or not seen_word:
            j += 1
            continue
        question = "?" in w or "!" in w
        # Absorb further end punctuation and closing quotes/brackets.
        k = j + 1
        closed = False
        while k < m:
            t = toks[k]
            if t[-1] in _TERMINAL_CHARS and not _has_word(t) and not gaps[k]:
                question = question or "?" in t or "!" in t
                k += 1
            elif t in ALWAYS_CLOSING or (t in CLOSING and not gaps[k]):
                closed = closed or t not in ")]}"
                k += 1
            else:
                break
        k = _stage_direction_end(toks, k)
        if k >= m:
            break
        if toks[k] in _NO_START:
            j = k
            continue
        first = _first_word(toks, k)
        if first is None:
            split = strength == STRONG
        elif first[:1].isupper():
            split = True
        elif first[:1].isdigit():
            split = strength == STRONG
        else:
            split = strength == STRONG and not (
                (question or closed) and first.lower() in REPORTING_VERBS
            )
        if split:
            flags[index[k]] = True
            seen_word = False
        j = k
    return flags


def _first_word(toks: Sequence[str], k: int) -> str | None:
    """The first token with a letter or digit at or after ``k``, skipping quotes and elisions."""
    for t in toks[k : k + _LOOKAHEAD]:
        if _has_word(t):
            return t
    return None
