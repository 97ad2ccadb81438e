"""Drive the real review page in headless Chromium (Debian's package) with Playwright."""

from __future__ import annotations

import re
import shutil

import pytest

from coder import Project

from ..conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup.sh installs it)")]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def server(tmp_path, data_dir, seed_file_path, serve):
    from coder.classify.train import TrainSettings
    from coder.web.app import create_app

    with Project.init(tmp_path / "p", data_dir / "mini-codebook.yaml") as proj:
        proj.add_transcripts([data_dir / "lene.txt"])
        proj.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
        proj.precode()
    return serve(create_app(tmp_path / "p", "anna")), tmp_path / "p"


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


def test_review_keyboard_only_in_chromium(server, browser):
    from playwright.sync_api import expect

    url, path = server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{url}/review")
    sentence = page.get_by_test_id("sentence")
    sentence.wait_for()
    first = sentence.inner_text()
    progress = page.get_by_test_id("progress")
    expect(progress).to_have_text(re.compile(r"^0 / 5"))
    toggle = page.get_by_test_id("code-h3.harassment")
    was = toggle.get_attribute("aria-pressed")
    page.keyboard.press("2")  # h3.harassment is the second code
    assert toggle.get_attribute("aria-pressed") != was
    if toggle.get_attribute("aria-pressed") == "false":
        page.keyboard.press("2")
    page.keyboard.press("-")  # contradicts
    page.keyboard.press("Enter")
    expect(progress).to_have_text(re.compile(r"^1 /"))
    expect(sentence).not_to_have_text(first)
    page.keyboard.press("x")  # no code
    expect(progress).to_have_text(re.compile(r"^2 /"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
    page.keyboard.press("u")  # undo the "no code"
    expect(progress).to_have_text(re.compile(r"^1 /"))
    with Project.open(path) as proj:
        decided = [d for ds in proj.store.decisions_by_sentence().values() for d in ds if d["current"] and d["accepted"]]
        assert ("h3.harassment", "contradicts", "anna") in {(d["code"], d["stance"], d["coder"]) for d in decided}
        assert proj.progress("anna")["reviewed"] == 1  # the "no code" decision was undone
