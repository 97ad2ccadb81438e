"""The one reading of a stance written by a person: coding files, .qdpx descriptions, the review API.

A coded sentence either supports or contradicts the hypotheses its code is evidence for. Files
written by hand or by other tools use other words for the two, so every reader goes through
`parse_stance`: the synonyms below are accepted (case and surrounding spaces ignored), anything
else is refused with the place it came from, because a misread "contradict" reverses the evidence.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidRequestError

SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("supports", "support", "for", "+", "understøtter", "støtter"), "supports"),
    **dict.fromkeys(("contradicts", "contradict", "against", "-", "modsiger", "taler imod"), "contradicts"),
}


# Words for "no stance" (the thesis quotes mark background passages "neutral").
NEUTRAL = ("neutral", "neutralt")


class UnknownStanceError(InvalidRequestError):
    """A stance that is none of the accepted words."""


def is_stance(value: str) -> bool:
    """True when ``value`` is one of the accepted stance words."""
    return " ".join(value.split()).lower() in SYNONYMS


def parse_stance(value: Any, where: str) -> str | None:
    """``"supports"``, ``"contradicts"``, or None when no stance is given (empty, null or "neutral").

    ``where`` names the place for the error (``"codings.jsonl, line 4"``).
    """
    if value is None or (isinstance(value, str) and (not value.strip() or value.strip().lower() in NEUTRAL)):
        return None
    if isinstance(value, str) and is_stance(value):
        return SYNONYMS[" ".join(value.split()).lower()]
    shown = repr(value) if isinstance(value, str) and len(value) <= 40 else f"a {type(value).__name__}"
    raise UnknownStanceError(
        f"{where}: Unknown stance {shown}; use supports (or support, for, +, understøtter, støtter) "
        "or contradicts (or contradict, against, -, modsiger, taler imod)."
    )
