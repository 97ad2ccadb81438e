"""Answer only the browser tab the user opened: the local app refuses what another site could send.

The app holds interview text and accepts writes, and a page on any site can make the user's
browser send requests to 127.0.0.1 (issues 13.10, 15.1, 15.2):

- DNS rebinding: a name that resolves to 127.0.0.1 reaches the server with a foreign ``Host``;
  only the loopback names with the served port are answered (403).
- Cross-site writes: a form or ``fetch`` from another origin can POST a ``text/plain`` body without
  a preflight. A write needs a same-origin ``Origin`` (or ``Referer``) and a JSON body (415).
- Cross-origin reads: a foreign ``Origin`` is refused on every request, and no CORS header is
  ever sent, so a script on another origin cannot read a response.
- Every response carries a Content-Security-Policy without inline script or style, ``nosniff``
  and anti-framing headers, so an injection that escaping missed still runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..i18n import N_

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
READS = ("GET", "HEAD")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def refusal(scope: Scope) -> tuple[int, str, dict[str, object]] | None:
    """Why this request must not be answered, as (status, a catalogue sentence, its parameters), or None."""
    headers = Headers(scope=scope)
    port = (scope.get("server") or (None, None))[1]
    host = headers.get("host", "").lower()
    if port is None or host not in {f"{name}:{port}" for name in LOOPBACK} | ({*LOOPBACK} if port == 80 else set()):
        return 403, N_("This app answers only at http://127.0.0.1:%(port)s/; open it from that address."), {"port": port}
    own = f"http://{host}"
    origin = headers.get("origin")
    if origin is not None and origin.lower() != own:
        return 403, N_("Requests from another site are refused; open the app at %(own)s/."), {"own": own}
    if scope["method"] in READS:
        return None
    if origin is None and not headers.get("referer", "").lower().startswith(own + "/"):
        return 403, N_("Changes are accepted only from the app's own pages at %(own)s/."), {"own": own}
    if headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
        return 415, N_("Send changes as JSON with Content-Type: application/json."), {}
    return None


class LocalOnly:
    """ASGI middleware: refuse foreign hosts, origins and non-JSON writes; add the security headers.

    ``refuse(path, status, message, params)`` renders a refusal, so it has the app's one error shape and language.
    """

    def __init__(self, app: ASGIApp, refuse: Callable[[str, int, str, dict[str, object]], Response]) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        problem = refusal(scope)
        if problem is None:
            await self.app(scope, receive, send_secured)
        else:
            await self.refuse(scope["path"], *problem)(scope, receive, send_secured)
