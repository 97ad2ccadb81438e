"""The `coder` command line: one short function per command, each calling one `Project` method.

User errors (`CoderError`) become ``Error: <message>`` on stderr and exit code 1, in one place
(`_run`); anything else is a bug and keeps its traceback. Usage errors exit with 2 (click).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from .errors import CoderError

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold interview text
    help="NLP-assisted coding of qualitative interview transcripts.",
    add_completion=False,
)
codebook_app = typer.Typer(no_args_is_help=True, help="Show, check and change the project's codebook.")
app.add_typer(codebook_app, name="codebook")

F = TypeVar("F", bound=Callable[..., Any])
PROJECT = typer.Argument(..., help="The project folder (created by 'coder init').", show_default=False)


def _run(func: F) -> F:
    """Turn `CoderError` into one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoderError as e:
            typer.echo(f"Error: {e}", err=True)
            raise typer.Exit(1) from None
        except OSError as e:
            if e.filename is None:
                raise
            # An output path in a missing folder, a read-only disk: the store is untouched by then.
            typer.echo(f"Error: cannot use '{e.filename}' ({e.strerror}); check that its folder exists and is writable.", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted; everything committed before the interruption is kept.", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def command(typer_app: typer.Typer = app, name: str | None = None) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return typer_app.command(name)(_run(func))  # type: ignore[return-value]

    return decorate


def _open(path: Path) -> Any:
    from .project import Project

    return Project.open(path)


def _warn(lines: Any) -> None:
    for w in lines:
        typer.echo(f"Warning: {w}", err=True)


@command()
def init(
    project: Path = PROJECT,
    codebook: str = typer.Option("politisk-exit", help="A bundled codebook name or a path to a codebook YAML file."),
) -> None:
    """Create a new project folder with an empty store and a codebook."""
    from .project import Project

    with Project.init(project, codebook) as proj:
        book = proj.codebook
    typer.echo(f"Created project {project} with codebook '{book.id}' v{book.version} ({len(book.codes)} codes).")


@command()
def ingest(
    project: Path = PROJECT,
    files: list[Path] = typer.Argument(..., help="Transcript files or folders (.txt, .docx, .srt, .vtt, .qdpx).", show_default=False),
    interviewer: list[str] = typer.Option([], "--interviewer", help="Speaker label of the interviewer (repeatable); guessed if not given."),
    metadata: Path | None = typer.Option(None, help="Informant sidecar (CSV or YAML keyed by file); informants.csv/yaml beside the files is used automatically."),
    informant_from_filename: bool = typer.Option(False, help="Name each informant after the file name (lene.txt -> Lene)."),
    encoding: str | None = typer.Option(None, help="Force a text encoding such as cp1252 instead of detecting it."),
) -> None:
    """Add transcripts to the project; original text is stored unchanged and segmented into sentences."""
    with _open(project) as proj:
        report = proj.add_transcripts(
            files, interviewer=interviewer, metadata=metadata, informant_from_filename=informant_from_filename, encoding=encoding
        )
    _warn(report.warnings)
    for doc in report.added:
        typer.echo(f"Added {doc.name} (informant {doc.informant}): {doc.n_turns} turns, {doc.n_sentences} sentences.")
    for s in report.skipped:
        typer.echo(f"Skipped {s}.")
    typer.echo(f"{len(report.added)} added, {len(report.skipped)} already present.")


@command()
def status(
    project: Path = PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show documents, turns, sentences, codes and review progress."""
    with _open(project) as proj:
        info = proj.status()
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    cb = info["codebook"]
    typer.echo(f"Project {info['project']}  codebook {cb['id']} v{cb['version']} ({cb['codes']} codes)")
    typer.echo(
        f"{info['documents']} documents, {info['turns']} turns, {info['sentences']} sentences "
        f"({info['informant_sentences']} informant), {info['reviewed_sentences']} reviewed, "
        f"{info['proposals']} proposals, {info['models']} models"
    )
    if info["documents_detail"]:
        typer.echo(f"\n{'document':<24}{'informant':<24}{'turns':>7}{'sentences':>11}{'informant':>11}{'reviewed':>10}")
        for d in info["documents_detail"]:
            typer.echo(
                f"{d['name'][:23]:<24}{(d['informant'] or '-')[:23]:<24}{d['turns']:>7}{d['sentences']:>11}"
                f"{d['informant_sentences']:>11}{d['reviewed']:>10}"
            )


@command()
def sentences(
    project: Path = PROJECT,
    doc: list[str] = typer.Option([], "--doc", help="Only this document (repeatable)."),
    speaker: str | None = typer.Option(None, help="'informant', 'interviewer', or a speaker label."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List sentences with their offsets, speaker and text."""
    role = speaker if speaker in ("informant", "interviewer", "other") else None
    with _open(project) as proj:
        rows = proj.sentences(documents=doc or None, role=role, speaker=None if role else speaker)
    for r in rows:
        if as_json:
            typer.echo(json.dumps({"document": r.document, "index": r.idx, "speaker": r.speaker, "role": r.role, "start": r.start, "end": r.end, "text": r.text}, ensure_ascii=False))
        else:
            typer.echo(f"{r.document}:{r.idx}\t{r.start}-{r.end}\t{r.speaker}\t{r.text}")


@command(codebook_app, "show")
def codebook_show(project: Path = PROJECT) -> None:
    """Show the project's codes with definitions and hypothesis links."""
    with _open(project) as proj:
        book = proj.codebook
    typer.echo(f"{book.title} ({book.id} v{book.version}, sha256 {book.sha256[:12]})\n")
    for group in book.groups:
        typer.echo(f"{group.label}")
        for c in (c for c in book.codes if c.group == group.id):
            hyps = ", ".join(h.id for h in book.hypotheses_for(c.id)) or "-"
            typer.echo(f"  {c.id:<20} {c.label}  [hypotheses: {hyps}]")
            typer.echo(f"  {'':<20} {c.description}")
    typer.echo("")
    for h in book.hypotheses:
        typer.echo(f"{h.id} ({h.direction}): {h.statement}\n    evidence: {', '.join(h.evidence)}")


@command(codebook_app, "check")
def codebook_check(path: Path = typer.Argument(..., help="A codebook YAML file.", show_default=False)) -> None:
    """Validate a codebook file and report every problem with its line and a fix."""
    from .codebook import check_codebook

    problems = check_codebook(path)
    if problems:
        for p in problems:
            typer.echo(p, err=True)
        typer.echo(f"Error: {path} has {len(problems)} problem(s).", err=True)
        raise typer.Exit(1)
    typer.echo(f"{path} is a valid codebook.")


@command(codebook_app, "use")
def codebook_use(
    project: Path = PROJECT,
    codebook: str = typer.Argument(..., help="A bundled codebook name or a YAML file.", show_default=False),
) -> None:
    """Make a new codebook (version) current; decisions keep their code ids."""
    with _open(project) as proj:
        book = proj.use_codebook(codebook)
    typer.echo(f"Now using codebook '{book.id}' v{book.version} ({len(book.codes)} codes).")


@command(codebook_app, "export")
def codebook_export(
    project: Path = PROJECT,
    out: Path = typer.Option(..., "--out", help="The .qdc file to write (REFI-QDA codebook)."),
) -> None:
    """Export the project's codebook as a REFI-QDA .qdc (hierarchy, colours, descriptions)."""
    from .export.qdc import codebook_to_qdc

    with _open(project) as proj:
        out.write_bytes(codebook_to_qdc(proj.codebook))
    typer.echo(f"Wrote {out}.")


@command(codebook_app, "import")
def codebook_import(
    file: Path = typer.Argument(..., help="A REFI-QDA .qdc codebook.", show_default=False),
    out: Path = typer.Option(..., "--out", help="The codebook YAML to write."),
    id: str = typer.Option("imported", "--id", help="Id of the new codebook."),
) -> None:
    """Turn a REFI-QDA .qdc into codebook YAML (add hypotheses, then 'coder codebook check')."""
    from .export.qdc import qdc_to_yaml

    out.write_text(qdc_to_yaml(file, id), encoding="utf-8")
    typer.echo(f"Wrote {out}; add hypotheses, then run 'coder codebook check {out}'.")


@command()
def export(
    project: Path = PROJECT,
    format: str = typer.Option("jsonl", "--format", help="jsonl (every sentence), qdpx (REFI-QDA), csv or xlsx (coded segments)."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    include_proposals: bool = typer.Option(False, "--include-proposals", help="qdpx: add the model's proposals under the model's user."),
) -> None:
    """Export the project: JSONL per sentence, a REFI-QDA .qdpx for NVivo/ATLAS.ti/MAXQDA/QualCoder, CSV or XLSX."""
    if format not in ("jsonl", "qdpx", "csv", "xlsx"):
        typer.echo(f"Error: unknown format '{format}'; use jsonl, qdpx, csv or xlsx.", err=True)
        raise typer.Exit(2)
    with _open(project) as proj:
        if format == "jsonl":
            typer.echo(f"Wrote {proj.export_jsonl(out)} sentences to {out}.")
        elif format == "qdpx":
            n = proj.export_qdpx(out, include_proposals=include_proposals)
            typer.echo(f"Wrote {n['sources']} sources and {n['codings']} codings to {out}.")
        else:
            typer.echo(f"Wrote {proj.export_table(out, format)} coded segments to {out}.")


def _settings(encoder: str, finetune: bool, context: bool, epochs: int | None, lr: float | None, top_layers: int | None, seed: int) -> Any:
    from .classify.finetune import FinetuneSettings
    from .classify.head import HeadSettings
    from .classify.train import TrainSettings

    fs = None
    if finetune:
        kw: dict[str, Any] = {"seed": seed, "prefix": "passage: " if encoder == "e5-small.v1" else ""}
        if epochs is not None:
            kw["epochs"] = epochs
        if lr is not None:
            kw["lr"] = lr
        if top_layers is not None:
            kw["train_top_layers"] = top_layers
        try:
            fs = FinetuneSettings(**kw)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    return TrainSettings(encoder=encoder, finetune=finetune, context=context, head=HeadSettings(seed=seed), finetune_settings=fs)


ENCODER = typer.Option(
    "e5-small.v1", "--encoder", help="e5-small.v1 (default, offline), e5-small-int8.v1 (faster), hf.v1:<hub id or folder>, or tfidf.v1."
)
SEED_DATA = typer.Option([], "--seed-data", help="JSONL file of extra labelled sentences ({text, codes, informant}); repeatable.")


@command()
def precode(
    project: Path = PROJECT,
    model: str = typer.Option("latest", "--model", help="latest (newest project model, else the shipped default), default, zero-shot, a model id or folder."),
    documents: list[str] = typer.Option([], "--documents", help="Only these documents (repeatable)."),
) -> None:
    """Propose codes for every informant sentence and store them with their scores."""
    with _open(project) as proj:
        report = proj.precode(model, documents=documents or None, progress=True)
    _warn(report.warnings)
    typer.echo(f"Model {report.model_id} ({report.kind}) scored {report.sentences} informant sentences.")
    for code, n in report.per_code.items():
        mark = "  (zero-shot)" if code in report.zero_shot else ""
        typer.echo(f"  {code:<22}{n:>6} proposed{mark}")


@command()
def train(
    project: Path = PROJECT,
    encoder: str = ENCODER,
    finetune: bool = typer.Option(False, "--finetune", help="Fine-tune the encoder first (minutes on a CPU)."),
    context: bool = typer.Option(False, "--context/--no-context", help="Add the interviewer's question to each sentence's features."),
    seed_data: list[Path] = SEED_DATA,
    epochs: int | None = typer.Option(None, help="Fine-tuning epochs (default 4)."),
    lr: float | None = typer.Option(None, help="Fine-tuning learning rate (default 5e-5)."),
    top_layers: int | None = typer.Option(None, help="Fine-tune only the top N encoder layers."),
    seed: int = typer.Option(13, help="Random seed."),
    bundled_seed: bool = typer.Option(True, "--bundled-seed/--no-bundled-seed", help="Add the seed set shipped for the codebook (data/seed/<id>.jsonl)."),
) -> None:
    """Train a project model from review decisions and seed data and register it."""
    settings = _settings(encoder, finetune, context, epochs, lr, top_layers, seed)
    with _open(project) as proj:
        result = proj.train(settings, seed_data=seed_data, bundled_seed=bundled_seed, progress=True)
    _warn(result.warnings)
    m = result.model
    micro = m.metrics.get("micro", {}).get("f1")
    typer.echo(f"Trained {m.id} on {m.training['examples']} sentences ({m.training['coded']} coded)"
               + (f"; cross-validated micro-F1 {micro:.2f}." if micro is not None else "."))


@command()
def evaluate(
    project: Path | None = typer.Argument(None, help="A project folder (its decisions are evaluated)."),
    data: list[Path] = typer.Option([], "--data", help="Evaluate on a JSONL file instead of a project (repeatable)."),
    codebook: str = typer.Option("politisk-exit", help="Codebook for --data."),
    encoder: str = ENCODER,
    context: bool = typer.Option(False, "--context/--no-context", help="Add the interviewer's question to the features."),
    seed_data: list[Path] = SEED_DATA,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Leave-one-informant-out cross-validation: per-code and per-group precision, recall, F1."""
    from .classify.train import TrainSettings

    settings = TrainSettings(encoder=encoder, context=context)
    if project is not None:
        with _open(project) as proj:
            result = proj.evaluate(settings, seed_data=seed_data)
    elif data:
        from .codebook import load_codebook
        from .evaluation import cross_validate
        from .training import read_seed_jsonl

        book = load_codebook(codebook)
        examples = [e for p in data for e in read_seed_jsonl(p, book)]
        extra = [e for p in seed_data for e in read_seed_jsonl(p, book)]
        result = cross_validate(examples, book, settings, extra_train=extra)
    else:
        typer.echo("Error: give a project folder or --data FILE.", err=True)
        raise typer.Exit(2)
    result = {k: v for k, v in result.items() if k not in ("proba", "y")}
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"{result['protocol']}, {result['n']} sentences")
    for level in ("codes", "groups"):
        table = result[level]
        typer.echo(f"\n{level[:-1]:<22}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}")
        for name, m in table["codes"].items():
            typer.echo(f"{name:<22}{m['precision']:>7.2f}{m['recall']:>7.2f}{m['f1']:>7.2f}{m['support']:>9}")
        for avg in ("micro", "macro"):
            a = table[avg]
            typer.echo(f"{avg + ' avg':<22}{a['precision']:>7.2f}{a['recall']:>7.2f}{a['f1']:>7.2f}")


@command()
def models(project: Path = PROJECT, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the project's models with their cross-validated metrics."""
    with _open(project) as proj:
        rows = proj.models()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No models yet; run 'coder precode' (shipped default) or 'coder train'.")
    for r in rows:
        micro = r["metrics"].get("micro", {}).get("f1")
        macro = r["metrics"].get("macro", {}).get("f1")
        f1 = f"micro-F1 {micro:.2f}, macro-F1 {macro:.2f}" if micro is not None else "no cross-validated metrics"
        typer.echo(f"{r['id']}  {r['kind']}  {r['params'].get('encoder')}  {r['created'][:19]}  {f1}")


@command()
def score(
    project: Path = PROJECT,
    source: str = typer.Option("reviewed", "--source", help="reviewed (human decisions), all (reviewed + proposals above threshold) or model."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    html_out: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report."),
    markdown_out: Path | None = typer.Option(None, "--markdown", help="Write a Markdown report."),
    xlsx_out: Path | None = typer.Option(None, "--xlsx", help="Write an XLSX workbook (a sheet per hypothesis)."),
    compare: bool = typer.Option(False, "--compare", help="Show where reviewed and model-only verdicts differ."),
    min_segments: int | None = typer.Option(None, help="Supporting sentences needed for 'supports'."),
    confirm_share: float | None = typer.Option(None, help="Share of informants that must support for 'confirmed'."),
) -> None:
    """Score each hypothesis per informant from coded evidence, with the rule behind every verdict."""
    overrides = {k: v for k, v in (("min_segments", min_segments), ("confirm_share", confirm_share)) if v is not None}
    from . import report

    with _open(project) as proj:
        if compare:
            for d in proj.compare_scores(overrides):
                typer.echo(f"{d['hypothesis']} {d['informant']}: reviewed {d['reviewed']} {d['reviewed_counts']} vs model {d['model']} {d['model_counts']}")
            return
        scores = proj.score(source, overrides)
        book = proj.codebook
    if as_json:
        typer.echo(json.dumps(scores.to_json(), ensure_ascii=False, indent=2))
    else:
        for h in scores.hypotheses:
            typer.echo(f"{h.id}  {h.verdict:<17} {h.reason}")
            for i in h.informants:
                typer.echo(f"    {i.informant:<26}{i.verdict:<13}+{i.supporting:<4}-{i.contradicting:<4}"
                           f"stability {i.stability:.2f}, across thresholds {i.rule_stability:.2f}")
    for path, render in ((html_out, lambda: report.to_html(scores, book)), (markdown_out, lambda: report.to_markdown(scores))):
        if path is not None:
            path.write_text(render(), encoding="utf-8")
            typer.echo(f"Wrote {path}.", err=True)
    if xlsx_out is not None:
        report.to_xlsx(scores, xlsx_out)
        typer.echo(f"Wrote {xlsx_out}.", err=True)


@command()
def serve(
    project: Path = PROJECT,
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
    coder: str = typer.Option("coder", "--coder", help="Your name as a coder; every decision records it."),
    blind: bool = typer.Option(False, "--blind", help="Hide model proposals (for double-coding a reliability sample)."),
    strategy: str = typer.Option("mixed", help="Queue: mixed (uncertainty + 20% random), uncertainty, margin, focus:<code>, sequential, random."),
    retrain_every: int = typer.Option(10, help="Retrain in the background after this many decisions (0: never)."),
) -> None:
    """Start the review web app on 127.0.0.1 (review at /review, overview at /)."""
    import socket

    import uvicorn

    from .web.app import create_app

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            typer.echo(f"Error: port {port} is in use; pass another, e.g. --port {port + 1}.", err=True)
            raise typer.Exit(1)
    app_ = create_app(project, coder, blind=blind, strategy=strategy, retrain_every=retrain_every)
    typer.echo(f"Reviewing {project} as {coder}: open http://127.0.0.1:{port}/review (Ctrl+C stops; every decision is saved).")
    uvicorn.run(app_, host="127.0.0.1", port=port, log_level="warning")


@command()
def review(
    project: Path = PROJECT,
    coder: str = typer.Option(..., "--coder", help="Your name as a coder; every decision records it."),
    strategy: str = typer.Option("mixed", help="Queue strategy (as for 'coder serve')."),
) -> None:
    """Review proposals in the terminal (for SSH sessions): the same items, keys and decisions as the web app."""
    from .terminal import review_loop

    with _open(project) as proj:
        n = review_loop(proj, coder, strategy)
    typer.echo(f"{n} decisions saved.")


@command(name="import-codings")
def import_codings(
    project: Path = PROJECT,
    file: Path = typer.Argument(..., help="JSONL or CSV with document, start, end, codes (primary first), optional stance and text.", show_default=False),
    coder: str = typer.Option(..., "--coder", help="Name of the coder these codings belong to."),
    skip_unknown: bool = typer.Option(False, "--skip-unknown", help="Skip unknown codes instead of failing."),
    user: str | None = typer.Option(None, "--user", help="For .qdpx: import only this user's codings."),
) -> None:
    """Import manual coding (JSONL/CSV spans or a REFI-QDA .qdpx) as a named coder, mapped onto sentences."""
    with _open(project) as proj:
        report = proj.import_codings(file, coder, skip_unknown=skip_unknown, user=user)
    _warn(report.problems)
    typer.echo(f"Imported {report.sentences} sentence decisions of {report.documents} documents as coder '{report.coder}'.")


@command()
def agreement(
    project: Path = PROJECT,
    coders: list[str] = typer.Option(..., "--coders", help="Two or more coders (repeat --coders); 'model' or 'model:<id>' is the model."),
    unit: str = typer.Option("sentence", "--unit", help="sentence, or segment: MAXQDA-style overlap of coded segments (two coders)."),
    overlap: float = typer.Option(0.9, "--overlap", help="With --unit segment: the share two segments must overlap to agree."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    html_out: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report with plots."),
) -> None:
    """Agreement per code and group: percent, Cohen's kappa, Krippendorff's alpha, Gwet's AC1, P/R/F1 (or segment overlap)."""
    from .agreement_report import agreement_html, agreement_text

    with _open(project) as proj:
        result = proj.agreement(coders, unit=unit, overlap=overlap)
    if html_out is not None:
        html_out.write_text(agreement_html(result), encoding="utf-8")
        typer.echo(f"Wrote {html_out}.", err=True)
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else agreement_text(result))


@command()
def benchmark(
    project: Path = PROJECT,
    gold: str = typer.Option(..., "--gold", help="The coder whose decisions are the gold standard."),
    seeds: int = typer.Option(2, help="Seeds per strategy in the simulation."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    html_out: Path | None = typer.Option(None, "--html", help="Write an HTML report with plots."),
) -> None:
    """Automatic vs manual coding: agreement with the gold coder, active-learning curves, verdict agreement."""
    from .agreement_report import benchmark_html, benchmark_text

    with _open(project) as proj:
        r = proj.benchmark(gold, seeds=tuple(range(1, seeds + 1)))
    if html_out is not None:
        html_out.write_text(benchmark_html(r), encoding="utf-8")
        typer.echo(f"Wrote {html_out}.", err=True)
    typer.echo(json.dumps(r, indent=2, ensure_ascii=False) if as_json else benchmark_text(r))


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
