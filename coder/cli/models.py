"""Commands for code proposals: precode, train, evaluate, models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from .base import ENCODING, FROM_FILENAME, INTERVIEWER, METADATA, PROJECT, command, open_project, warn


def _settings(
    encoder: str, finetune: bool, context: bool, epochs: int | None, lr: float | None, top_layers: int | None, seed: int,
    *, contrastive: bool = True, window: int = 0,
) -> Any:
    from ..classify.finetune import FinetuneSettings
    from ..classify.head import HeadSettings
    from ..classify.train import TrainSettings

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
    return TrainSettings(encoder=encoder, contrastive=contrastive, finetune=finetune, context=context, window=window,
                         head=HeadSettings(seed=seed), finetune_settings=fs)


ENCODER = typer.Option(
    "e5-small.v1", "--encoder", help="e5-small.v1 (default, offline), e5-small-int8.v1 (faster), hf.v1:<hub id or folder>, or tfidf.v1."
)
SEED_DATA = typer.Option([], "--seed-data", help="JSONL file of extra labelled sentences ({text, codes, informant}); repeatable.")
WINDOW = typer.Option(
    3, "--window", min=0, max=3,
    help="Average up to 3 neighbouring sentences per side of the same turn into each sentence's features (0: the sentence alone).",
)
CONTRASTIVE = typer.Option(
    True, "--contrastive/--no-contrastive",
    help="Fine-tune the encoder's top layers contrastively on the labels first (SetFit recipe, the default; "
         "minutes on a CPU). --no-contrastive fits the head alone (seconds).",
)
SKIP_UNKNOWN = typer.Option(False, "--skip-unknown", help="Leave out codes of --seed-data that the codebook does not define, instead of failing.")

ENGINE = typer.Option("local", "--engine", help="local (this process) or ray (a local Ray, or the cluster at --address).")
ADDRESS = typer.Option(None, "--address", help="Ray cluster to join: auto, HOST:PORT or ray://HOST:10001; without it a local Ray starts.")
WORKERS = typer.Option(2, "--workers", min=1, help="Ray actors, each holding the model once (one CPU each).")
GPUS_PER_WORKER = typer.Option(0.0, "--gpus-per-worker", min=0.0, help="GPUs Ray reserves per actor (e.g. 1, or 0.5 to share one).")
BATCH_SIZE = typer.Option(256, "--batch-size", min=1, help="Sentences per Ray task.")
DEVICE = typer.Option("auto", "--device", help="auto (CUDA when torch sees a GPU), cpu or cuda.")


@command()
def precode(
    project: Path = PROJECT,
    model: str = typer.Option("latest", "--model", help="latest (newest project model, else the shipped default), default, zero-shot, a model id or folder."),
    documents: list[str] = typer.Option([], "--documents", help="Only these documents (repeatable)."),
    engine: str = ENGINE,
    address: str | None = ADDRESS,
    workers: int = WORKERS,
    gpus_per_worker: float = GPUS_PER_WORKER,
    batch_size: int = BATCH_SIZE,
    device: str = DEVICE,
) -> None:
    """Propose codes for every informant sentence and store them with their scores."""
    from ..engine import make_engine

    scorer = make_engine(engine, device=device, address=address, workers=workers, gpus_per_worker=gpus_per_worker, batch_size=batch_size)
    with open_project(project) as proj:
        report = proj.precode(model, documents=documents or None, progress=True, engine=scorer)
    warn(report.warnings)
    typer.echo(f"Model {report.model_id} ({report.kind}) scored {report.sentences} informant sentences.")
    for code, n in report.per_code.items():
        mark = "  (zero-shot)" if code in report.zero_shot else ""
        typer.echo(f"  {code:<22}{n:>6} proposed{mark}")


@command()
def train(
    project: Path = PROJECT,
    encoder: str = ENCODER,
    finetune: bool = typer.Option(False, "--finetune", help="Fine-tune the encoder first (minutes on a CPU)."),
    contrastive: bool = CONTRASTIVE,
    window: int = WINDOW,
    context: bool = typer.Option(False, "--context/--no-context", help="Add the interviewer's question to each sentence's features."),
    seed_data: list[Path] = SEED_DATA,
    epochs: int | None = typer.Option(None, help="Fine-tuning epochs (default 4)."),
    lr: float | None = typer.Option(None, help="Fine-tuning learning rate (default 5e-5)."),
    top_layers: int | None = typer.Option(None, help="Fine-tune only the top N encoder layers."),
    seed: int = typer.Option(13, help="Random seed."),
    bundled_seed: bool = typer.Option(True, "--bundled-seed/--no-bundled-seed", help="Add the seed set shipped for the codebook (data/seed/<id>.jsonl)."),
    skip_unknown: bool = SKIP_UNKNOWN,
) -> None:
    """Train a project model from review decisions and seed data and register it."""
    settings = _settings(encoder, finetune, context, epochs, lr, top_layers, seed, contrastive=contrastive, window=window)
    with open_project(project) as proj:
        result = proj.train(settings, seed_data=seed_data, bundled_seed=bundled_seed, skip_unknown=skip_unknown, progress=True)
    warn(result.warnings)
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
    contrastive: bool = CONTRASTIVE,
    window: int = WINDOW,
    seed_data: list[Path] = SEED_DATA,
    skip_unknown: bool = SKIP_UNKNOWN,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Leave-one-informant-out cross-validation: per-code and per-group precision, recall, F1."""
    from ..classify.train import TrainSettings

    settings = TrainSettings(encoder=encoder, context=context, contrastive=contrastive, window=window)
    if project is not None:
        with open_project(project, readonly=True) as proj:
            result = proj.evaluate(settings, seed_data=seed_data, skip_unknown=skip_unknown)
    elif data:
        from ..codebook import load_codebook
        from ..evaluation import cross_validate
        from ..training import read_seed_jsonl

        book = load_codebook(codebook)
        examples = [e for p in data for e in read_seed_jsonl(p, book, skip_unknown=skip_unknown)]
        extra = [e for p in seed_data for e in read_seed_jsonl(p, book, skip_unknown=skip_unknown)]
        result = cross_validate(examples, book, settings, extra_train=extra)
    else:
        typer.echo("Error: give a project folder or --data FILE.", err=True)
        raise typer.Exit(2)
    result = {k: v for k, v in result.items() if k not in ("proba", "thresholds", "y", "fold")}
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
    with open_project(project, readonly=True) as proj:
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
def batch(
    sources: list[Path] = typer.Argument(..., help="Transcript files or folders (.txt, .docx, .srt, .vtt).", show_default=False),
    model: str = typer.Option(..., "--model", help="A model folder (e.g. PROJECT/models/<id>), a shipped model's name, or default.", show_default=False),
    out: Path = typer.Option(..., "--out", help="Folder for the Parquet shards (one per file; existing complete shards are kept).", show_default=False),
    codebook: str = typer.Option("politisk-exit", help="Codebook whose shipped model --model default means."),
    interviewer: list[str] = INTERVIEWER,
    encoding: str | None = ENCODING,
    informant_from_filename: bool = FROM_FILENAME,
    metadata: Path | None = METADATA,
    engine: str = ENGINE,
    address: str | None = ADDRESS,
    workers: int = WORKERS,
    gpus_per_worker: float = GPUS_PER_WORKER,
    device: str = DEVICE,
) -> None:
    """Read, segment and score transcript files into Parquet shards, one row per sentence, without a project."""
    from ..batch import ReadOptions, find_model, run_batch
    from ..engine import make_engine

    scorer = make_engine(engine, device=device, address=address, workers=workers, gpus_per_worker=gpus_per_worker)
    options = ReadOptions(tuple(interviewer), encoding, informant_from_filename, metadata)
    report = run_batch(sources, find_model(model, codebook), out, scorer, options=options, on_document=batch_progress)
    warn([*report.warnings, *report.failed])
    typer.echo(f"{len(report.written)} shards written, {len(report.skipped)} already complete, {len(report.failed)} files failed; "
               f"{report.sentences} sentences in {report.seconds:.1f} s.")


def batch_progress(report: Any) -> None:
    """Documents and sentences done and sentences per second, on stderr."""
    rate = report.sentences / report.seconds if report.seconds else 0.0
    typer.echo(f"  {len(report.written) + len(report.failed)} documents, {report.sentences} sentences, {rate:.0f} sentences/s", err=True)


@command(name="import-proposals")
def import_proposals(
    project: Path = PROJECT,
    shards: list[Path] = typer.Argument(..., help="Parquet shards written by 'coder batch' (files or folders).", show_default=False),
) -> None:
    """Store the scores of 'coder batch' shards for the project's documents with the same text."""
    files = [f for p in shards for f in (sorted(p.glob("*.parquet")) if p.is_dir() else [p])]
    with open_project(project) as proj:
        report = proj.import_proposals(files)
    for name in report.missing:
        typer.echo(f"Skipped {name}: its document is not in the project; ingest the transcript first.", err=True)
    if report.unmatched:
        warn([f"{report.unmatched} scored sentences match no sentence of the project (segmented differently); they were left out."])
    typer.echo(f"Imported proposals for {report.sentences} sentences from {', '.join(report.models) or 'no model'}.")
