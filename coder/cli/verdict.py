"""`coder verdict ...`: list the rule's proposals beside the researcher's verdicts, set and clear them."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .base import PROJECT, app, command, open_project

verdict_app = typer.Typer(no_args_is_help=True, help="Review the verdict per informant and hypothesis: the rule proposes, you decide.")
app.add_typer(verdict_app, name="verdict")
INFORMANT = typer.Option(..., "--informant", help="The informant's name, as 'coder verdict list' shows it.", show_default=False)
HYPOTHESIS = typer.Option(..., "--hypothesis", help="The hypothesis id, e.g. H1.", show_default=False)
CODER = typer.Option("researcher", "--coder", help="Your name; every verdict records it.")


@command(verdict_app, "list")
def verdict_list(project: Path = PROJECT, as_json: bool = typer.Option(False, "--json", help="Print every cell with its evidence as JSON.")) -> None:
    """Show each informant x hypothesis: the rule's proposal and reason, your verdict, rationale and whether it is stale."""
    with open_project(project, readonly=True) as proj:
        review = proj.verdict_review()
    if as_json:
        typer.echo(json.dumps(review, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Evidence: {review['source']} (model {review['model'] or 'none'}).")
    for c in review["cells"]:
        mine = f"researcher {c['researcher_verdict']}{' (STALE: evidence changed since)' if c['stale'] else ''}" if c["researcher_verdict"] else "-"
        typer.echo(f"{c['hypothesis']:<4}{c['informant']:<26}rule {c['rule_verdict']:<12}{mine:<26} +{c['supporting']:<3}-{c['contradicting']:<3}{c['reason']}")
        if c["rationale"]:
            typer.echo(f"{'':<30}rationale: {c['rationale']}")


@command(verdict_app, "set")
def verdict_set(
    project: Path = PROJECT,
    informant: str = INFORMANT,
    hypothesis: str = HYPOTHESIS,
    verdict: str = typer.Option(..., "--verdict", help="supports, partly, contradicts or no_evidence.", show_default=False),
    note: str = typer.Option("", "--note", help="Your rationale, kept with the verdict and shown in every report."),
    coder: str = CODER,
) -> None:
    """Set your verdict on one informant x hypothesis, with a rationale; reports count it instead of the rule's."""
    with open_project(project) as proj:
        cell = proj.set_verdict(informant, hypothesis, verdict, note, coder)
    typer.echo(f"{hypothesis} {informant}: {verdict} (rule: {cell['rule_verdict']}, {cell['reason']}).")


@command(verdict_app, "clear")
def verdict_clear(project: Path = PROJECT, informant: str = INFORMANT, hypothesis: str = HYPOTHESIS, coder: str = CODER) -> None:
    """Withdraw your verdict on one informant x hypothesis; the rule's proposal counts again (the history is kept)."""
    with open_project(project) as proj:
        cell = proj.clear_verdict(informant, hypothesis, coder)
    typer.echo(f"{hypothesis} {informant}: cleared (rule: {cell['rule_verdict']}).")
