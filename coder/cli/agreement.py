"""Commands that compare coders: agreement and benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..outputs import write_text
from .base import LANG, PROJECT, command, open_project


@command()
def agreement(
    project: Path = PROJECT,
    coders: list[str] = typer.Option(..., "--coders", help="Two or more coders (repeat --coders); 'model' or 'model:<id>' is the model."),
    unit: str = typer.Option("sentence", "--unit", help="sentence, or segment: MAXQDA-style overlap of coded segments (two coders)."),
    overlap: float = typer.Option(0.9, "--overlap", help="With --unit segment: the share two segments must overlap to agree."),
    bootstrap: str = typer.Option("sentence", "--bootstrap", help="Resample sentences, or whole documents (interviews), for the 95% intervals."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    html_out: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report with plots."),
    lang: str = LANG,
) -> None:
    """Agreement per code and group: percent, Cohen's kappa, Krippendorff's alpha, Gwet's AC1, P/R/F1 (or segment overlap)."""
    from ..agreement_report import agreement_html, agreement_text
    with open_project(project, readonly=True) as proj:
        result = proj.agreement(coders, unit=unit, overlap=overlap, bootstrap=bootstrap)
    if html_out is not None:
        write_text(html_out, agreement_html(result, lang))
        typer.echo(f"Wrote {html_out}.", err=True)
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else agreement_text(result))


@command()
def benchmark(
    project: Path = PROJECT,
    gold: str = typer.Option(..., "--gold", help="The coder whose decisions are the gold standard."),
    seeds: int = typer.Option(2, help="Seeds per strategy in the simulation."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    html_out: Path | None = typer.Option(None, "--html", help="Write an HTML report with plots."),
    lang: str = LANG,
) -> None:
    """Automatic vs manual coding: agreement with the gold coder, active-learning curves, verdict agreement."""
    from ..agreement_report import benchmark_html, benchmark_text
    with open_project(project, readonly=True) as proj:
        r = proj.benchmark(gold, seeds=tuple(range(1, seeds + 1)))
    if html_out is not None:
        write_text(html_out, benchmark_html(r, lang))
        typer.echo(f"Wrote {html_out}.", err=True)
    typer.echo(json.dumps(r, indent=2, ensure_ascii=False) if as_json else benchmark_text(r))
