"""Commands that move codings in and out: export (JSONL, REFI-QDA, CSV, XLSX) and import-codings."""

from __future__ import annotations

from pathlib import Path

import typer

from .base import PROJECT, command, open_project, warn


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
    with open_project(project, readonly=True) as proj:
        if format == "jsonl":
            typer.echo(f"Wrote {proj.export_jsonl(out)} sentences to {out}.")
        elif format == "qdpx":
            n = proj.export_qdpx(out, include_proposals=include_proposals)
            typer.echo(f"Wrote {n['sources']} sources and {n['codings']} codings to {out}.")
        else:
            typer.echo(f"Wrote {proj.export_table(out, format)} coded segments to {out}.")


@command(name="import-codings")
def import_codings(
    project: Path = PROJECT,
    file: Path = typer.Argument(..., help="JSONL or CSV with document, start, end, codes (primary first), optional stance (supports/contradicts or a synonym) and text; or a .qdpx.", show_default=False),
    coder: str = typer.Option(..., "--coder", help="Name of the coder these codings belong to."),
    skip_unknown: bool = typer.Option(False, "--skip-unknown", help="Skip unknown codes instead of failing."),
    user: str | None = typer.Option(None, "--user", help="For .qdpx: import only this user's codings."),
) -> None:
    """Import manual coding (JSONL/CSV spans or a REFI-QDA .qdpx) as a named coder, mapped onto sentences."""
    with open_project(project) as proj:
        report = proj.import_codings(file, coder, skip_unknown=skip_unknown, user=user)
    warn(report.problems)
    typer.echo(f"Imported {report.sentences} sentence decisions of {report.documents} documents as coder '{report.coder}'.")
    if report.verdicts:
        typer.echo(f"Restored {report.verdicts} researcher verdict(s) from the file's project notes.")
