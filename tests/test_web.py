"""The review API through Starlette's test client: shapes, conflicts, bad requests, undo."""

from __future__ import annotations

import html
import http.client
import json
import re
import threading
import urllib.request

import pytest
from starlette.testclient import TestClient

from coder.web.app import create_app

BASE = "http://127.0.0.1:8765"


def local_client(path, *args, **kwargs) -> TestClient:
    """A client that talks to the app as its own page does: loopback Host, same-origin Origin."""
    return TestClient(create_app(path, *args, **kwargs), base_url=BASE, headers={"Origin": BASE})


@pytest.fixture
def plain(ingested):
    """The app over the mini project without a model (enough for everything but proposals), in English
    so the assertions below read the messages as written in the code."""
    return local_client(ingested.path, "anna", lang="en")


@pytest.fixture
def client(ingested, seed_file_path):
    from coder.classify.train import TrainSettings

    ingested.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
    ingested.precode()
    return local_client(ingested.path, "anna", lang="en")


def test_web_pages_render(client):
    for path in ("/", "/review", "/codebook", "/document/lene"):
        r = client.get(path)
        assert r.status_code == 200 and "coder" in r.text
    assert 'data-testid="code-h3.harassment"' in client.get("/review").text


def test_web_next_decide_progress_and_conflict(client):
    item = client.get("/api/next").json()["item"]
    assert {"sentence_id", "text", "turn_text", "question", "proposals", "preselected", "reason", "token"} <= set(item)
    r = client.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {"h3.harassment": "contradicts"}, "token": item["token"]})
    assert r.json()["progress"]["reviewed"] == 1
    stale = client.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}, "token": item["token"]})
    assert stale.status_code == 409 and stale.json()["ok"] is False and "another tab" in stale.json()["error"]
    assert client.get("/api/next").json()["item"]["sentence_id"] != item["sentence_id"]


@pytest.mark.parametrize(
    "payload, status, message",
    [
        (b"not json", 400, "must be JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"codes": {}}', 400, "Send sentence_id"),
        (b'{"sentence_id": 2, "codes": {"h9.x": null}}', 400, "Unknown code 'h9.x'"),
        (b'{"sentence_id": 2, "codes": {"h1.council": "maybe"}}', 400, "Unknown stance"),
        (b'{"sentence_id": 2, "codes": ["h1.council"]}', 400, "codes must be an object"),
    ],
)
def test_web_bad_requests_are_400_with_one_shape(client, payload, status, message):
    r = client.post("/api/decide", content=payload, headers={"Content-Type": "application/json"})
    body = r.json()
    assert r.status_code == status and set(body) == {"ok", "error", "status"} and message in body["error"]


def test_web_undo_across_restart(client, ingested):
    item = client.get("/api/next").json()["item"]
    client.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}, "token": item["token"]})
    restarted = local_client(ingested.path, "anna")
    r = restarted.post("/api/undo", json={})
    assert r.json()["sentence_id"] == item["sentence_id"] and r.json()["progress"]["reviewed"] == 0


def test_web_blind_mode_hides_proposals(ingested, client):
    blind = local_client(ingested.path, "bo", blind=True)
    item = blind.get("/api/next?strategy=sequential").json()["item"]
    assert item["proposals"] == {} and item["preselected"] == [] and item["model_id"] is None


def test_web_unknown_strategy(client):
    r = client.get("/api/next?strategy=psychic")
    assert r.status_code == 400 and "Unknown queue strategy 'psychic'" in r.json()["error"]


def test_web_codebook_change_during_session(client, ingested, data_dir, tmp_path):
    item = client.get("/api/next").json()["item"]
    smaller = tmp_path / "smaller.yaml"
    text = (data_dir / "mini-codebook.yaml").read_text(encoding="utf-8")
    cut = text.index("  - id: h3.always_on")
    smaller.write_text(text[:cut] + text[text.index("hypotheses:"):].replace(", h3.always_on", ""), encoding="utf-8")
    ingested.use_codebook(smaller)
    r = client.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {"h3.always_on": None}, "token": item["token"]})
    assert r.status_code == 400 and "Unknown code 'h3.always_on'" in r.json()["error"]
    assert 'data-testid="code-h3.always_on"' not in client.get("/review").text


