"""The `coder` command line's shared parts: the app, error handling, and opening a project.

User errors (`CoderError`) become ``Error: <message>`` on stderr and exit code 1, in one place
(`_run`); anything else is a bug and keeps its traceback. Usage errors exit with 2 (click).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from ..errors import CoderError
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES

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
INTERVIEWER = typer.Option([], "--interviewer", help="Speaker label of the interviewer (repeatable); guessed if not given.")
METADATA = typer.Option(None, "--metadata", help="Informant sidecar (CSV or YAML keyed by file); informants.csv/yaml beside the files is used automatically.")
FROM_FILENAME = typer.Option(False, help="Name each informant after the file name (lene.txt -> Lene).")
ENCODING = typer.Option(None, help="Force a text encoding such as cp1252 instead of detecting it.")


def _language(value: str) -> str:
    if value not in LANGUAGES:
        raise typer.BadParameter(f"use one of: {', '.join(LANGUAGES)}.")
    return value


LANG = typer.Option(DEFAULT_LANGUAGE, "--lang", callback=_language,
                    help="Language of the pages and reports: da (Danish) or en (English).")


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


def open_project(path: Path, *, readonly: bool = False) -> Any:
    """Open the project; commands that only read pass ``readonly`` so a read-only copy works."""
    from ..project import Project

    return Project.open(path, readonly=readonly)


def warn(lines: Any) -> None:
    for w in lines:
        typer.echo(f"Warning: {w}", err=True)

