"""`create_app(project_path, coder)`: routes call `Project` methods; one error handler.

Handlers that touch SQLite are plain functions, which Starlette runs in its thread pool, so one
slow request (a long document's queue) never stops the server answering others (issue 15.7).
The reviewer is the server's ``--coder`` (or one of ``--coders``): a browser cannot record
decisions under another name, so blind double coding cannot be bypassed (issue 13.12).

Every request opens its own `Project` (SQLite connections are cheap and per-thread), so two tabs
or two browsers are two writers that SQLite serialises; a stale tab gets a 409, never a silent
overwrite. The queue per coder and strategy is cached in memory and rebuilt when it runs dry or
the model changes, so the next item comes without rescoring the whole project.

Each server speaks one language (``--lang``, Danish by default): pages, the JavaScript's texts (sent
in the page as ``data-messages``), the reasons and advice in the JSON and the app's own error
messages all come from the one catalogue in `coder.i18n` (issue 13.14).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import CoderError, ConflictError, ProjectError, UnknownCodeError
from ..i18n import DEFAULT_LANGUAGE, N_, translations
from ..project import Project
from ..report import VERDICTS
from ..review.session import ENCODER_EVERY
from .guard import LocalOnly
from .payload import RequestError, as_codes, as_id, read_json

HERE = Path(__file__).parent
KEYS = "123456789qwertyiopadfghjklzcvbnm"  # x, s and u are commands
STATUS = {ConflictError: 409, UnknownCodeError: 400, ProjectError: 404}
# Starlette's own refusals carry the status phrase; marked here so the catalogue translates them.
HTTP_PHRASES = (N_("Not Found"), N_("Method Not Allowed"))
# The texts review.js shows, by key; %(name)s is filled in by the script.
JS_MESSAGES = {
    "progress": N_("%(reviewed)s / %(total)s reviewed"),
    "done": N_("Everything in this queue has been reviewed."),
    "position": N_("%(document)s · %(speaker)s · sentence %(index)s of %(total)s"),
    "question": N_("I: %(question)s"),
    "why": N_("Why this one: %(reason)s"),
    "model": N_("model %(model_id)s"),
    "agreement": N_(" · proposals against your last %(reviews)s: F1 %(f1)s"),
    "training": N_("training a new model… "),
    "nothing_to_undo": N_("Nothing to undo."),
}
# The texts verdicts.js shows, by key, and the verdict words by "v_" + verdict id (keys and
# placeholders are no English words, as the page's data-messages holds them beside the texts).
VERDICT_MESSAGES = {
    **{f"v_{verdict}": word for verdict, word in VERDICTS.items()},
    "by_rule": N_("%(verdict)s (rule)"),
    "by_researcher": N_("%(verdict)s ✓"),
    "stale_mark": N_(" · stale"),
    "source_all": N_("Evidence: reviewed codes and the model's proposals"),
    "source_reviewed": N_("Evidence: reviewed codes"),
    "source_model": N_(" (model %(model)s)"),
    "informant": N_("Informant"),
    "overall": N_("Overall"),
    "cell": N_("%(informant)s · %(hyp)s"),
    "rule_says": N_("The rule's proposal: %(verdict)s (%(reason)s); +%(plus)s −%(minus)s, salience %(weight)s, stability %(stab)s"),
    "mine": N_("Your verdict: %(verdict)s (%(coder)s, %(created)s)"),
    "stale": N_(" · STALE: the evidence has changed since"),
    "note": N_(" · %(note)s"),
    "no_verdict": N_("No verdict from the researcher yet: the rule's proposal counts."),
    "evidence": N_("%(code)s · %(stance)s (%(count)s)"),
    "quote": N_("»%(text)s« (%(document)s, line %(line)s)"),
    "quote_proposed": N_("»%(text)s« (%(document)s, line %(line)s, proposal)"),
    "no_coded_evidence": N_("No coded evidence."),
}


def _status(e: CoderError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(e, cls)), 400)


def create_app(
    project_path: Path,
    coder: str = "coder",
    *,
    coders: tuple[str, ...] = (),
    blind: bool = False,
    strategy: str = "mixed",
    retrain_every: int = 10,
    encoder_every: int = ENCODER_EVERY,
    lang: str = DEFAULT_LANGUAGE,
) -> Starlette:
    """The review app for one project in one language; decisions are recorded as ``coder`` or, when
    the client names one, as one of ``coders`` (the reviewers this server was started for)."""
    from ..review.session import Retrainer

    project_path = Path(project_path)
    catalogue = translations(lang)  # an unknown language is a CoderError here, at start-up
    _ = catalogue.gettext
    Project.open(project_path).close()  # fail at start-up, not on the first request
    retrainer = Retrainer(project_path, every=retrain_every, encoder_every=encoder_every)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    templates = Jinja2Templates(env=env)
    reviewers = tuple(dict.fromkeys((coder, *coders)))
    # (coder, strategy, document) -> (the model the queue was ordered by, the queue)
    queues: dict[tuple[str, str, str | None], tuple[str | None, list[int]]] = {}
    lock = threading.Lock()

    def open_project() -> Project:
        return Project.open(project_path)

    def keys_for(codes: tuple[str, ...]) -> dict[str, str]:
        return {c: KEYS[i] for i, c in enumerate(codes) if i < len(KEYS)}

    def who(request: Request, data: dict[str, Any] | None = None) -> str:
        name = (data or {}).get("coder", request.query_params.get("coder"))
        if name is None or name == "":
            return coder
        if name not in reviewers:
            raise RequestError(
                403, N_("This server records decisions as %(names)s only; start it with --coders NAME,NAME to serve "
                        "several reviewers."), names=", ".join(reviewers)
            )
        return str(name)

    def chosen_strategy(request: Request) -> str:
        strat = request.query_params.get("strategy") or strategy
        if blind and strat.startswith("adjudicate:"):
            raise RequestError(403, N_("This server is blind; adjudicating would show other coders' codes."))
        return strat

    def overview(request: Request) -> Response:
        with open_project() as proj:
            info = proj.status()
            book = proj.codebook
            models = proj.models()
            per_code = proj.code_progress()
            agreement = proj.recent_agreement(coder)
        return templates.TemplateResponse(
            request, "overview.html",
            {"info": info, "book": book, "models": models, "per_code": per_code, "coder": coder,
             "training": retrainer.status(lang), "agreement": agreement},
        )

    def review_page(request: Request) -> Response:
        with open_project() as proj:
            book = proj.codebook
        return templates.TemplateResponse(
            request, "review.html",
            {"book": book, "keys": keys_for(book.code_ids), "coder": who(request), "blind": blind,
             "strategy": chosen_strategy(request), "messages": {k: _(v) for k, v in JS_MESSAGES.items()}},
        )

    def codebook_page(request: Request) -> Response:
        with open_project() as proj:
            book = proj.codebook
            examples = proj.accepted_examples()
        return templates.TemplateResponse(request, "codebook.html", {"book": book, "examples": examples})

    def document_page(request: Request) -> Response:
        name, reviewer = request.path_params["name"], who(request)
        with open_project() as proj:
            rows = proj.sentences(documents=[name])
            coded = proj.coded_sentences(reviewer)
            if blind:  # only the reviewer's own codes
                mine = proj.store.reviewed_ids(reviewer)
                coded = {sid: codes for sid, codes in coded.items() if sid in mine}
            book = proj.codebook
        colour = {c.id: i for i, c in enumerate(book.codes)}
        return templates.TemplateResponse(request, "document.html", {"name": name, "rows": rows, "coded": coded, "colour": colour})

    def colours(request: Request) -> Response:
        """Code colours as classes (``colour-<index>``): the CSP allows no inline style."""
        with open_project() as proj:
            book = proj.codebook
        css = "".join(f".colour-{i} {{ --c: {c.colour}; }}\n" for i, c in enumerate(book.codes))
        return Response(css, media_type="text/css", headers={"Cache-Control": "no-store"})

    def api_next(request: Request) -> Response:
        name, strat = who(request), chosen_strategy(request)
        doc = request.query_params.get("document") or None
        skip = {as_id(x, "skip") for x in request.query_params.get("skip", "").split(",") if x}
        wanted = request.query_params.get("sentence")
        with open_project() as proj:
            if wanted:
                item = proj.review_item(as_id(wanted, "sentence"), name, strategy=strat, blind=blind, lang=lang)
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
                item = proj.review_item(nxt, name, strategy=strat, blind=blind, lang=lang)
            progress = proj.progress(name)
        return JSONResponse({"ok": True, "done": False, "item": asdict(item), "progress": progress})

    def decide(request: Request, data: dict[str, Any]) -> Response:
        name = who(request, data)
        if "sentence_id" not in data:
            raise RequestError(400, N_("Send sentence_id (a number), codes ({code: stance}) and token."))
        sid = as_id(data["sentence_id"], "sentence_id")
        token = None if data.get("token") is None else as_id(data["token"], "token", minimum=0)
        codes = as_codes(data.get("codes"))
        with open_project() as proj:
            rid = proj.decide(sid, name, codes, token=token)
            progress = proj.progress(name)
        retrainer.note_decision()
        return JSONResponse({"ok": True, "review_id": rid, "progress": progress})

    def status(request: Request) -> Response:
        name = who(request)
        with open_project() as proj:
            model = proj.store.latest_model()
            agreement = proj.recent_agreement(name)
            progress = proj.progress(name)
        return JSONResponse({"ok": True, "model": model["id"] if model else None, "training": retrainer.status(lang),
                             "agreement": agreement, "progress": progress})

    def undo(request: Request, data: dict[str, Any]) -> Response:
        name = who(request, data)
        with open_project() as proj:
            sid = proj.undo(name)
            progress = proj.progress(name)
        return JSONResponse({"ok": True, "sentence_id": sid, "progress": progress})

    def verdicts_page(request: Request) -> Response:
        return templates.TemplateResponse(
            request, "verdicts.html", {"coder": who(request), "messages": {k: _(v) for k, v in VERDICT_MESSAGES.items()}})

    def api_verdicts(request: Request) -> Response:
        with open_project() as proj:
            review = proj.verdict_review(_)
        return JSONResponse({"ok": True, **review})

    def set_verdict(request: Request, data: dict[str, Any]) -> Response:
        """Set (``verdict``: one of the four) or clear (``verdict``: null) the researcher's verdict on a cell."""
        name = who(request, data)
        fields = {k: data.get(k) for k in ("informant", "hypothesis", "rationale")}
        if not all(isinstance(fields[k], str) for k in ("informant", "hypothesis")) or not isinstance(fields["rationale"] or "", str) \
                or not (data.get("verdict") is None or isinstance(data.get("verdict"), str)):
            raise RequestError(400, N_("Send informant, hypothesis (strings), verdict (a verdict or null) and rationale (a string)."))
        with open_project() as proj:
            if data.get("verdict") is None:
                proj.clear_verdict(fields["informant"], fields["hypothesis"], name)
            else:
                proj.set_verdict(fields["informant"], fields["hypothesis"], data["verdict"], fields["rationale"] or "", name)
            review = proj.verdict_review(_)
        return JSONResponse({"ok": True, **review})

    def with_json(handler: Callable[[Request, dict[str, Any]], Response]) -> Callable[[Request], Awaitable[Response]]:
        """Read the JSON body here (async), then run the SQLite work in the thread pool."""

        async def endpoint(request: Request) -> Response:
            return await run_in_threadpool(handler, request, await read_json(request))

        return endpoint

    def error_response(path: str, status: int, message: str, params: dict[str, object] | None = None) -> Response:
        """The one error shape; a message marked with `N_` where it was raised is translated here
        (a `CoderError` from the library keeps its English sentence)."""
        message = _(message) % params if params else _(message)
        if path.startswith("/api/"):
            return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)
        page = templates.get_template("error.html").render(status=status, message=message)  # autoescaped (issue 15.1)
        return HTMLResponse(page, status_code=status)

    async def error(request: Request, exc: Exception) -> Response:
        params = None
        if isinstance(exc, CoderError):
            status, message = _status(exc), str(exc)
        elif isinstance(exc, RequestError):
            status, message, params = exc.status_code, exc.message, exc.params
        elif isinstance(exc, HTTPException):
            status, message = exc.status_code, str(exc.detail)
        else:  # pragma: no cover - a bug: keep it loud in the log, plain for the user
            import traceback

            traceback.print_exception(exc)
            status, message = 500, N_("Internal error; the traceback is in the server log.")
        return error_response(request.url.path, status, message, params)

    routes = [
        Route("/", overview),
        Route("/review", review_page),
        Route("/codebook", codebook_page),
        Route("/colours.css", colours),
        Route("/document/{name:path}", document_page),
        Route("/verdicts", verdicts_page),
        Route("/api/verdicts", api_verdicts),
        Route("/api/verdict", with_json(set_verdict), methods=["POST"]),
        Route("/api/next", api_next),
        Route("/api/decide", with_json(decide), methods=["POST"]),
        Route("/api/undo", with_json(undo), methods=["POST"]),
        Route("/api/status", status),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(LocalOnly, refuse=error_response)],
        exception_handlers={CoderError: error, HTTPException: error, Exception: error},
    )