def test_web_serve_errors(runner, tmp_path, ingested):
    import socket

    from coder.cli import app

    r = runner.invoke(app, ["serve", str(tmp_path / "nothing")])
    assert r.exit_code == 1 and "does not exist; create a project" in r.output
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = runner.invoke(app, ["serve", str(ingested.path), "--port", str(port)])
    assert r.exit_code == 1 and f"port {port} is in use; pass another, e.g. --port {port + 1}" in r.output


# -- issue 15.1: escaped error page and security headers ---------------------------------------
XSS = '<img src=x onerror="document.title=1">'
PAGES = ("/", "/review", "/codebook", "/document/lene")


def test_issue_15_1_error_page_escapes_the_message(plain):
    r = plain.get("/document/" + XSS)
    assert r.status_code == 404 and "<img" not in r.text and "&lt;img src=x onerror=" in r.text


@pytest.mark.parametrize("path", [*PAGES, "/api/next", "/static/review.js", "/colours.css", "/document/nothing", "/api/nothing"])
def test_issue_15_1_security_headers_on_every_response(plain, path):
    r = plain.get(path)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("path", PAGES)
def test_issue_15_1_pages_have_no_inline_script_handler_or_style(plain, path):
    html = plain.get(path).text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and not re.search(r"\son[a-z]+\s*=", html) and "style=" not in html


# -- issue 15.2 and 13.10: only the app's own pages may write or read ------------------------------
def test_issue_15_2_writes_need_json(plain, ingested):
    item = plain.get("/api/next").json()["item"]
    plain.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}, "token": item["token"]})
    body = json.dumps({"sentence_id": plain.get("/api/next").json()["item"]["sentence_id"], "codes": {}})
    for path in ("/api/decide", "/api/undo"):
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            r = plain.post(path, content=body, headers={"Content-Type": content_type} if content_type else {})
            assert r.status_code == 415 and r.json()["error"] == "Send changes as JSON with Content-Type: application/json."
    assert ingested.progress("anna")["reviewed"] == 1


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1:9999", "127.0.0.1.evil.example:8765", ""])
def test_issue_13_10_foreign_host_refused(plain, host):
    r = plain.get("/api/next", headers={"Host": host, "Origin": f"http://{host}"})
    assert r.status_code == 403 and r.json()["error"] == "This app answers only at http://127.0.0.1:8765/; open it from that address."
    assert plain.get("/", headers={"Host": host}).status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST:8765"])
def test_issue_13_10_loopback_hosts_answered(plain, host):
    item = plain.get("/api/next", headers={"Host": host, "Origin": f"http://{host.lower()}"}).json()["item"]
    r = plain.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}},
                    headers={"Host": host, "Origin": f"http://{host.lower()}"})
    assert r.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"}, {"Origin": "https://127.0.0.1:8765"},
     {}, {"Referer": "http://evil.example/page"}, {"Referer": "http://127.0.0.1:8765.evil.example/"}],
)
def test_issue_13_10_cross_site_writes_refused(plain, ingested, headers):
    bare = TestClient(plain.app, base_url=BASE)  # sends no Origin unless told
    item = plain.get("/api/next").json()["item"]
    for path, body in (("/api/decide", {"sentence_id": item["sentence_id"], "codes": {}}), ("/api/undo", {})):
        assert bare.post(path, json=body, headers=headers).status_code == 403
    assert ingested.progress("anna")["reviewed"] == 0


def test_issue_13_10_same_origin_referer_is_enough(plain, ingested):
    bare = TestClient(plain.app, base_url=BASE)
    item = plain.get("/api/next").json()["item"]
    r = bare.post("/api/decide", json={"sentence_id": item["sentence_id"], "codes": {}}, headers={"Referer": f"{BASE}/review"})
    assert r.status_code == 200 and ingested.progress("anna")["reviewed"] == 1


