"""The review API through Starlette's test client: shapes, conflicts, bad requests, undo."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from coder.web.app import create_app

BASE = "http://127.0.0.1:8765"


def local_client(path, *args, **kwargs) -> TestClient:
    """A client that talks to the app as its own page does: loopback Host, same-origin Origin."""
    return TestClient(create_app(path, *args, **kwargs), base_url=BASE, headers={"Origin": BASE})


@pytest.fixture
def client(ingested, seed_file_path):
    from coder.classify.train import TrainSettings

    ingested.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
    ingested.precode()
    return local_client(ingested.path, "anna")


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
