"""The researcher's verdicts part of `Project`: the rule proposes, the researcher decides (issue 12).

A verdict is made on the verdict evidence: human decisions plus, for unreviewed sentences, the
newest model's proposals (human decisions alone while there is no model). It records the cell's
evidence fingerprint; when new decisions or a new model change that evidence, every view marks
the verdict stale instead of keeping it silently or dropping it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequestError, ProjectError
from .i18n import Translate, english
from .score import (INFORMANT_VERDICTS, Evidence, ResearcherVerdict, ScoringRules, decided_hypothesis_verdict,
                    evidence_fingerprints, informant_reason, score_hypotheses)
from .verdict_notes import NoteVerdict, format_note

if TYPE_CHECKING:
    from .codebook import Codebook
    from .score import Scores
    from .store import Store

    Basis = tuple[Scores, dict[tuple[str, str], str], str | None]  # scores, evidence fingerprints, model id


class VerdictsMixin:
    """Mixed into `Project`; uses its ``store``, ``codebook``, ``evidence`` and ``score``."""

    __slots__ = ()
    store: Store
    codebook: Codebook

    def verdict_source(self) -> str:
        """The evidence verdicts are made on: reviewed codes plus the newest model's proposals, if any."""
        return "all" if self.store.latest_model() else "reviewed"

    def researcher_verdicts(self, evidence: Sequence[Evidence] | None = None) -> dict[tuple[str, str], ResearcherVerdict]:
        """(hypothesis, informant) -> the researcher's current verdict, stale where its evidence changed since."""
        rows = self.store.current_verdicts()
        if not rows:
            return {}
        if evidence is None:  # every decision undone since: no evidence, so every verdict is stale
            evidence = self.evidence(self.verdict_source(), empty_ok=True)[0]  # type: ignore[attr-defined]
        prints = evidence_fingerprints(evidence, self.codebook)
        return {
            (h, i): ResearcherVerdict(r["verdict"], r["rationale"], r["coder"], r["created"], r["rule_verdict"],
                                      r["supporting"], r["contradicting"], r["model_id"], r["fingerprint"] != prints.get((h, i), ""))
            for (i, h), r in rows.items()
        }

    def verdict_review(self, _: Translate = english) -> dict[str, Any]:
        """Every informant x hypothesis cell: the rule's proposal and reason (in ``_``'s language), the
        evidence grouped by code and stance, salience and stability, and the researcher's verdict; JSON-ready."""
        source = self.verdict_source()
        scores: Scores = self.score(source)  # type: ignore[attr-defined]
        evidence = self.evidence(source)[0]  # type: ignore[attr-defined]
        cells = []
        for h in scores.hypotheses:
            codes = set(next(x for x in self.codebook.hypotheses if x.id == h.id).evidence)
            for i in h.informants:
                grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
                for e in evidence:
                    if e.informant == i.informant and e.code in codes:
                        grouped.setdefault(e.code, {"supports": [], "contradicts": []})[e.stance].append(
                            {"text": e.text, "document": e.document, "line": e.line, "reviewed": e.reviewed})
                r = i.researcher
                cells.append({
                    "hypothesis": h.id, "informant": i.informant, "verdict": i.decided, "rule_verdict": i.verdict,
                    "reason": informant_reason(i, scores.rules, _), "supporting": i.supporting, "contradicting": i.contradicting,
                    "salience": round(i.salience, 3), "stability": round(i.stability, 3),
                    "researcher_verdict": r.verdict if r else None, "rationale": r.rationale if r else None,
                    "coder": r.coder if r else None, "created": r.created if r else None, "stale": r.stale if r else False,
                    "evidence": grouped,
                })
        return {
            "source": source, "model": scores.meta.get("model"),
            "hypotheses": [{"id": h.id, "statement": h.statement, "verdict": h.verdict,
                            "reason": decided_hypothesis_verdict(h.informants, scores.rules, _)[1]} for h in scores.hypotheses],
            "informants": [i.informant for i in scores.hypotheses[0].informants] if scores.hypotheses else [],
            "cells": cells,
        }

    def set_verdict(self, informant: str, hypothesis: str, verdict: str, rationale: str = "", coder: str = "researcher") -> dict[str, Any]:
        """Record the researcher's verdict on one cell with the evidence it is made on; return the cell."""
        rules = ScoringRules.from_mapping(self.codebook.scoring)
        if verdict not in INFORMANT_VERDICTS:
            raise InvalidRequestError(f"Unknown verdict '{verdict}'; use one of {', '.join(INFORMANT_VERDICTS)}.")
        if rules.require_rationale and not rationale.strip():
            raise InvalidRequestError("This codebook requires a rationale for every verdict; add one with --note.")
        return self._record_verdict(informant, hypothesis, verdict, rationale.strip(), coder)

    def clear_verdict(self, informant: str, hypothesis: str, coder: str = "researcher") -> dict[str, Any]:
        """Withdraw the researcher's verdict on one cell (the rule's proposal counts again); kept in the audit trail."""
        return self._record_verdict(informant, hypothesis, None, "", coder)

    def _verdict_basis(self) -> Basis:
        """What a verdict is recorded against: the rule's scores, the cells' evidence fingerprints and the model id.
        No decisions and no model yet (e.g. just imported): the rule sees no evidence."""
        evidence, counts, facts = self.evidence(self.verdict_source(), empty_ok=True)  # type: ignore[attr-defined]
        rules = replace(ScoringRules.from_mapping(self.codebook.scoring), bootstrap=0)  # the verdict, not its stability
        return score_hypotheses(evidence, counts, self.codebook, rules), evidence_fingerprints(evidence, self.codebook), facts["model"]

    def _record_verdict(self, informant: str, hypothesis: str, verdict: str | None, rationale: str, coder: str, *,
                        created: str | None = None, stale: bool = False, basis: Basis | None = None) -> dict[str, Any]:
        """Store one verdict act; ``basis`` (`_verdict_basis`) is passed when recording many on unchanged evidence."""
        if not coder.strip():
            raise InvalidRequestError("A verdict needs the researcher's name; pass --coder NAME.")
        if hypothesis not in {h.id for h in self.codebook.hypotheses}:
            raise ProjectError(f"No hypothesis '{hypothesis}' in the codebook; use one of {', '.join(h.id for h in self.codebook.hypotheses)}.")
        scores, prints, model_id = basis or self._verdict_basis()
        row = next((i for h in scores.hypotheses if h.id == hypothesis for i in h.informants if i.informant == informant), None)
        if row is None:
            raise ProjectError(f"No informant '{informant}' in this project; 'coder verdict list' shows the informants.")
        self.store.add_verdict(informant, hypothesis, verdict, {
            "rationale": rationale, "coder": coder, "rule_verdict": row.verdict, "supporting": row.supporting,
            "contradicting": row.contradicting, "model_id": model_id,
            # a verdict imported as stale gets a fingerprint no evidence has, so it stays stale
            "fingerprint": "stale at import" if stale else prints.get((hypothesis, informant), ""),
            "created": created,
        })
        return {"hypothesis": hypothesis, "informant": informant, "researcher_verdict": verdict, "rationale": rationale,
                "rule_verdict": row.verdict, "reason": row.reason, "coder": coder}

    def verdict_notes(self) -> list[tuple[str, str]]:
        """The researcher's verdicts as (name, text) notes for a REFI-QDA export, one per cell."""
        return [
            format_note(h, i, r.verdict, coder=r.coder, created=r.created, rule_verdict=r.rule_verdict, supporting=r.supporting,
                        contradicting=r.contradicting, stale=r.stale, rationale=r.rationale)
            for (h, i), r in sorted(self.researcher_verdicts().items())
        ]

    def restore_verdicts(self, notes: Sequence[NoteVerdict], where: str) -> tuple[int, list[str]]:
        """Store verdicts read from an imported project's notes; return (restored, problems).

        A cell the project already has a verdict on keeps it (a different one is reported, never
        overwritten); a verdict stale at export stays stale; one `_record_verdict` refuses (an unknown
        informant or hypothesis) is reported.
        """
        current = self.store.current_verdicts()
        basis = self._verdict_basis() if notes else None  # restoring verdicts does not change the evidence
        restored, problems = 0, []
        for n in notes:
            had = current.get((n.informant, n.hypothesis))
            if had and (had["verdict"], had["rationale"]) == (n.verdict, n.rationale):
                continue
            if had:
                problems.append(f"{where}: kept the project's verdict on {n.hypothesis}, {n.informant} ({had['verdict']}); "
                                f"the file says {n.verdict}")
            else:
                try:
                    self._record_verdict(n.informant, n.hypothesis, n.verdict, n.rationale, n.coder, created=n.created, stale=n.stale,
                                        basis=basis)
                except ProjectError as e:
                    problems.append(f"{where}: verdict on {n.hypothesis}, {n.informant} not restored: {e}")
                    continue
                restored += 1
        return restored, problems
