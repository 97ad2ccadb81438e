"""Score hypotheses per informant from coded evidence, by explicit rules with stated thresholds.

A sentence is evidence for a hypothesis when it carries one of the hypothesis' evidence codes; it
supports or contradicts it by its stance (a sentence counts once per hypothesis). Every verdict
keeps the rule text and the numbers that produced it, so a reader can check it by hand.

Informant verdicts (S supporting and C contradicting sentences, share = S / informant sentences):

1. S = 0 and C = 0: ``no_evidence``.
2. C >= S: ``contradicts`` (contradicting evidence at least as strong as supporting evidence).
3. ``partly`` when the support is real but qualified, checked in this order (the thesis' three
   readings of "partly" and the old count rule): *mixed* (C > contradiction_ratio * S); *too little*
   (S < min_segments or share < min_share); *one side* (the hypothesis declares ``sides`` in the
   codebook and the supporting evidence touches only some of them, e.g. personal gain without
   re-election); *secondary* (salience, S divided by the S of the informant's strongest hypothesis
   of the same direction, is below secondary_salience: the main reason lies elsewhere).
4. Otherwise ``supports``.

Robustness: ``stability`` is the share of bootstrap resamples of the informant's sentences that
give the same verdict (salience and sides held as observed); ``rule_stability`` the share of nearby
thresholds (min_segments +-1, contradiction_ratio 1/3, 1/2, 2/3) that do.

Hypothesis verdicts over all informants with sentences: ``confirmed`` when the share of informants
who support it reaches confirm_share; ``partly_confirmed`` when supporters plus half of the partly
informants reach partly_share; else ``not_confirmed``. Where the researcher has set an informant
verdict (`ResearcherVerdict`), the hypothesis verdict counts the researcher's verdict instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
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
    # Below two thirds of the support of the informant's strongest hypothesis, a reason is secondary:
    # the thesis' "partly" for a contributing but not the main reason (issue 12). Chosen from
    # {0, 1/4, 1/3, 1/2, 2/3} on the thesis and corpus dev verdicts (scripts/eval_verdicts.py).
    secondary_salience: float = 0.67
    bootstrap: int = 200
    seed: int = 13
    require_rationale: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.min_segments < 1:
            problems.append(f"min_segments must be at least 1 (got {self.min_segments})")
        for name in ("min_share", "contradiction_ratio", "confirm_share", "partly_share", "secondary_salience"):
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
        flags = ("require_rationale",)
        wrong = sorted(k for k, v in values.items() if k not in flags and (isinstance(v, bool) or not isinstance(v, int | float)
                       or (k in whole and not float(v).is_integer())))
        wrong += sorted(k for k in flags if k in values and not isinstance(values[k], bool))
        if wrong:
            raise CodebookError(
                f"Scoring setting(s) {', '.join(wrong)} must be numbers ({', '.join(whole)} whole numbers; "
                f"{', '.join(flags)} true or false), e.g. 'min_segments: 2'."
            )
        return cls(**{k: int(v) if k in whole else v for k, v in values.items()})

    def describe(self, _: Translate = english) -> str:
        return _(
            "supports: >= %(min_segments)s supporting sentences, share >= %(min_share).0f%%, contradicting <= "
            "%(ratio).0f%% of supporting, every declared side of the hypothesis supported, and at least "
            "%(salience).0f%% of the support of the informant's strongest hypothesis (else partly); contradicts: "
            "contradicting >= supporting; confirmed: >= %(confirm).0f%% of informants support; partly confirmed: "
            "supporters + half of partly >= %(partly).0f%%"
        ) % {"min_segments": self.min_segments, "min_share": 100 * self.min_share, "ratio": 100 * self.contradiction_ratio,
             "salience": 100 * self.secondary_salience, "confirm": 100 * self.confirm_share, "partly": 100 * self.partly_share}


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
class ResearcherVerdict:
    """The researcher's verdict on one cell, with what it was made on; ``stale`` once the evidence changed."""

    verdict: str
    rationale: str
    coder: str
    created: str
    rule_verdict: str
    supporting: int
    contradicting: int
    model_id: str | None
    stale: bool


@dataclass(frozen=True, slots=True)
class Context:
    """What the rule sees beyond one cell's counts: salience against the strongest hypothesis, uncovered sides."""

    salience: float = 1.0
    strongest: str = ""
    missing_sides: tuple[str, ...] = ()


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
    context: Context = Context()
    researcher: ResearcherVerdict | None = None

    @property
    def salience(self) -> float:
        return self.context.salience

    @property
    def decided(self) -> str:
        """The verdict that counts: the researcher's where one is set, else the rule's."""
        return self.researcher.verdict if self.researcher else self.verdict


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
                            "informant": i.informant, "verdict": i.decided, "rule_verdict": i.verdict,
                            "researcher_verdict": i.researcher.verdict if i.researcher else None,
                            "rationale": i.researcher.rationale if i.researcher else None,
                            "stale": i.researcher.stale if i.researcher else False, "supporting": i.supporting,
                            "contradicting": i.contradicting, "sentences": i.sentences, "share": round(i.share, 4),
                            "stability": round(i.stability, 3), "rule_stability": round(i.rule_stability, 3),
                            "salience": round(i.salience, 3), "reason": i.reason, "per_code": i.per_code,
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


