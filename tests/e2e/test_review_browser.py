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


IMG = '<img src=x onerror="window.pwned=1">'
SCRIPT = "<script>window.pwned=2</script>"


def _ran_nothing(page) -> None:
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("main img, main script").count() == 0


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_issue_15_1_error_page_runs_nothing_in_chromium(server, browser, bypass_csp):
    from playwright.sync_api import expect

    url, _ = server
    page = browser.new_page(bypass_csp=bypass_csp)
    page.goto(f"{url}/document/{IMG}")
    expect(page.get_by_test_id("error")).to_contain_text(IMG)
    _ran_nothing(page)


@pytest.fixture
def hostile(tmp_path, data_dir, serve):
    """A project whose transcript, informant, metadata and codebook all carry script."""
    from coder.web.app import create_app

    book = (data_dir / "mini-codebook.yaml").read_text(encoding="utf-8")
    book = book.replace("title: Mini", f"title: '{SCRIPT} Mini'").replace("label: Chikane", f"label: '{IMG} Chikane'")
    book = book.replace("description: Trusler og chikane.", f"description: '{SCRIPT} Trusler'")
    (tmp_path / "book.yaml").write_text(book, encoding="utf-8")
    src = tmp_path / "hostile.txt"
    src.write_text(f"Informant: Lene {IMG}\nSted: {SCRIPT}\n\nI: Hvorfor {SCRIPT} stoppede du?\n\n"
                   f"B: Det var truslerne {IMG}. Og så {SCRIPT} stoppede jeg.\n\nI: Og så?\n\nB: Ja.\n", encoding="utf-8")
    with Project.init(tmp_path / "p", tmp_path / "book.yaml") as proj:
        proj.add_transcripts([src])
        sid = proj.sentences(role="informant")[0].id
        proj.decide(sid, "anna", {"h3.harassment": None})
    return serve(create_app(tmp_path / "p", "anna", strategy="sequential"))


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_issue_13_11_interview_and_codebook_text_runs_nothing_in_chromium(hostile, browser, bypass_csp):
    from playwright.sync_api import expect

    page = browser.new_page(bypass_csp=bypass_csp)
    for path, shown in (("/", f"Lene {IMG}"), ("/codebook", f"{IMG} Chikane"), ("/document/hostile", f"Det var truslerne {IMG}."),
                        ("/review", f"Og så {SCRIPT} stoppede jeg.")):
        page.goto(hostile + path)
        expect(page.locator("main")).to_contain_text(shown)
        _ran_nothing(page)
    expect(page.locator("#question")).to_contain_text(SCRIPT)
    page.keyboard.press("?")
    expect(page.locator("#help")).to_contain_text(f"{IMG} Chikane")
    _ran_nothing(page)
