"""Commands for the researcher's side: score (hypothesis report), serve (web review), review (terminal)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..outputs import write_text
from ..review.session import ENCODER_EVERY
from .base import LANG, PROJECT, command, open_project


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
    lang: str = LANG,
) -> None:
    """Score each hypothesis per informant from coded evidence, with the rule behind every verdict."""
    overrides = {k: v for k, v in (("min_segments", min_segments), ("confirm_share", confirm_share)) if v is not None}
    from .. import report
    with open_project(project, readonly=True) as proj:
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
                typer.echo(f"    {i.informant:<26}{report.verdict_text(i):<44}+{i.supporting:<4}-{i.contradicting:<4}"
                           f"stability {i.stability:.2f}, across thresholds {i.rule_stability:.2f}")
                typer.echo(f"    {'':<26}rule: {i.reason}" + (f"; rationale: {i.researcher.rationale}" if i.researcher and i.researcher.rationale else ""))
    for path, render in ((html_out, lambda: report.to_html(scores, book, lang)), (markdown_out, lambda: report.to_markdown(scores, lang))):
        if path is not None:
            write_text(path, render())
            typer.echo(f"Wrote {path}.", err=True)
    if xlsx_out is not None:
        report.to_xlsx(scores, xlsx_out, lang)
        typer.echo(f"Wrote {xlsx_out}.", err=True)


@command()
def serve(
    project: Path = PROJECT,
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
    coder: str | None = typer.Option(None, "--coder", help="Your name as a coder; every decision records it (default: the first of --coders, else 'coder')."),
    coders: str = typer.Option("", "--coders", help="Serve several named reviewers, comma-separated (anna,bo); each opens /review?coder=NAME."),
    blind: bool = typer.Option(False, "--blind", help="Hide model proposals (for double-coding a reliability sample)."),
    strategy: str = typer.Option("mixed", help="Queue: mixed (uncertainty + 20% random), uncertainty, margin, focus:<code>, sequential, random."),
    retrain_every: int = typer.Option(10, help="Retrain in the background after this many decisions (0: never)."),
    encoder_every: int = typer.Option(
        ENCODER_EVERY, help="Fine-tune the encoder in the background after this many decisions (0: never; minutes on a CPU)."),
    lang: str = LANG,
) -> None:
    """Start the review web app on 127.0.0.1 (review at /review, overview at /)."""
    import socket

    import uvicorn

    from ..web.app import create_app

    if not 1 <= port <= 65535:
        typer.echo(f"Error: port {port} does not exist; use a number from 1 to 65535, e.g. --port 8765.", err=True)
        raise typer.Exit(1)
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            typer.echo(f"Error: port {port} is in use; pass another, e.g. --port {port + 1}.", err=True)
            raise typer.Exit(1)
    names = tuple(dict.fromkeys(n.strip() for n in coders.split(",") if n.strip()))
    coder = coder or (names[0] if names else "coder")
    app_ = create_app(project, coder, coders=names, blind=blind, strategy=strategy, retrain_every=retrain_every,
                      encoder_every=encoder_every, lang=lang)
    typer.echo(f"Reviewing {project} as {coder}: open http://127.0.0.1:{port}/review (Ctrl+C stops; every decision is saved).")
    uvicorn.run(app_, host="127.0.0.1", port=port, log_level="warning")


@command()
def review(
    project: Path = PROJECT,
    coder: str = typer.Option(..., "--coder", help="Your name as a coder; every decision records it."),
    strategy: str = typer.Option("mixed", help="Queue strategy (as for 'coder serve')."),
) -> None:
    """Review proposals in the terminal (for SSH sessions): the same items, keys and decisions as the web app."""
    from ..terminal import review_loop

    with open_project(project) as proj:
        n = review_loop(proj, coder, strategy)
    typer.echo(f"{n} decisions saved.")
