"""Score hypotheses per informant from coded evidence, by explicit rules with stated thresholds.

A sentence is evidence for a hypothesis when it carries one of the hypothesis' evidence codes; it
supports or contradicts it by its stance (a sentence counts once per hypothesis). Every verdict
keeps the rule text and the numbers that produced it, so a reader can check it by hand.

Informant verdicts (S supporting and C contradicting sentences, share = S / informant sentences):

1. S = 0 and C = 0: ``no_evidence``.
2. C >= S: ``contradicts`` (contradicting evidence at least as strong as supporting evidence).
3. S >= min_segments, share >= min_share and C <= contradiction_ratio * S: ``supports``.
4. Otherwise ``partly`` (some support, but too little or with notable contradicting evidence).

Robustness: ``stability`` is the share of bootstrap resamples of the informant's sentences that
give the same verdict; ``rule_stability`` the share of nearby thresholds (min_segments +-1,
contradiction_ratio 1/3, 1/2, 2/3) that do.

Hypothesis verdicts over all informants with sentences: ``confirmed`` when the share of informants
who support it reaches confirm_share; ``partly_confirmed`` when supporters plus half of the partly
informants reach partly_share; else ``not_confirmed``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .codebook import Codebook
from .errors import CodebookError
from .i18n import Translate, english

INFORMANT_VERDICTS = ("supports", "partly", "contradicts", "no_evidence")
HYPOTHESIS_VERDICTS = ("confirmed", "partly_confirmed", "not_confirmed")


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """Thresholds of the verdict rules; set them under ``scoring:`` in the codebook."""

    min_segments: int = 2
    min_share: float = 0.0
    contradiction_ratio: float = 0.5
    confirm_share: float = 0.5
    partly_share: float = 0.25
    bootstrap: int = 200
    seed: int = 13

    def __post_init__(self) -> None:
        problems = []
        if self.min_segments < 1:
            problems.append(f"min_segments must be at least 1 (got {self.min_segments})")
        for name in ("min_share", "contradiction_ratio", "confirm_share", "partly_share"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                problems.append(f"{name} must be between 0 and 1 (got {v})")
        if self.bootstrap < 0:
            problems.append(f"bootstrap must be 0 or more (got {self.bootstrap})")
        if problems:
            raise CodebookError("Scoring thresholds out of range: " + "; ".join(problems) + ".")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ScoringRules:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise CodebookError(
                f"Unknown scoring setting(s) {', '.join(sorted(unknown))}; use: {', '.join(cls.__dataclass_fields__)}."
            )
        whole = ("min_segments", "bootstrap", "seed")
        wrong = sorted(k for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int | float)
                       or (k in whole and not float(v).is_integer()))
        if wrong:
            raise CodebookError(
                f"Scoring setting(s) {', '.join(wrong)} must be numbers ({', '.join(whole)} whole numbers), e.g. 'min_segments: 2'."
            )
        return cls(**{k: int(v) if k in whole else v for k, v in values.items()})

    def describe(self, _: Translate = english) -> str:
        return _(
            "supports: >= %(min_segments)s supporting sentences, share >= %(min_share).0f%%, contradicting <= "
            "%(ratio).0f%% of supporting; contradicts: contradicting >= supporting; confirmed: >= %(confirm).0f%% of "
            "informants support; partly confirmed: supporters + half of partly >= %(partly).0f%%"
        ) % {"min_segments": self.min_segments, "min_share": 100 * self.min_share, "ratio": 100 * self.contradiction_ratio,
             "confirm": 100 * self.confirm_share, "partly": 100 * self.partly_share}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One coded sentence: where it is, which code, which stance, and whether a human decided it."""

    informant: str
    document: str
    sentence_id: int
    start: int
    end: int
    line: int
    text: str
    code: str
    stance: str
    reviewed: bool
    score: float | None = None


@dataclass(frozen=True, slots=True)
class InformantScore:
    informant: str
    verdict: str
    supporting: int
    contradicting: int
    sentences: int
    share: float
    stability: float
    per_code: dict[str, dict[str, int]]
    quotes: tuple[Evidence, ...]
    reason: str
    rule_stability: float = 1.0


@dataclass(frozen=True, slots=True)
class HypothesisScore:
    id: str
    statement: str
    direction: str
    verdict: str
    informants: tuple[InformantScore, ...]
    reason: str
    rule: str