def informant_verdict(
    s: int, c: int, share: float, rules: ScoringRules, context: Context = Context(), _: Translate = english
) -> tuple[str, str]:
    """Apply the informant rule; return (verdict, the rule line that decided it, in ``_``'s language)."""
    if s == 0 and c == 0:
        return "no_evidence", _("no coded evidence")
    values = {"s": s, "c": c, "min": rules.min_segments, "share": 100 * share, "ratio": 100 * rules.contradiction_ratio,
              "min_share": 100 * rules.min_share, "sides": ", ".join(context.missing_sides), "strongest": context.strongest,
              "salience": context.salience}
    if c >= s:
        return "contradicts", _("contradicting %(c)s >= supporting %(s)s") % values
    if c > rules.contradiction_ratio * s:
        return "partly", _("partly: mixed evidence (contradicting %(c)s > %(ratio).0f%% of supporting %(s)s)") % values
    if s < rules.min_segments or share < rules.min_share:
        return "partly", _("partly: too little support (supporting %(s)s, share %(share).1f%%; needs %(min)s and "
                           "%(min_share).0f%%)") % values
    if context.missing_sides:
        return "partly", _("partly: one side only (nothing supporting %(sides)s)") % values
    if context.salience < rules.secondary_salience:
        return "partly", _("partly: secondary to %(strongest)s (salience %(salience).2f)") % values
    return "supports", _("supporting %(s)s >= %(min)s, share %(share).1f%%, contradicting %(c)s <= %(ratio).0f%% of "
                         "%(s)s, salience %(salience).2f") % values


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


def _rule_stability(s: int, c: int, share: float, verdict: str, rules: ScoringRules, context: Context = Context()) -> float:
    """Share of nearby rule settings (min_segments +-1, contradiction_ratio 1/3..2/3) giving the same verdict."""
    variants = [
        replace(rules, min_segments=m, contradiction_ratio=r)
        for m in {max(1, rules.min_segments - 1), rules.min_segments, rules.min_segments + 1}
        for r in (1 / 3, 0.5, 2 / 3)
    ]
    return sum(informant_verdict(s, c, share, v, context)[0] == verdict for v in variants) / len(variants)


def _stability(flags: np.ndarray, verdict: str, rules: ScoringRules, context: Context, rng: np.random.Generator) -> float:
    """Share of bootstrap resamples of the informant's sentences that give the same verdict."""
    n = len(flags)
    if rules.bootstrap == 0 or n == 0:
        return 1.0
    same = 0
    for _ in range(rules.bootstrap):
        idx = rng.integers(0, n, n)
        s, c = int(flags[idx, 0].sum()), int(flags[idx, 1].sum())
        same += informant_verdict(s, c, s / n, rules, context)[0] == verdict
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


@dataclass(frozen=True, slots=True)
class Cell:
    """One informant x hypothesis before quotes and stability: its sentence stances, counts and verdict."""

    stances: dict[int, str]
    supporting: int
    contradicting: int
    share: float
    verdict: str
    reason: str
    context: Context


def cells(
    codings: Mapping[int, Mapping[str, str]],
    informant_of: Mapping[int, str],
    informant_sentences: Mapping[str, int],
    codebook: Codebook,
    rules: ScoringRules,
) -> dict[tuple[str, str], Cell]:
    """(hypothesis id, informant) -> `Cell`, for every hypothesis and every informant with sentences."""
    stances = {h.id: sentence_stances(codings, informant_of, set(h.evidence)) for h in codebook.hypotheses}
    support = {(h.id, i): sum(st == "supports" for st in stances[h.id].get(i, {}).values())
               for h in codebook.hypotheses for i in informant_sentences}
    out = {}
    for h in codebook.hypotheses:
        rivals = [g.id for g in codebook.hypotheses if g.direction == h.direction]
        for i in sorted(informant_sentences):
            mine = stances[h.id].get(i, {})
            c = sum(st == "contradicts" for st in mine.values())
            s = len(mine) - c
            n = informant_sentences[i]
            strongest = max(rivals, key=lambda g: support[(g, i)])
            top = support[(strongest, i)]
            covered = {code for sid in mine for code, st in codings[sid].items() if st == "supports"}
            missing = tuple(name for name, codes in h.sides if not covered & set(codes))
            context = Context(s / top if top else 1.0, strongest, missing if len(missing) < len(h.sides) else ())
            share = s / n if n else 0.0
            out[(h.id, i)] = Cell(mine, s, c, share, *informant_verdict(s, c, share, rules, context), context)
    return out


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
    by_cell = cells(codings, informant_of, informant_sentences, codebook, rules)
    out = {}
    for h in codebook.hypotheses:
        rows = {i: by_cell[(h.id, i)].verdict for i in sorted(informant_sentences)}
        out[h.id] = (hypothesis_verdict(list(rows.values()), rules)[0], rows)
    return out


