"""`create_app(project_path, coder)`: routes call `Project` methods; one error handler.

Every request opens its own `Project` (SQLite connections are cheap and per-thread), so two tabs
or two browsers are two writers that SQLite serialises; a stale tab gets a 409, never a silent
overwrite. The queue per coder and strategy is cached in memory and rebuilt when it runs dry or
the model changes, so the next item comes without rescoring the whole project.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import CoderError, ConflictError, ProjectError, UnknownCodeError
from ..project import Project

HERE = Path(__file__).parent
KEYS = "123456789qwertyiopadfghjklzcvbnm"  # x, s and u are commands
STATUS = {ConflictError: 409, UnknownCodeError: 400, ProjectError: 404}


def _status(e: CoderError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(e, cls)), 400)


def create_app(
    project_path: Path, coder: str = "coder", *, blind: bool = False, strategy: str = "mixed", retrain_every: int = 10
) -> Starlette:
    from ..review.session import Retrainer

    project_path = Path(project_path)
    Project.open(project_path).close()  # fail at start-up, not on the first request
    retrainer = Retrainer(project_path, every=retrain_every)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    # (coder, strategy, document) -> (the model the queue was ordered by, the queue)
    queues: dict[tuple[str, str, str | None], tuple[str | None, list[int]]] = {}
    lock = threading.Lock()

    def open_project() -> Project:
        return Project.open(project_path)

    def keys_for(codes: tuple[str, ...]) -> dict[str, str]:
        return {c: KEYS[i] for i, c in enumerate(codes) if i < len(KEYS)}

    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise HTTPException(400, "The request body must be JSON.") from None
        if not isinstance(data, dict):
            raise HTTPException(400, "The request body must be a JSON object.")
        return data

    def who(request: Request, data: dict[str, Any] | None = None) -> str:
        name = str((data or {}).get("coder") or request.query_params.get("coder") or coder).strip()
        if not name or len(name) > 80:
            raise HTTPException(400, "Give a coder name of 1 to 80 characters.")
        return name

    async def overview(request: Request) -> Response:
        with open_project() as proj:
            info = proj.status()
            book = proj.codebook
            models = proj.models()
            per_code = proj.code_progress()
            agreement = proj.recent_agreement(coder)
        return templates.TemplateResponse(
            request, "overview.html",
            {"info": info, "book": book, "models": models, "per_code": per_code, "coder": coder,
             "training": retrainer.status(), "agreement": agreement},
        )

    async def review_page(request: Request) -> Response:
        with open_project() as proj:
            book = proj.codebook
        return templates.TemplateResponse(
            request, "review.html",
            {"book": book, "keys": keys_for(book.code_ids), "coder": who(request), "blind": blind, "strategy": strategy},
        )

    async def codebook_page(request: Request) -> Response:
        with open_project() as proj:
            book = proj.codebook
            examples = proj.accepted_examples()
        return templates.TemplateResponse(request, "codebook.html", {"book": book, "examples": examples})

    async def document_page(request: Request) -> Response:
        name = request.path_params["name"]
        with open_project() as proj:
            rows = proj.sentences(documents=[name])
            coded = proj.coded_sentences(who(request))
            book = proj.codebook
        colours = {c.id: c.colour for c in book.codes}
        return templates.TemplateResponse(request, "document.html", {"name": name, "rows": rows, "coded": coded, "colours": colours})

    async def api_next(request: Request) -> Response:
        name = who(request)
        strat = request.query_params.get("strategy") or strategy
        doc = request.query_params.get("document") or None
        skip = {int(x) for x in request.query_params.get("skip", "").split(",") if x.strip().isdigit()}
        wanted = request.query_params.get("sentence")
        with open_project() as proj:
            if wanted and wanted.isdigit():
                item = proj.review_item(int(wanted), name, strategy=strat, blind=blind)
            else:
                model = proj.store.latest_model()
                key = (name, strat, doc)
                with lock:
                    stamp = model["id"] if model else None  # a new model reorders the queue
                    cached_stamp, queue = queues.get(key, (None, []))
                    if not queue or cached_stamp != stamp:
                        queue = proj.review_queue(name, strat, documents=[doc] if doc else None)
                        queues[key] = (stamp, queue)
                    done = proj.store.reviewed_ids(name)
                    nxt = next((i for i in queue if i not in done and i not in skip), None)
                if nxt is None:
                    return JSONResponse({"ok": True, "done": True, "progress": proj.progress(name)})
                item = proj.review_item(nxt, name, strategy=strat, blind=blind)
            progress = proj.progress(name)
        return JSONResponse({"ok": True, "done": False, "item": asdict(item), "progress": progress})

    async def api_decide(request: Request) -> Response:
        data = await body(request)
        name = who(request, data)
        try:
            sid = int(data["sentence_id"])
            codes = data.get("codes") or {}
            token = data.get("token")
            token = None if token is None else int(token)
        except (KeyError, TypeError, ValueError):
            raise HTTPException(400, "Send sentence_id (a number), codes ({code: stance}) and token.") from None
        if not isinstance(codes, dict):
            raise HTTPException(400, "codes must be an object mapping code ids to 'supports' or 'contradicts'.")
        with open_project() as proj:
            rid = proj.decide(sid, name, codes, token=token)
            progress = proj.progress(name)
        retrainer.note_decision()
        return JSONResponse({"ok": True, "review_id": rid, "progress": progress})

    async def api_status(request: Request) -> Response:
        with open_project() as proj:
            model = proj.store.latest_model()
            agreement = proj.recent_agreement(who(request))
            progress = proj.progress(who(request))
        return JSONResponse({"ok": True, "model": model["id"] if model else None, "training": retrainer.status(),
                             "agreement": agreement, "progress": progress})

    async def api_undo(request: Request) -> Response:
        data = await body(request)
        with open_project() as proj:
            sid = proj.undo(who(request, data))
            progress = proj.progress(who(request, data))
        return JSONResponse({"ok": True, "sentence_id": sid, "progress": progress})

    async def error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, CoderError):
            status, message = _status(exc), str(exc)
        elif isinstance(exc, HTTPException):
            status, message = exc.status_code, str(exc.detail)
        else:  # pragma: no cover - a bug: keep it loud in the log, plain for the user
            import traceback

            traceback.print_exception(exc)
            status, message = 500, "Internal error; the traceback is in the server log."
        if request.url.path.startswith("/api/"):
            return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>Error</title><p>{message}</p>", status_code=status)

    routes = [
        Route("/", overview),
        Route("/review", review_page),
        Route("/codebook", codebook_page),
        Route("/document/{name}", document_page),
        Route("/api/next", api_next),
        Route("/api/decide", api_decide, methods=["POST"]),
        Route("/api/undo", api_undo, methods=["POST"]),
        Route("/api/status", api_status),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={CoderError: error, HTTPException: error, Exception: error})