@dataclass(frozen=True, slots=True)
class Scores:
    hypotheses: tuple[HypothesisScore, ...]
    source: str
    rules: ScoringRules
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rules": asdict(self.rules),
            **self.meta,
            "hypotheses": [
                {
                    "id": h.id, "statement": h.statement, "direction": h.direction, "verdict": h.verdict,
                    "reason": h.reason, "rule": h.rule,
                    "informants": [
                        {
                            "informant": i.informant, "verdict": i.verdict, "supporting": i.supporting,
                            "contradicting": i.contradicting, "sentences": i.sentences, "share": round(i.share, 4),
                            "stability": round(i.stability, 3), "rule_stability": round(i.rule_stability, 3),
                            "reason": i.reason, "per_code": i.per_code,
                            "quotes": [
                                {"document": q.document, "start": q.start, "end": q.end, "line": q.line, "text": q.text,
                                 "code": q.code, "stance": q.stance, "reviewed": q.reviewed, "score": q.score}
                                for q in i.quotes
                            ],
                        }
                        for i in h.informants
                    ],
                }
                for h in self.hypotheses
            ],
        }


def informant_verdict(s: int, c: int, share: float, rules: ScoringRules, _: Translate = english) -> tuple[str, str]:
    """Apply the informant rule; return (verdict, the rule line that decided it, in ``_``'s language)."""
    if s == 0 and c == 0:
        return "no_evidence", _("no coded evidence")
    values = {"s": s, "c": c, "min": rules.min_segments, "share": 100 * share, "ratio": 100 * rules.contradiction_ratio}
    if c >= s:
        return "contradicts", _("contradicting %(c)s >= supporting %(s)s") % values
    if s >= rules.min_segments and share >= rules.min_share and c <= rules.contradiction_ratio * s:
        return "supports", _("supporting %(s)s >= %(min)s, share %(share).1f%%, contradicting %(c)s <= %(ratio).0f%% of %(s)s") % values
    return "partly", _("supporting %(s)s, contradicting %(c)s: below the 'supports' rule") % values


def hypothesis_verdict(verdicts: Sequence[str], rules: ScoringRules, _: Translate = english) -> tuple[str, str]:
    n = len(verdicts)
    if n == 0:
        return "not_confirmed", _("no informants with sentences")
    sup = sum(v == "supports" for v in verdicts)
    part = sum(v == "partly" for v in verdicts)
    values = {"sup": sup, "part": part, "n": n, "confirm": 100 * rules.confirm_share, "partly": 100 * rules.partly_share}
    if sup / n >= rules.confirm_share:
        return "confirmed", _("%(sup)s of %(n)s informants support (>= %(confirm).0f%%)") % values
    if (sup + 0.5 * part) / n >= rules.partly_share:
        return "partly_confirmed", _("%(sup)s support and %(part)s partly of %(n)s ((supports + partly/2) / n >= %(partly).0f%%)") % values
    return "not_confirmed", _("%(sup)s support and %(part)s partly of %(n)s: below both thresholds") % values


def _rule_stability(s: int, c: int, share: float, verdict: str, rules: ScoringRules) -> float:
    """Share of nearby rule settings (min_segments +-1, contradiction_ratio 1/3..2/3) giving the same verdict."""
    from dataclasses import replace

    variants = [
        replace(rules, min_segments=m, contradiction_ratio=r)
        for m in {max(1, rules.min_segments - 1), rules.min_segments, rules.min_segments + 1}
        for r in (1 / 3, 0.5, 2 / 3)
    ]
    return sum(informant_verdict(s, c, share, v)[0] == verdict for v in variants) / len(variants)


def _stability(flags: np.ndarray, verdict: str, rules: ScoringRules, rng: np.random.Generator) -> float:
    """Share of bootstrap resamples of the informant's sentences that give the same verdict."""
    n = len(flags)
    if rules.bootstrap == 0 or n == 0:
        return 1.0
    same = 0
    for _ in range(rules.bootstrap):
        idx = rng.integers(0, n, n)
        s, c = int(flags[idx, 0].sum()), int(flags[idx, 1].sum())
        same += informant_verdict(s, c, s / n, rules)[0] == verdict
    return same / rules.bootstrap


def codings_from_evidence(evidence: Sequence[Evidence]) -> tuple[dict[int, dict[str, str]], dict[int, str]]:
    """Split evidence into (sentence -> code -> stance, sentence -> informant), the input of `verdicts`."""
    codings: dict[int, dict[str, str]] = {}
    informant_of: dict[int, str] = {}
    for e in evidence:
        codings.setdefault(e.sentence_id, {})[e.code] = e.stance
        informant_of[e.sentence_id] = e.informant
    return codings, informant_of