def verdict_agreement(
    gold: Mapping[str, tuple[str, Mapping[str, str]]], other: Mapping[str, tuple[str, Mapping[str, str]]]
) -> dict[str, float | None]:
    """Shares of informant x hypothesis cells (``cells``) and of hypotheses (``overall``) whose verdicts agree."""
    cells = [v == other[h][1].get(i) for h, (_, per) in gold.items() for i, v in per.items()]
    overall = [v == other[h][0] for h, (v, _) in gold.items()]
    return {"cells": sum(cells) / len(cells) if cells else None, "overall": sum(overall) / len(overall) if overall else None}


def evidence_fingerprints(evidence: Sequence[Evidence], codebook: Codebook) -> dict[tuple[str, str], str]:
    """(hypothesis id, informant) -> a hash of the cell's evidence (sentence, code, stance, reviewed).

    A researcher's verdict records it; when it differs later, new decisions or a new model have
    changed the evidence the verdict was made on, and the verdict is shown as stale.
    """
    import hashlib

    out = {}
    for h in codebook.hypotheses:
        per: dict[str, list[tuple[int, str, str, bool]]] = {}
        for e in evidence:
            if e.code in h.evidence:
                per.setdefault(e.informant, []).append((e.sentence_id, e.code, e.stance, e.reviewed))
        for informant, rows in per.items():
            out[(h.id, informant)] = hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()[:16]
    return out


def informant_reason(i: InformantScore, rules: ScoringRules, _: Translate = english) -> str:
    """The rule line behind an informant's rule verdict, in ``_``'s language."""
    return informant_verdict(i.supporting, i.contradicting, i.share, rules, i.context, _)[1]


def decided_hypothesis_verdict(rows: Sequence[InformantScore], rules: ScoringRules, _: Translate = english) -> tuple[str, str]:
    """`hypothesis_verdict` over the verdicts that count (the researcher's where set), saying how many were the researcher's."""
    verdict, reason = hypothesis_verdict([r.decided for r in rows], rules, _)
    if n := sum(r.researcher is not None for r in rows):
        reason += _(" (counting the researcher's verdict for %(n)s of %(total)s informants)") % {"n": n, "total": len(rows)}
    return verdict, reason


def with_researcher_verdicts(scores: Scores, decided: Mapping[tuple[str, str], ResearcherVerdict]) -> Scores:
    """The scores with the researcher's verdicts attached; hypothesis verdicts counted from them where set."""
    hyps = []
    for h in scores.hypotheses:
        rows = tuple(replace(i, researcher=decided.get((h.id, i.informant))) for i in h.informants)
        verdict, reason = decided_hypothesis_verdict(rows, scores.rules)
        hyps.append(replace(h, informants=rows, verdict=verdict, reason=reason))
    return replace(scores, hypotheses=tuple(hyps))


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
    by_cell = cells(codings, informant_of, informant_sentences, codebook, rules)
    hyps = []
    for h in codebook.hypotheses:
        evidence_codes = set(h.evidence)
        rows = []
        for informant in sorted(informant_sentences):
            n = informant_sentences[informant]
            mine = [e for e in evidence if e.informant == informant and e.code in evidence_codes]
            per_code: dict[str, dict[str, int]] = {}
            for e in mine:
                counts = per_code.setdefault(e.code, {"supports": 0, "contradicts": 0})
                counts[e.stance] += 1
            cell = by_cell[(h.id, informant)]
            flags = np.zeros((n, 2), dtype=int)
            for k, st in enumerate(cell.stances.values()):
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
                informant, cell.verdict, cell.supporting, cell.contradicting, n, cell.share,
                _stability(flags, cell.verdict, rules, cell.context, rng), per_code, tuple(best), cell.reason,
                _rule_stability(cell.supporting, cell.contradicting, cell.share, cell.verdict, rules, cell.context),
                cell.context,
            ))
        verdict, reason = hypothesis_verdict([r.verdict for r in rows], rules)
        hyps.append(HypothesisScore(h.id, h.statement, h.direction, verdict, tuple(rows), reason, rules.describe()))
    return Scores(tuple(hyps), source, rules)
