"""Verdict review in headless Chromium: open a cell, set "partly" with a note by keyboard, restart, then go stale."""

from __future__ import annotations

import re

import pytest

from coder import Project

from .test_review_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup.sh installs it)")]


def test_verdict_set_by_keyboard_survives_restart_and_goes_stale(tmp_path, data_dir, serve, browser):  # noqa: F811
    from playwright.sync_api import expect

    from coder.web.app import create_app

    path = tmp_path / "p"
    with Project.init(path, data_dir / "mini-codebook.yaml") as proj:
        proj.add_transcripts([data_dir / "lene.txt"])
        rows = proj.sentences(role="informant")
        for r in rows[:3]:
            proj.decide(r.id, "anna", {"h3.harassment": "supports"})
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{serve(create_app(path, 'anna'))}/verdicts")
    cell = page.get_by_test_id("cell-H3-Lene Kristoffersen")
    expect(cell).to_have_attribute("data-verdict", "supports")
    cell.get_by_role("button").click()
    expect(page.get_by_test_id("proposal")).to_contain_text("understøtter")
    expect(page.get_by_test_id("quotes-h3.harassment-supports").locator("li")).to_have_count(3)
    page.keyboard.press("n")  # to the rationale field
    page.keyboard.type("Chikane nævnes, men hun gik af andre grunde.")
    page.keyboard.press("Enter")  # back to the verdict keys
    page.keyboard.press("2")  # partly
    expect(cell).to_have_attribute("data-researcher", "partly")
    expect(page.get_by_test_id("overall-H3")).to_have_text("delvist bekræftet")

    page.goto(f"{serve(create_app(path, 'anna'))}/verdicts")  # a restarted server
    cell = page.get_by_test_id("cell-H3-Lene Kristoffersen")
    expect(cell).to_have_attribute("data-researcher", "partly")
    expect(cell).to_have_attribute("data-stale", "false")
    cell.get_by_role("button").click()
    expect(page.get_by_test_id("mine")).to_contain_text("Chikane nævnes, men hun gik af andre grunde.")

    with Project.open(path) as proj:  # a new decision changes the cell's evidence
        proj.decide(rows[3].id, "anna", {"h3.family": "contradicts"})
    page.reload()
    cell = page.get_by_test_id("cell-H3-Lene Kristoffersen")
    expect(cell).to_have_attribute("data-stale", "true")
    expect(cell).to_contain_text(re.compile("forældet"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "verdicts.png"), full_page=True)
