"""Commands that create a project and bring transcripts in: init, ingest, status, sentences."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .base import ENCODING, FROM_FILENAME, INTERVIEWER, METADATA, PROJECT, command, open_project, warn


@command()
def init(
    project: Path = PROJECT,
    codebook: str = typer.Option("politisk-exit", help="A bundled codebook name or a path to a codebook YAML file."),
) -> None:
    """Create a new project folder with an empty store and a codebook."""
    from ..project import Project

    with Project.init(project, codebook) as proj:
        book = proj.codebook
    typer.echo(f"Created project {project} with codebook '{book.id}' v{book.version} ({len(book.codes)} codes).")


@command()
def ingest(
    project: Path = PROJECT,
    files: list[Path] = typer.Argument(..., help="Transcript files or folders (.txt, .docx, .srt, .vtt, .qdpx).", show_default=False),
    interviewer: list[str] = INTERVIEWER,
    metadata: Path | None = METADATA,
    informant_from_filename: bool = FROM_FILENAME,
    encoding: str | None = ENCODING,
    skip_bad_cues: bool = typer.Option(False, "--skip-bad-cues", help="Leave out .srt/.vtt cues without a readable timing line (counted in a warning) instead of failing."),
) -> None:
    """Add transcripts to the project; original text is stored unchanged and segmented into sentences."""
    with open_project(project) as proj:
        report = proj.add_transcripts(
            files, interviewer=interviewer, metadata=metadata, informant_from_filename=informant_from_filename, encoding=encoding,
            skip_bad_cues=skip_bad_cues,
        )
    warn(report.warnings)
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
    with open_project(project, readonly=True) as proj:
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
    with open_project(project, readonly=True) as proj:
        rows = proj.sentences(documents=doc or None, role=role, speaker=None if role else speaker)
    for r in rows:
        if as_json:
            typer.echo(json.dumps({"document": r.document, "index": r.idx, "speaker": r.speaker, "role": r.role, "start": r.start, "end": r.end, "text": r.text}, ensure_ascii=False))
        else:
            typer.echo(f"{r.document}:{r.idx}\t{r.start}-{r.end}\t{r.speaker}\t{r.text}")
