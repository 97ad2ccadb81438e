"""Issue 13.14 in a real browser: the review page's script writes only texts of the page's language."""

from __future__ import annotations

import pytest

from coder import Project

from ..test_i18n import assert_one_language
from .test_review_browser import CHROMIUM, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup.sh installs it)")]


@pytest.mark.parametrize("lang, progress, why, undo", [
    ("da", "gennemgået", "Hvorfor denne: usikker på", "Intet at fortryde."),
    ("en", "reviewed", "Why this one: uncertain about", "Nothing to undo."),
])
def test_issue_13_review_page_in_one_language_in_chromium(tmp_path, data_dir, seed_file_path, serve, browser, lang, progress, why, undo):  # noqa: F811
    from playwright.sync_api import expect

    from coder.classify.train import TrainSettings
    from coder.web.app import create_app

    with Project.init(tmp_path / "p", data_dir / "mini-codebook.yaml") as proj:
        proj.add_transcripts([data_dir / "lene.txt"])
        proj.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
        proj.precode()
    url = serve(create_app(tmp_path / "p", "anna", strategy="uncertainty", lang=lang))
    page = browser.new_page()
    page.goto(f"{url}/review")
    page.get_by_test_id("sentence").wait_for()
    expect(page.get_by_test_id("progress")).to_contain_text(progress)
    expect(page.locator("#why")).to_contain_text(why)
    expect(page.get_by_test_id("stopping")).not_to_be_empty()
    page.keyboard.press("u")
    expect(page.locator("#message")).to_have_text(undo)
    assert_one_language(page.content(), lang)
