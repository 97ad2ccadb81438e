"""Queue strategies as small classes in small-text's shape: each scores candidates, lower first.

Every strategy sees the same inputs: the candidates' code probabilities (n, k), the model's
thresholds (k,) and the candidates' positions in document order, and returns a priority per
candidate (lower = ask sooner) plus a short reason a reviewer can read, in the language of the
``_`` (gettext) it is given: the reasons are entries of the message catalogue (`coder.i18n`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..errors import CoderError
from ..i18n import N_, Translate, english


RANDOM_REASON = N_("random sample (keeps the picture unbiased)")


class QueryStrategy(ABC):
    name: str

    @abstractmethod
    def priority(self, proba: np.ndarray, thresholds: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Priority per candidate; the lowest is shown first."""

    def reason(self, p: np.ndarray, thresholds: np.ndarray, codes: Sequence[str], _: Translate = english) -> str:
        return self.name


class Uncertainty(QueryStrategy):
    """The sentence whose most uncertain code sits closest to its threshold (least confidence)."""

    name = "uncertainty.v1"

    def priority(self, proba, thresholds, order):
        return np.abs(np.nan_to_num(proba, nan=0.0) - thresholds).min(1) if proba.size else np.zeros(len(order))

    def reason(self, p, thresholds, codes, _=english):
        d = np.abs(np.nan_to_num(p, nan=0.0) - thresholds)
        a, b = np.argsort(d)[:2]
        return _("uncertain about %(a)s (%(pa).2f vs threshold %(ta).2f) and %(b)s (%(pb).2f)") % {
            "a": codes[a], "pa": p[a], "ta": thresholds[a], "b": codes[b], "pb": p[b]}


class Margin(QueryStrategy):
    """Sentences with any code just above or below its threshold, by the smallest relative margin."""

    name = "margin.v1"

    def priority(self, proba, thresholds, order):
        return (np.abs(np.nan_to_num(proba, nan=0.0) - thresholds) / np.maximum(thresholds, 1e-6)).min(1)

    def reason(self, p, thresholds, codes, _=english):
        j = int(np.argmin(np.abs(np.nan_to_num(p, nan=0.0) - thresholds) / np.maximum(thresholds, 1e-6)))
        side = _("%(code)s is just above its threshold (%(p).2f vs %(t).2f)") if p[j] >= thresholds[j] else \
            _("%(code)s is just below its threshold (%(p).2f vs %(t).2f)")
        return side % {"code": codes[j], "p": p[j], "t": thresholds[j]}


class Focus(QueryStrategy):
    """Every sentence proposed for one code, most confident first ("check every proposed h3.harassment")."""

    name = "focus.v1"

    def __init__(self, code: str, codes: Sequence[str]):
        if code not in codes:
            raise CoderError(f"Unknown code '{code}' for the focus strategy; use one of: {', '.join(codes)}.")
        self.j = list(codes).index(code)
        self.code = code

    def priority(self, proba, thresholds, order):
        p = np.nan_to_num(proba[:, self.j], nan=0.0)
        return np.where(p >= thresholds[self.j], -p, np.inf)

    def reason(self, p, thresholds, codes, _=english):
        return _("proposed %(code)s (%(p).2f)") % {"code": self.code, "p": p[self.j]}


class Sequential(QueryStrategy):
    """Through the documents in order, like reading the transcript."""

    name = "sequential.v1"

    def priority(self, proba, thresholds, order):
        return order.astype(float)

    def reason(self, p, thresholds, codes, _=english):
        return _("next sentence in the document")


class RandomOrder(QueryStrategy):
    """An unbiased random sample (for evaluation), reproducible with a seed."""

    name = "random.v1"

    def __init__(self, seed: int = 13):
        self.rng = np.random.default_rng(seed)

    def priority(self, proba, thresholds, order):
        return self.rng.random(len(order))

    def reason(self, p, thresholds, codes, _=english):
        return _(RANDOM_REASON)


class Mixed(QueryStrategy):
    """Mostly one strategy, with a share of random items so the queue never only chases one corner."""

    name = "uncertainty+random.v1"

    def __init__(self, main: QueryStrategy, share: float = 0.2, seed: int = 13):
        self.main, self.share = main, share
        self.rng = np.random.default_rng(seed)
        self._use_random = False

    def priority(self, proba, thresholds, order):
        self._use_random = self.rng.random() < self.share
        return self.rng.random(len(order)) if self._use_random else self.main.priority(proba, thresholds, order)

    def reason(self, p, thresholds, codes, _=english):
        return _(RANDOM_REASON) if self._use_random else self.main.reason(p, thresholds, codes, _)


STRATEGIES = ("uncertainty", "margin", "focus:<code>", "sequential", "random", "mixed", "adjudicate:<coder A>:<coder B>")


def get_strategy(name: str, codes: Sequence[str], seed: int = 13) -> QueryStrategy:
    """Look up a strategy by name (default ``mixed``: uncertainty with 20% random items)."""
    if name == "uncertainty":
        return Uncertainty()
    if name == "margin":
        return Margin()
    if name.startswith("focus:"):
        return Focus(name.split(":", 1)[1], codes)
    if name == "sequential":
        return Sequential()
    if name == "random":
        return RandomOrder(seed)
    if name == "mixed":
        return Mixed(Uncertainty(), 0.2, seed)
    if name.startswith("adjudicate:"):
        return Sequential()  # the order comes from Project.disagreements (ranked by consequence)
    raise CoderError(f"Unknown queue strategy '{name}'; use one of: {', '.join(STRATEGIES)}.")
