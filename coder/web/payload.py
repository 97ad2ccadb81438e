"""Read and check what a request sends, so bad input is a 400/413 with a sentence and never a 500.

Issue 15.14: the API answered 500 for huge integers, list or dict values and deeply nested JSON,
accepted ``sentence_id: 1.7`` or ``true``, and read bodies of any size.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..i18n import N_

MAX_BODY = 64 * 1024  # a decision is a few hundred bytes
MAX_ID = 2**63 - 1  # SQLite's INTEGER
TOO_LARGE = N_("The request body is larger than %(kb)s KB.")


class RequestError(HTTPException):
    """A refusal whose sentence is a catalogue entry (`N_`, ``%(name)s`` placeholders) that the app's
    error handler translates into its language before filling in ``params``."""

    def __init__(self, status: int, message: str, **params: object) -> None:
        super().__init__(status, message % params)
        self.message, self.params = message, params


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, read up to `MAX_BODY` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise RequestError(413, TOO_LARGE, kb=MAX_BODY // 1024)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise RequestError(413, TOO_LARGE, kb=MAX_BODY // 1024)
    try:
        data = json.loads(body)
    # json.loads raises only ValueError subclasses (bad JSON, bad UTF-8, an integer of more than
    # 4300 digits) and RecursionError (nesting deeper than the interpreter's stack).
    except (ValueError, RecursionError):
        raise RequestError(400, N_("The request body must be JSON.")) from None
    if not isinstance(data, dict):
        raise RequestError(400, N_("The request body must be a JSON object."))
    return data


def as_id(value: object, what: str, *, minimum: int = 1) -> int:
    """A whole number in SQLite's range, from JSON (an int, not a bool or float) or a query string."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if type(value) is int and minimum <= value <= MAX_ID:
        return value
    raise RequestError(400, N_("%(what)s must be a whole number from %(minimum)s to %(maximum)s."), what=what, minimum=minimum, maximum=MAX_ID)


def as_codes(value: object) -> dict[str, str | None]:
    """The ``codes`` of a decision: code id -> stance (or null for the default stance)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(v is None or isinstance(v, str) for v in value.values()):
        raise RequestError(400, N_("codes must be an object mapping code ids to 'supports', 'contradicts' or null."))
    return value
