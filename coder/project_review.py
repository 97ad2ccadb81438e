"""The review loop part of `Project`: queues, items, decisions, undo, progress, model agreement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .proposals import model_thresholds, threshold_of
from .proposals import proposed as proposed_codes

from .errors import InvalidRequestError, ProjectError
from .i18n import DEFAULT_LANGUAGE, translator

if TYPE_CHECKING:
    from .codebook import Codebook
    from .store import SentenceRow, Store


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One sentence as the reviewer sees it, with its turn, question, neighbours and proposals."""

    sentence_id: int
    document: str
    informant: str | None
    speaker: str
    index: int
    total: int
    text: str
    start: int
    end: int
    turn_text: str
    turn_start: int
    question: str
    before: str
    after: str
    proposals: dict[str, float]
    preselected: tuple[str, ...]
    model_id: str | None
    reason: str
    token: int
    current: dict[str, str | None]
    others: dict[str, list[str]] = field(default_factory=dict)  # when adjudicating: each coder's codes


class ReviewMixin:
    """Mixed into `Project`; uses its ``store`` and ``codebook``."""

    __slots__ = ()
    store: Store
    codebook: Codebook

    # -- the review loop -----------------------------------------------------------------------
    def review_queue(self, coder: str, strategy: str = "mixed", *, documents: Sequence[str] | None = None) -> list[int]:
        """Unreviewed informant sentences of this coder, in the order the strategy asks for them."""
        from .review.strategies import get_strategy

        book = self.codebook
        if strategy.startswith("adjudicate:"):
            a, _, b = strategy.split(":", 1)[1].partition(":")
            done = self.store.reviewed_ids(coder)
            return [sid for sid in self.disagreements(a, b) if sid not in done]
        rows = [r for r in self.sentences(documents=documents, role="informant") if r.id not in self.store.reviewed_ids(coder)]
        if not rows:
            return []
        P, thresholds, _ = self._proposal_matrix([r.id for r in rows])
        strat = get_strategy(strategy, book.code_ids)
        prio = strat.priority(P, thresholds, np.arange(len(rows)))
        return [rows[i].id for i in np.argsort(prio, kind="stable") if np.isfinite(prio[i])]

    def _proposal_matrix(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, str | None]:
        codes = self.codebook.code_ids
        model = self.store.latest_model()
        if model is None:
            return np.zeros((len(ids), len(codes))), np.full(len(codes), 0.5), None
        props = self.store.proposals(model["id"], ids)
        th = model_thresholds(model)
        P = np.array([[props.get(i, {}).get(c, 0.0) for c in codes] for i in ids])
        return P, np.array([threshold_of(th, c) for c in codes]), model["id"]

    def disagreements(self, a: str, b: str) -> list[int]:
        """Sentences where coders a and b (``model`` allowed) disagree, most consequential first:
        sentences that are evidence in a hypothesis whose verdict for that informant differs between
        the two coders come first, then sentences with rarer codes."""
        if not b:
            raise InvalidRequestError("Name two coders to adjudicate, e.g. --strategy adjudicate:anna:bo.")
        ca, cb = self.codings(a), self.codings(b)
        units = sorted(set(ca) & set(cb)) if not (a.startswith("model") or b.startswith("model")) else sorted(set(ca) | set(cb))
        book = self.codebook
        flips: set[tuple[str, str]] = set()
        if not (a.startswith("model") or b.startswith("model")):
            va, vb = self.score("reviewed", coder=a), self.score("reviewed", coder=b)
            for ha, hb in zip(va.hypotheses, vb.hypotheses):
                flips |= {(ha.id, ia.informant) for ia, ib in zip(ha.informants, hb.informants) if ia.verdict != ib.verdict}
        counts: dict[str, int] = {}
        for codes in (*ca.values(), *cb.values()):
            for c in codes:
                counts[c] = counts.get(c, 0) + 1
        rows = {r.id: r for r in self.store.sentences(ids=units)} if units else {}
        ranked = []
        for sid in units:
            x, y = ca.get(sid, set()), cb.get(sid, set())
            if x == y or sid not in rows:
                continue
            diff = x ^ y
            informant = rows[sid].informant or rows[sid].document
            impact = sum(1 for h in book.hypotheses if diff & set(h.evidence) and (h.id, informant) in flips)
            ranked.append((-impact, min(counts.get(c, 0) for c in diff), sid))
        return [sid for *_, sid in sorted(ranked)]

    def review_item(
        self, sentence_id: int, coder: str, *, strategy: str = "mixed", blind: bool = False, lang: str = DEFAULT_LANGUAGE
    ) -> ReviewItem:
        """Everything the reviewer sees for one sentence (``reason`` in ``lang``); ``token`` detects edits from another tab."""
        from .review.strategies import get_strategy

        _ = translator(lang)

        book = self.codebook
        s = self._sentence(sentence_id)
        turn = self.store.turn_of(sentence_id)
        pos, total, before, after = self.store.neighbours(sentence_id)
        P, th, model_id = self._proposal_matrix([sentence_id])
        p = P[0]
        current = self.store.current_decisions(sentence_id, coder)
        others: dict[str, list[str]] = {}
        if strategy.startswith("adjudicate:"):
            for other in strategy.split(":")[1:3]:
                others[other] = sorted(self.codings(other).get(sentence_id, set()))
            reason = _("disagreement: %(codings)s") % {
                "codings": "; ".join(f"{k}: {', '.join(v) or _('no code')}" for k, v in others.items())}
        elif blind or model_id is None:
            reason = ""
        else:
            reason = get_strategy(strategy if strategy != "mixed" else "uncertainty", book.code_ids).reason(p, th, book.code_ids, _)
        return ReviewItem(
            sentence_id=sentence_id, document=s.document, informant=s.informant, speaker=s.speaker,
            index=pos, total=total, text=s.text, start=s.start, end=s.end,
            turn_text=turn["text"], turn_start=turn["start"], question=self.store.question_for(sentence_id),
            before=before, after=after,
            proposals={} if blind or model_id is None else {c: float(x) for c, x in zip(book.code_ids, p)},
            preselected=() if blind or model_id is None else tuple(c for c, x, t in zip(book.code_ids, p, th) if x >= t),
            model_id=None if blind else model_id, reason=reason,
            token=self.store.latest_review_id(sentence_id, coder),
            current={c: st for c, ok, st in current if ok}, others=others,
        )

    def _sentence(self, sentence_id: int) -> SentenceRow:
        rows = self.store.sentences(ids=[sentence_id])
        if not rows:
            raise ProjectError(f"No sentence with id {sentence_id} in {self.path}; reload the page.")
        return rows[0]

    def decide(
        self, sentence_id: int, coder: str, codes: Mapping[str, str | None], *, token: int | None = None, source: str = "review"
    ) -> int:
        """Record one review: the accepted codes with their stance; proposed codes not accepted are rejections.

        ``token`` is the review id the reviewer saw; if another tab or session decided the sentence
        since, `ConflictError` is raised and nothing is written.
        """
        from .errors import ConflictError
        from .stance import parse_stance

        book = self.codebook
        if self._sentence(sentence_id).role != "informant":
            raise InvalidRequestError(f"Sentence {sentence_id} is the interviewer's; only informant sentences are coded.")
        for c in codes:
            book.code(c)  # raises UnknownCodeError
        codes = {c: parse_stance(st, f"code {c}") for c, st in codes.items()}
        if not coder.strip():
            raise InvalidRequestError("A coder name is needed for every decision; pass --coder NAME.")
        P, th, model_id = self._proposal_matrix([sentence_id])
        proposed = {c: float(x) for c, x, t in zip(book.code_ids, P[0], th) if model_id and x >= t}
        decisions = [(c, True, st or "supports") for c, st in codes.items()]
        decisions += [(c, False, None) for c in proposed if c not in codes]
        # Issue 15.9: the check and the write share one BEGIN IMMEDIATE transaction, so a second
        # session cannot decide the sentence between them (both used to succeed).
        with self.store.atomic():
            if token is not None and self.store.latest_review_id(sentence_id, coder) != token:
                raise ConflictError(
                    "This sentence was decided in another tab or session since you opened it; reload to see that decision before changing it."
                )
            return self.store.add_review(sentence_id, coder, decisions, source=source, model_id=model_id,
                                         proposed={c: float(x) for c, x in zip(book.code_ids, P[0])} if model_id else {})

    def undo(self, coder: str) -> int | None:
        """Undo the coder's last decision (also after a restart); return the sentence it was about."""
        return self.store.undo_last_review(coder)

    def progress(self, coder: str) -> dict[str, int]:
        """Reviewed and total informant sentences for one coder."""
        return {"reviewed": len(self.store.reviewed_ids(coder)), "total": self.store.informant_sentence_count()}

    def code_progress(self) -> dict[str, dict[str, int]]:
        """Per code: sentences accepted by a reviewer, and proposed by the newest model."""
        accepted: dict[str, int] = {}
        for _, decisions in self.store.labelled_sentences():
            for code, ok, _ in decisions:
                if ok:
                    accepted[code] = accepted.get(code, 0) + 1
        model = self.store.latest_model()
        proposed: dict[str, int] = {}
        if model is not None:
            th = model_thresholds(model)
            for scores in self.store.proposals(model["id"]).values():
                for code in proposed_codes(scores, th):
                    proposed[code] = proposed.get(code, 0) + 1
        return {c: {"reviewed": accepted.get(c, 0), "proposed": proposed.get(c, 0)} for c in self.codebook.code_ids}

    def coded_sentences(self, coder: str | None = None) -> dict[int, list[str]]:
        """Sentence id -> accepted codes of the latest review (of one coder, or of anyone)."""
        out: dict[int, list[str]] = {}
        for sid, decisions in self.store.labelled_sentences():
            out[sid] = [c for c, ok, _ in decisions if ok]
        if coder:
            mine = self.store.reviewed_ids(coder)
            for sid in mine:
                out[sid] = [c for c, ok, _ in self.store.current_decisions(sid, coder) if ok]
        return out

    def accepted_examples(self, per_code: int = 5) -> dict[str, list[str]]:
        """A few sentences reviewers accepted for each code (for the codebook page)."""
        coded = self.coded_sentences()
        rows = {r.id: r.text for r in self.store.sentences(ids=list(coded))} if coded else {}
        out: dict[str, list[str]] = {}
        for sid, codes in coded.items():
            for c in codes:
                if len(out.setdefault(c, [])) < per_code:
                    out[c].append(rows.get(sid, ""))
        return out

    def model_agreement(self, a: str, b: str) -> float | None:
        """Cohen's kappa between two models' proposals (code above threshold) on unreviewed informant sentences."""
        from sklearn.metrics import cohen_kappa_score

        reviewed = {sid for sid, _ in self.store.labelled_sentences()}
        ids = [r.id for r in self.store.sentences(role="informant") if r.id not in reviewed]
        labels = []
        for model_id in (a, b):
            row = self.store.model_row(model_id)
            if row is None:
                return None
            th = model_thresholds(row)
            props = self.store.proposals(model_id)
            labels.append([int(props.get(i, {}).get(c, 0.0) >= threshold_of(th, c)) for i in ids for c in self.codebook.code_ids])
        if not ids or len(set(labels[0]) | set(labels[1])) < 2:
            return None
        return float(cohen_kappa_score(labels[0], labels[1]))

    def recent_agreement(self, coder: str, n: int = 50) -> dict[str, Any]:
        """How the model's proposals compared with the coder's last ``n`` decisions (estimated agreement)."""
        rows = self.store.recent_reviews(coder, n)
        tp = fp = fn = 0
        for proposed, kept in rows:
            tp += len(proposed & kept)
            fp += len(proposed - kept)
            fn += len(kept - proposed)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        return {"reviews": len(rows), "accepted_proposals": tp, "rejected_proposals": fp, "added_codes": fn, "f1": f1}