def test_issue_13_10_cross_origin_reads_and_preflights_refused(plain):
    bare = TestClient(plain.app, base_url=BASE)
    for r in (bare.get("/api/next", headers={"Origin": "http://evil.example"}),
              bare.options("/api/decide", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})):
        assert r.status_code == 403 and "Lene" not in r.text and "access-control-allow-origin" not in r.headers


def test_issue_13_10_real_requests(serve, ingested):
    base = serve(create_app(ingested.path, "anna"))
    port = int(base.rsplit(":", 1)[1])

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read().decode()

    own = {"Host": f"127.0.0.1:{port}", "Origin": base}
    status, text = send("GET", "/api/next", {"Host": f"rebound.example:{port}"})  # DNS rebinding
    assert status == 403 and "Lene" not in text
    status, text = send("GET", "/api/next", own)
    sid = json.loads(text)["item"]["sentence_id"]
    decision = json.dumps({"sentence_id": sid, "codes": {}}).encode()
    # what a form or no-cors fetch on another site sends: a simple request, no preflight
    assert send("POST", "/api/decide", {"Host": own["Host"], "Origin": "http://evil.example", "Content-Type": "text/plain"}, decision)[0] == 403
    assert send("POST", "/api/decide", {**own, "Content-Type": "text/plain"}, decision)[0] == 415
    assert ingested.progress("anna")["reviewed"] == 0
    assert send("POST", "/api/decide", {**own, "Content-Type": "application/json"}, decision)[0] == 200
    assert ingested.progress("anna")["reviewed"] == 1


# -- issue 13.12: the reviewer is the server's --coder --------------------------------------------
def test_issue_13_12_client_cannot_choose_another_coder(plain, ingested):
    item = plain.get("/api/next").json()["item"]
    for r in (plain.get("/api/next?coder=bo"), plain.get("/review?coder=bo"), plain.get("/api/status?coder=bo"),
              plain.get("/document/lene?coder=bo"),
              plain.post("/api/decide", json={"coder": "bo", "sentence_id": item["sentence_id"], "codes": {}}),
              plain.post("/api/decide", json={"coder": ["bo"], "sentence_id": item["sentence_id"], "codes": {}}),
              plain.post("/api/undo", json={"coder": "bo"})):
        assert r.status_code == 403 and "This server records decisions as anna only; start it with --coders NAME,NAME" in r.text
    assert ingested.progress("bo")["reviewed"] == 0 and ingested.progress("anna")["reviewed"] == 0


def test_issue_13_12_coders_option_serves_named_reviewers(runner, ingested, monkeypatch):
    import uvicorn

    from coder.cli import app

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: served.append(app_))
    r = runner.invoke(app, ["serve", str(ingested.path), "--coders", "anna,bo", "--port", "1"])
    assert r.exit_code == 0, r.output
    c = TestClient(served[0], base_url=BASE, headers={"Origin": BASE})
    item = c.get("/api/next?coder=bo").json()["item"]
    assert c.post("/api/decide", json={"coder": "bo", "sentence_id": item["sentence_id"], "codes": {}}).status_code == 200
    assert ingested.progress("bo")["reviewed"] == 1 and ingested.progress("anna")["reviewed"] == 0
    assert 'data-coder="bo"' in c.get("/review?coder=bo").text and 'data-coder="anna"' in c.get("/review").text
    assert c.get("/api/next?coder=carl").status_code == 403


def test_issue_13_12_blind_server_refuses_adjudication(ingested):
    c = local_client(ingested.path, "bo", blind=True)
    for path in ("/api/next?strategy=adjudicate:anna:bo", "/review?strategy=adjudicate:anna:bo"):
        assert c.get(path).status_code == 403


