"""User-facing errors: each message is one plain sentence saying what is wrong and what to do.

The library raises these and never exits; only `cli/` and `web/` turn them into exit codes
or HTTP statuses. Anything that is not a `CoderError` is a bug and stays loud.
"""

from __future__ import annotations


class CoderError(Exception):
    """Base class for errors shown to the user as they are."""


class InputFileError(CoderError):
    """A file cannot be read: missing, empty, binary, wrong encoding or broken format."""


class CodebookError(CoderError):
    """A codebook is invalid; the message lists every problem with file, line and fix."""


class UnknownCodeError(CoderError):
    """A code id that the project's codebook does not define."""


class ProjectError(CoderError):
    """A project folder is missing, not a project, or already exists."""


class OutputFileError(CoderError):
    """An output file cannot be written: missing or read-only folder, full disk."""


class StoreError(CoderError):
    """The project database cannot be used: newer schema, locked or damaged."""


class ModelNotFoundError(CoderError):
    """An unknown model, encoder or a model that does not fit the project's codebook."""


class TrainingError(CoderError):
    """A model cannot be trained from the data given (too few labels, bad seed data)."""


class ConflictError(CoderError):
    """Two writers touched the same item; the later one must reload and decide again."""


class MissingDependencyError(CoderError):
    """An optional dependency is not installed."""


class InvalidRequestError(CoderError):
    """A review request that cannot be applied: unknown stance, no coder name."""


class EngineError(CoderError):
    """A compute engine (Ray, a GPU) cannot be used: unreachable cluster, no GPU, a worker that failed."""
