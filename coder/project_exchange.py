"""Manual codings, agreement, benchmarking and exports: the exchange part of `Project`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputFileError, InvalidRequestError, ModelNotFoundError, ProjectError, UnknownCodeError
from .outputs import atomic_output
from .proposals import model_thresholds, proposed
from .windows import turn_windows

if TYPE_CHECKING:
    from .codebook import Codebook
    from .store import Store
    from .verdict_notes import NoteVerdict


@dataclass(frozen=True, slots=True)
class ImportReport:
    coder: str
    sentences: int
    documents: int
    problems: tuple[str, ...] = ()
    verdicts: int = 0  # researcher verdicts restored from a .qdpx's project notes


def _read_span_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, row) from a JSONL or CSV span file, where = "line N"; bad JSON names its line."""
    import csv

    from .jsonl import read_jsonl

    if path.suffix.lower() != ".csv":
        return [(f"line {n}", r) for n, r in read_jsonl(path)]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(f"{path} cannot be read as UTF-8 text; check the path and re-save it as UTF-8.") from e
    return [(f"line {i}", dict(r)) for i, r in enumerate(csv.DictReader(text.splitlines()), start=2)]


class ExchangeMixin:
    """Mixed into `Project`; uses its ``store``, ``codebook`` and the review and scoring methods."""

    __slots__ = ()
    store: Store
    codebook: Codebook
    path: Path

    # -- manual codings and agreement -------------------------------------------------------------
    def _qdpx_span_rows(self, path: Path, user: str | None) -> tuple[list[tuple[str, dict[str, Any]]], list[str], list[NoteVerdict]]:
        """Codings of a .qdpx (of one user, or all) as span rows with their stance, what the file
        holds that is not imported, and the researcher verdicts in its notes; codes matched by id, then label."""
        from .ingest.qdpx import read_qdpx

        project = read_qdpx(path)
        by_label = {c.label: c.id for c in self.codebook.codes}
        rows = []
        for c in project.codings:
            if user and c.user != user:
                continue
            code = c.code_id if c.code_id in self.codebook.code_ids else by_label.get(c.code_name, c.code_name)
            text = project.sources[c.source]
            rows.append((f"project.qde line {c.line}", {"document": Path(c.source).stem, "start": c.start, "end": c.end,
                                                        "codes": [code], "stance": c.stance, "text": text[c.start : c.end]}))
        users = sorted({c.user for c in project.codings})
        if user and not rows:
            raise ProjectError(f"{path.name} has no codings by user '{user}'; its users are: {', '.join(users) or 'none'}.")
        merged = [] if user or len(users) < 2 else [
            f"{path.name} holds codings by {len(users)} users ({', '.join(users)}), imported together; pass --user to import one"]
        return rows, [*project.warnings, *project.skipped_summary(path), *merged], project.verdicts

    def import_codings(self, path: Path, coder: str, *, skip_unknown: bool = False, user: str | None = None) -> ImportReport:
        """Import coded spans (JSONL or CSV: document, start, end, codes, optional stance/text; or the
        codings of a .qdpx) as a coder. Stances are read by `coder.stance.parse_stance`.

        Spans map onto sentences by the rule in `coder.spans`; every informant sentence of a
        document named in the file gets a decision (no span = "no code"). Spans outside the text,
        whose ``text`` does not match, or that reach no sentence are reported and skipped; unknown
        codes fail unless ``skip_unknown``. One transaction for the whole file. A .qdpx exported by
        coder also brings back the researcher's verdicts from its notes (`coder.verdict_notes`).
        """
        from .spans import Span, map_spans
        from .stance import parse_stance

        path = Path(path)
        problems: list[str] = []
        notes: list[NoteVerdict] = []
        if path.suffix.lower() == ".qdpx":
            rows, problems, notes = self._qdpx_span_rows(path, user)
        else:
            rows = _read_span_rows(path)
        book = self.codebook
        known = set(book.code_ids)
        by_doc: dict[str, list[Span]] = {}
        for where, r in rows:
            stance = parse_stance(r.get("stance"), f"{path.name}, {where}")
            doc = str(r.get("document", ""))
            text = self.store.document_text(doc)
            if text is None:
                problems.append(f"{where}: no document named '{doc}'")
                continue
            try:
                start, end = int(r["start"]), int(r["end"])
            except (KeyError, TypeError, ValueError):
                problems.append(f"{where}: start and end must be numbers")
                continue
            if not 0 <= start < end <= len(text):
                problems.append(f"{where}: span {start}-{end} lies outside '{doc}' (length {len(text)})")
                continue
            if r.get("text") and text[start:end] != r["text"]:
                problems.append(f"{where}: the text at {start}-{end} in '{doc}' is not the span's text")
                continue
            codes = r.get("codes") or []
            if isinstance(codes, str):
                codes = [c.strip() for c in codes.replace(";", ",").split(",") if c.strip()]
            unknown = [c for c in codes if c not in known]
            if unknown and not skip_unknown:
                raise UnknownCodeError(f"{path}, {where}: unknown code {', '.join(unknown)}; fix it or pass --skip-unknown.")
            if unknown:
                problems.append(f"{where}: skipped unknown code {', '.join(unknown)}")
            by_doc.setdefault(doc, []).append(Span(start, end, tuple(c for c in codes if c in known), stance))
        decided = 0
        with self.store.atomic():
            for doc, spans in by_doc.items():
                sents = self.store.sentences(documents=[doc], role="informant")
                per, unmatched = map_spans([(s.start, s.end) for s in sents], sorted(spans, key=lambda s: s.start))
                problems += [f"span {u.start}-{u.end} in '{doc}' covers no informant sentence" for u in unmatched]
                for s, hits in zip(sents, per):
                    stances: dict[str, set[str]] = {}
                    for h in hits:
                        for c in h.codes:
                            stances.setdefault(c, set()).add(h.stance or "supports")
                    # Overlapping spans that disagree on a code's stance: keep "contradicts", as
                    # scoring reads a sentence with both stances, and say so.
                    problems += [f"spans in '{doc}' overlapping {s.start}-{s.end} give {c} both stances; kept contradicts"
                                 for c, st in stances.items() if len(st) > 1]
                    codes = {c: "contradicts" if "contradicts" in st else "supports" for c, st in stances.items()}
                    self.store.add_review(s.id, coder, [(c, True, st) for c, st in codes.items()], source="import")
                    decided += 1
        restored, unrestored = self.restore_verdicts(notes, path.name) if notes else (0, [])  # type: ignore[attr-defined]
        return ImportReport(coder, decided, len(by_doc), tuple(problems + unrestored), restored)

    def codings(self, coder: str) -> dict[int, set[str]]:
        """Sentence -> codes of a coder: a human's latest decisions, or a model's proposals
        (``model`` = the newest model, ``model:<id>`` a given one) on every informant sentence."""
        if coder == "model" or coder.startswith("model:"):
            row = self.store.latest_model() if coder == "model" else self.store.model_row(coder.split(":", 1)[1])
            if row is None:
                raise ModelNotFoundError(f"No model '{coder}' with proposals; run 'coder precode' first.")
            th = model_thresholds(row)
            return {sid: set(proposed(s, th)) for sid, s in self.store.proposals(row["id"]).items()}
        ids = self.store.reviewed_ids(coder)
        if not ids:
            raise ProjectError(f"The coder '{coder}' has no decisions in {self.path}; check the name ('coder status' lists reviews).")
        return {sid: {c for c, ok, _ in self.store.current_decisions(sid, coder) if ok} for sid in ids}

    def agreement(
        self, coders: Sequence[str], *, unit: str = "sentence", overlap: float = 0.9, bootstrap: str = "sentence"
    ) -> dict[str, Any]:
        """Agreement between coders on informant sentences (see `coder.agreement`), or with
        ``unit="segment"`` between two coders' coded segments (`segment_agreement`). Intervals
        resample sentences, or with ``bootstrap="document"`` whole documents."""
        from .agreement import agreement

        if unit == "segment":
            return self.segment_agreement(coders, overlap=overlap)
        if unit != "sentence":
            raise InvalidRequestError(f"Unknown unit '{unit}'; use --unit sentence or --unit segment.")
        if bootstrap not in ("sentence", "document"):
            raise InvalidRequestError(f"Unknown bootstrap unit '{bootstrap}'; use --bootstrap sentence or --bootstrap document.")
        book = self.codebook
        rows = self.store.sentences(role="informant")
        clusters = {r.id: r.document for r in rows} if bootstrap == "document" else None
        return agreement({c: self.codings(c) for c in coders}, [r.id for r in rows], book.code_ids,
                         {c.id: c.group for c in book.codes}, clusters=clusters)

    def segment_agreement(self, coders: Sequence[str], *, overlap: float = 0.9) -> dict[str, Any]:
        """MAXQDA-style segment agreement of two coders; segments are runs of adjacent coded
        informant sentences with the sentences' character offsets (see `coder.agreement.segment_agreement`)."""
        from .agreement import segment_agreement

        book = self.codebook
        units = [(r.id, r.document, r.idx, r.start, r.end) for r in self.store.sentences(role="informant")]
        return segment_agreement({c: self.codings(c) for c in coders}, units, book.code_ids,
                                 {c.id: c.group for c in book.codes}, overlap=overlap)

    def benchmark(self, gold: str, *, seeds: Sequence[int] = (1, 2), batch: int = 25, steps: int = 16) -> dict[str, Any]:
        """Automatic vs manual: model-gold agreement, an active-learning simulation, and verdict agreement."""
        from .classify.model import CodeModel
        from .classify.train import TrainSettings
        from .review.simulate import reviewed_to_reach, simulate, verdict_evaluator
        from .review.strategies import RandomOrder, Uncertainty
        from .score import ScoringRules, codings_from_evidence
        from .training import codebook_examples, label_matrix

        book = self.codebook
        codings = self.codings(gold)
        rows = [r for r in self.store.sentences(ids=list(codings)) if r.role == "informant"]
        if len(rows) < 20:
            raise ProjectError(f"The coder '{gold}' has only {len(rows)} decisions; a benchmark needs at least 20.")
        # The default recipe's features: each sentence with the mean of its turn neighbours.
        recipe = TrainSettings()
        featurer = CodeModel(id="benchmark", kind="head", encoder=recipe.encoder, codebook_id=book.id,
                             codebook_sha256=book.sha256, codes=book.code_ids, window=recipe.window)
        everything = self.store.sentences(documents=sorted({r.document for r in rows}))
        window = dict(zip([r.id for r in everything], turn_windows(
            [(r.document_id, r.turn_idx) for r in everything], [r.text for r in everything], recipe.window)))
        X = featurer.features([r.text for r in rows], None, [window[r.id] for r in rows])
        Y = np.array([[int(c in codings[r.id]) for c in book.code_ids] for r in rows])
        base = codebook_examples(book)
        informants = [r.informant or r.document for r in rows]
        # Gold verdicts as `score("reviewed", coder=gold)` gives them: the gold stances, the project's sentence counts.
        evidence, counts, _ = self.evidence("reviewed", coder=gold)
        stances = codings_from_evidence(evidence)[0]
        evaluate = verdict_evaluator([stances.get(r.id, {}) for r in rows], informants, counts, book,
                                     ScoringRules.from_mapping(book.scoring))
        curves = simulate(
            X, Y, informants, featurer.features([e.text for e in base]), label_matrix(base, book.code_ids),
            {"uncertainty": lambda s: Uncertainty(), "random": lambda s: RandomOrder(s)}, seeds=seeds, batch=batch, steps=steps,
            evaluate=evaluate,
        )
        reach = {s: {str(t): reviewed_to_reach(curves, s, t) for t in (0.6, 0.8)} for s in ("uncertainty", "random")}
        to_gold = {s: reviewed_to_reach(curves, s, 1.0, key="verdict_agreement") for s in ("uncertainty", "random")}
        # Effort saved: the share of sentences nobody has to code by hand once the target is reached.
        saved = {s: {t: None if n is None else round(1 - n / len(rows), 3) for t, n in r.items()} for s, r in reach.items()}
        result: dict[str, Any] = {"gold": gold, "sentences": len(rows), "curves": curves, "reviewed_to_reach_kappa": reach,
                                  "effort_saved": saved, "reviewed_to_gold_verdicts": to_gold}
        if self.store.latest_model() is not None:
            result["model_vs_gold"] = self.agreement([gold, "model"])
            g, m = self.score("reviewed", coder=gold), self.score("model")
            cells = [(hg.id, ig.informant, ig.verdict, im.verdict) for hg, hm in zip(g.hypotheses, m.hypotheses)
                     for ig, im in zip(hg.informants, hm.informants)]
            result["verdicts"] = {
                "agreement": sum(a == b for *_, a, b in cells) / len(cells) if cells else None,
                "cells": [{"hypothesis": h, "informant": i, "gold": a, "model": b} for h, i, a, b in cells],
                "overall": [{"hypothesis": hg.id, "gold": hg.verdict, "model": hm.verdict} for hg, hm in zip(g.hypotheses, m.hypotheses)],
            }
        return result

    def export_qdpx(self, out: Path, *, include_proposals: bool = False) -> dict[str, int]:
        """Write a REFI-QDA project: every human coder's codings, and with ``include_proposals`` the
        newest model's proposals above threshold under the model's user (score in the Description)."""
        from .export.qdpx import Coded, Source, write_qdpx

        docs = self.store.documents()
        sources = [Source(d.name, self.store.document_text(d.name) or "", d.informant, d.metadata) for d in docs]
        rows = {r.id: r for r in self.store.sentences(role="informant")}
        coded = []
        for sid, ds in self.store.decisions_by_sentence().items():
            r = rows.get(sid)
            if r is None:
                continue
            for d in ds:
                if d["current"] and d["accepted"]:
                    coded.append(Coded(r.document, r.start, r.end, d["code"], d["coder"], f"{d['code']}: {d['stance'] or 'supports'}"))
        if include_proposals:
            model = self.store.latest_model()
            if model is not None:
                th = model_thresholds(model)
                for sid, scores in self.store.proposals(model["id"]).items():
                    r = rows.get(sid)
                    for code in proposed(scores, th) if r is not None else ():
                        coded.append(Coded(r.document, r.start, r.end, code, f"model:{model['id']}", f"{code}: proposed, score {scores[code]:.3f}"))
        write_qdpx(Path(out), self.codebook, sources, coded, name=self.path.name, notes=self.verdict_notes())  # type: ignore[attr-defined]
        return {"sources": len(sources), "codings": len(coded)}

    def export_table(self, out: Path, fmt: str) -> int:
        """One row per coded segment and code (CSV, or XLSX with the hypothesis table as a second sheet)."""
        import csv

        book = self.codebook
        header = ["document", "informant", "speaker", "start", "end", "text", "code", "label", "group", "stance",
                  "coder_or_model", "score", "reviewed", "time"]
        rows = []
        for r in self.iter_export_rows():
            for d in r["decisions"]:
                if d["current"] and d["accepted"] and d["code"] in book.code_ids:
                    c = book.code(d["code"])
                    rows.append([r["document"], r["informant"], r["speaker"], r["start"], r["end"], r["text"], c.id, c.label,
                                 c.group, d["stance"], d["coder"], r["proposals"].get(c.id), True, d["time"]])
            for code in r["proposed"]:
                if code in book.code_ids:
                    c = book.code(code)
                    rows.append([r["document"], r["informant"], r["speaker"], r["start"], r["end"], r["text"], c.id, c.label,
                                 c.group, None, r["model"], r["proposals"][code], False, None])
        if fmt == "csv":
            with atomic_output(Path(out)) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)
        else:
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            ws.title = "segments"
            ws.append(header)
            for row in rows:
                ws.append(row)
            hyp = wb.create_sheet("hypotheses")
            hyp.append(["hypothesis", "verdict", "informant", "informant verdict", "supporting", "contradicting", "stability"])
            try:
                scores = self.score("all")
            except ProjectError:
                scores = None
            for h in scores.hypotheses if scores else ():
                for i in h.informants:
                    hyp.append([h.id, h.verdict, i.informant, i.verdict, i.supporting, i.contradicting, round(i.stability, 3)])
            with atomic_output(Path(out)) as tmp:
                wb.save(tmp)
        return len(rows)