# -- issue 15.14: bad input is 400/404/413, never 500 -----------------------------------------------
@pytest.mark.parametrize(
    "payload, status, message",
    [
        (b'{"sentence_id": 99999999999999999999999, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": 1e400, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": 2.0, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": 1.7, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": true, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": -3, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": [2], "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": {"id": 2}, "codes": {}}', 400, "sentence_id must be a whole number"),
        (b'{"sentence_id": 2, "token": true}', 400, "token must be a whole number"),
        (b'{"sentence_id": 2, "token": 99999999999999999999999}', 400, "token must be a whole number"),
        (b'{"sentence_id": 2, "codes": {"h1.council": ["supports"]}}', 400, "codes must be an object"),
        (b'{"sentence_id": 2, "codes": {"h1.council": {"a": {}}}}', 400, "codes must be an object"),
        (b'{"sentence_id": 2, "codes": "h1.council"}', 400, "codes must be an object"),
        (b'{"sentence_id": 2, "codes": ' + b"[" * 20000 + b"]" * 20000 + b"}", 400, "must be JSON"),
        (b'{"sentence_id": ' + b"9" * 5000 + b"}", 400, "must be JSON"),
        (b'{"sentence_id": 2, "pad": "' + b"x" * 70000 + b'"}', 413, "larger than 64 KB"),
        (b'{"sentence_id": 999999, "codes": {}}', 404, "No sentence with id 999999"),
        (b'{"sentence_id": 1, "codes": {}}', 400, "Sentence 1 is the interviewer's"),  # lene.txt opens with a question
    ],
)
def test_issue_15_14_bad_decisions(plain, ingested, payload, status, message):
    r = plain.post("/api/decide", content=payload, headers={"Content-Type": "application/json"})
    assert r.status_code == status and set(r.json()) == {"ok", "error", "status"} and message in r.json()["error"]
    assert ingested.progress("anna")["reviewed"] == 0


def test_issue_15_14_streamed_body_capped(plain):
    r = plain.post("/api/decide", content=iter([b'{"pad": "', b"x" * 70000, b'"}']), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize(
    "path, status",
    [("/api/next?sentence=99999999999999999999999", 400), ("/api/next?sentence=%C2%B2", 400), ("/api/next?sentence=1.5", 400),
     ("/api/next?sentence=-1", 400), ("/api/next?skip=2,x", 400), ("/api/next?sentence=999999", 404),
     ("/api/nothing", 404), ("/document/nothing", 404), ("/api/decide", 405)],
)
def test_issue_15_14_bad_queries(plain, path, status):
    r = plain.get(path)
    assert r.status_code == status
    if path.startswith("/api/"):
        assert set(r.json()) == {"ok", "error", "status"}


# -- issue 15.15: document names that are not URL-safe -------------------------------------------
def test_issue_15_15_documents_named_with_hash_and_question_mark_open(ingested, data_dir, tmp_path):
    src = tmp_path / "møde #2?.txt"
    src.write_text((data_dir / "lene.txt").read_text(encoding="utf-8") + "\nLene: Og det var det.\n", encoding="utf-8")
    ingested.add_transcripts([src])
    c = local_client(ingested.path, "anna")
    href = next(h for h in re.findall(r'href="(/document/[^"]+)"', c.get("/").text) if h != "/document/lene")
    r = c.get(html.unescape(href))
    assert r.status_code == 200 and "<h1>møde #2?</h1>" in r.text and "Og det var det." in r.text


# -- issue 15.7: blocking work runs in the thread pool ---------------------------------------------
def test_issue_15_7_a_slow_request_does_not_freeze_the_server(serve, ingested, monkeypatch):
    from coder.project import Project

    entered, release, real = threading.Event(), threading.Event(), Project.status

    def slow_status(self):
        entered.set()
        release.wait(30)
        return real(self)

    monkeypatch.setattr(Project, "status", slow_status)
    base = serve(create_app(ingested.path, "anna"))
    slow = threading.Thread(target=lambda: urllib.request.urlopen(base + "/", timeout=60).read())
    slow.start()
    try:
        assert entered.wait(10)
        with urllib.request.urlopen(base + "/api/status", timeout=5) as r:  # answered while "/" is still busy
            assert r.status == 200
    finally:
        release.set()
        slow.join(30)


def test_issue_13_11_client_code_never_writes_html():
    from coder.web.app import HERE

    for js in (HERE / "static").glob("*.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", js.read_text(encoding="utf-8")), js.name
