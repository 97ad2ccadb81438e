"""`coder codebook ...`: show, check, use, export and import the project's codebook."""

from __future__ import annotations

from pathlib import Path

import typer

from ..outputs import write_bytes, write_text
from .base import PROJECT, codebook_app, command, open_project


@command(codebook_app, "show")
def codebook_show(project: Path = PROJECT) -> None:
    """Show the project's codes with definitions and hypothesis links."""
    with open_project(project, readonly=True) as proj:
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
    from ..codebook import check_codebook

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
    with open_project(project) as proj:
        book = proj.use_codebook(codebook)
    typer.echo(f"Now using codebook '{book.id}' v{book.version} ({len(book.codes)} codes).")


@command(codebook_app, "export")
def codebook_export(
    project: Path = PROJECT,
    out: Path = typer.Option(..., "--out", help="The .qdc file to write (REFI-QDA codebook)."),
) -> None:
    """Export the project's codebook as a REFI-QDA .qdc (hierarchy, colours, descriptions)."""
    from ..export.qdc import codebook_to_qdc

    with open_project(project, readonly=True) as proj:
        write_bytes(out, codebook_to_qdc(proj.codebook))
    typer.echo(f"Wrote {out}.")


@command(codebook_app, "import")
def codebook_import(
    file: Path = typer.Argument(..., help="A REFI-QDA .qdc codebook.", show_default=False),
    out: Path = typer.Option(..., "--out", help="The codebook YAML to write."),
    id: str = typer.Option("imported", "--id", help="Id of the new codebook."),
) -> None:
    """Turn a REFI-QDA .qdc into codebook YAML (add hypotheses, then 'coder codebook check')."""
    from ..export.qdc import qdc_to_yaml

    write_text(out, qdc_to_yaml(file, id))
    typer.echo(f"Wrote {out}; add hypotheses, then run 'coder codebook check {out}'.")
