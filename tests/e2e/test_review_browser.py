"""Drive the real review page in headless Chromium (Debian's package) with Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from coder import Project

from ..conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup.sh installs it)")]
ARTIFACTS = REPO / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, data_dir, seed_file_path):
    import uvicorn

    from coder.classify.train import TrainSettings
    from coder.web.app import create_app

    with Project.init(tmp_path / "p", data_dir / "mini-codebook.yaml") as proj:
        proj.add_transcripts([data_dir / "lene.txt"])
        proj.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
        proj.precode()
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(tmp_path / "p", "anna"), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", tmp_path / "p"
    srv.should_exit = True
    thread.join(5)


def test_review_keyboard_only_in_chromium(server):
    from playwright.sync_api import sync_playwright

    url, path = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{url}/review")
        sentence = page.get_by_test_id("sentence")
        sentence.wait_for()
        first = sentence.inner_text()
        assert "0 / 5" in page.get_by_test_id("progress").inner_text()
        toggle = page.get_by_test_id("code-h3.harassment")
        was = toggle.get_attribute("aria-pressed")
        page.keyboard.press("2")  # h3.harassment is the second code
        assert toggle.get_attribute("aria-pressed") != was
        if toggle.get_attribute("aria-pressed") == "false":
            page.keyboard.press("2")
        page.keyboard.press("-")  # contradicts
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('[data-testid=progress]').textContent.startsWith('1 /')")
        page.wait_for_function("t => document.querySelector('[data-testid=sentence]').textContent !== t", arg=first)
        page.keyboard.press("x")  # no code
        page.wait_for_function("document.querySelector('[data-testid=progress]').textContent.startsWith('2 /')")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        page.keyboard.press("u")  # undo the "no code"
        page.wait_for_function("document.querySelector('[data-testid=progress]').textContent.startsWith('1 /')")
        browser.close()
    with Project.open(path) as proj:
        decided = [d for ds in proj.store.decisions_by_sentence().values() for d in ds if d["current"] and d["accepted"]]
        assert ("h3.harassment", "contradicts", "anna") in {(d["code"], d["stance"], d["coder"]) for d in decided}
        assert proj.progress("anna")["reviewed"] == 1  # the "no code" decision was undone