def sentence_stances(
    codings: Mapping[int, Mapping[str, str]], informant_of: Mapping[int, str], evidence_codes: Collection[str]
) -> dict[str, dict[int, str]]:
    """Informant -> evidence sentence -> its stance towards one hypothesis.

    A sentence counts once per hypothesis; one with both stances (two codes) counts as
    contradicting: the cautious reading.
    """
    out: dict[str, dict[int, str]] = {}
    for sid, codes in codings.items():
        stances = {st for code, st in codes.items() if code in evidence_codes}
        if stances:
            out.setdefault(informant_of[sid], {})[sid] = "contradicts" if "contradicts" in stances else "supports"
    return out


def _tally(stances: Mapping[int, str], n: int, rules: ScoringRules) -> tuple[int, int, float, str, str]:
    """(supporting, contradicting, share, verdict, reason) of one informant from its sentence stances."""
    c = sum(st == "contradicts" for st in stances.values())
    s = len(stances) - c
    share = s / n if n else 0.0
    return (s, c, share, *informant_verdict(s, c, share, rules))


def verdicts(
    codings: Mapping[int, Mapping[str, str]],
    informant_of: Mapping[int, str],
    informant_sentences: Mapping[str, int],
    codebook: Codebook,
    rules: ScoringRules = ScoringRules(),
) -> dict[str, tuple[str, dict[str, str]]]:
    """Hypothesis id -> (verdict, informant -> verdict) from sentence -> code -> stance alone.

    The rules of `score_hypotheses` without quotes or stability: cheap enough to recompute at every
    point of a simulated learning curve.
    """
    out = {}
    for h in codebook.hypotheses:
        by_informant = sentence_stances(codings, informant_of, set(h.evidence))
        rows = {i: _tally(by_informant.get(i, {}), informant_sentences[i], rules)[3] for i in sorted(informant_sentences)}
        out[h.id] = (hypothesis_verdict(list(rows.values()), rules)[0], rows)
    return out


def verdict_agreement(
    gold: Mapping[str, tuple[str, Mapping[str, str]]], other: Mapping[str, tuple[str, Mapping[str, str]]]
) -> dict[str, float | None]:
    """Shares of informant x hypothesis cells (``cells``) and of hypotheses (``overall``) whose verdicts agree."""
    cells = [v == other[h][1].get(i) for h, (_, per) in gold.items() for i, v in per.items()]
    overall = [v == other[h][0] for h, (v, _) in gold.items()]
    return {"cells": sum(cells) / len(cells) if cells else None, "overall": sum(overall) / len(overall) if overall else None}


def score_hypotheses(
    evidence: Sequence[Evidence],
    informant_sentences: Mapping[str, int],
    codebook: Codebook,
    rules: ScoringRules = ScoringRules(),
    *,
    source: str = "reviewed",
    quotes_per_informant: int = 3,
) -> Scores:
    """Score every hypothesis for every informant with sentences."""
    rng = np.random.default_rng(rules.seed)
    codings, informant_of = codings_from_evidence(evidence)
    hyps = []
    for h in codebook.hypotheses:
        evidence_codes = set(h.evidence)
        by_informant = sentence_stances(codings, informant_of, evidence_codes)
        rows = []
        for informant in sorted(informant_sentences):
            n = informant_sentences[informant]
            mine = [e for e in evidence if e.informant == informant and e.code in evidence_codes]
            per_code: dict[str, dict[str, int]] = {}
            for e in mine:
                counts = per_code.setdefault(e.code, {"supports": 0, "contradicts": 0})
                counts[e.stance] += 1
            stances = by_informant.get(informant, {})
            s, c, share, verdict, reason = _tally(stances, n, rules)
            flags = np.zeros((n, 2), dtype=int)
            for k, st in enumerate(stances.values()):
                if k < n:
                    flags[k, 1 if st == "contradicts" else 0] = 1
            quotes = sorted(mine, key=lambda e: (not e.reviewed, -(e.score or 0.0), e.start))
            seen: set[int] = set()
            best = []
            for q in quotes:
                if q.sentence_id not in seen:
                    best.append(q)
                    seen.add(q.sentence_id)
                if len(best) == quotes_per_informant:
                    break
            rows.append(InformantScore(
                informant, verdict, s, c, n, share, _stability(flags, verdict, rules, rng), per_code, tuple(best), reason,
                _rule_stability(s, c, share, verdict, rules),
            ))
        verdict, reason = hypothesis_verdict([r.verdict for r in rows], rules)
        hyps.append(HypothesisScore(h.id, h.statement, h.direction, verdict, tuple(rows), reason, rules.describe()))
    return Scores(tuple(hyps), source, rules)
