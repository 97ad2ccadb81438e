"""Issue 13.14: one language per page. Every page of the web app and every report is checked, in
Danish and in English, for texts of the other language from the one message catalogue."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from coder import i18n
from coder.agreement import agreement, segment_agreement
from coder.cli import app
from coder.codebook import load_codebook
from coder.report import VERDICTS, to_html, to_markdown, to_xlsx
from coder.score import Evidence, ScoringRules, score_hypotheses
from coder.web.app import JS_MESSAGES, VERDICT_MESSAGES

from .test_web import local_client

ROOT = Path(__file__).resolve().parents[1]
PO = i18n.LOCALE_DIR / "da" / "LC_MESSAGES" / "coder.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[.\d]*[sdf]|%%")


def _catalogue() -> list[tuple[str, str]]:
    with PO.open("rb") as f:
        return [(m.id, m.string) for m in read_po(f) if m.id]


def _fragments(text: str, other: str) -> set[str]:
    """The pieces of a catalogue text around its placeholders that a reader would notice (two or more
    words, or one long word) and that the other language's text does not share."""
    pieces = (p.strip(" ,.;:()·…-»«") for p in PLACEHOLDER.split(text))
    return {p for p in pieces if (" " in p or len(p) >= 8) and p not in other}


FOREIGN = {  # the texts a page in this language must not hold: the other language's catalogue texts
    "da": set().union(*(_fragments(en, da) for en, da in _catalogue())),
    "en": set().union(*(_fragments(da, en) for en, da in _catalogue())),
}


def _readable(page: str) -> str:
    """What a reader sees of a page: its text and the attributes shown as text (not URLs or ids)."""
    shown = re.findall(r"""\b(?:title|alt|data-messages)=(?:"([^"]*)"|'([^']*)')""", page)
    text = re.sub(r"<[^>]*>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S))
    return html.unescape(text + " ".join(a + b for a, b in shown))


def assert_one_language(text: str, lang: str, user_text: tuple[str, ...] = ()) -> None:
    """No text of the other language, apart from ``user_text`` (a Danish codebook's statements)."""
    readable = _readable(text)
    for t in user_text:
        readable = readable.replace(t, " ")
    found = sorted(f for f in FOREIGN[lang] if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", readable))
    assert not found, f"{lang} page holds text of the other language: {found}"


def test_issue_13_catalogue_covers_every_marked_string_and_the_mo_is_current():
    """A string marked in the code or a template but missing from the Danish .po (or a .po newer than
    its compiled .mo) would show English on a Danish page."""
    method_map = [("coder/**.py", "python"), ("coder/web/templates/**.html", "jinja2")]
    options = {"coder/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "N_": None, "gettext": None}
    marked = {msg for _, _, msg, *_ in extract_from_dir(str(ROOT), method_map, options, keywords)}
    translated = dict(_catalogue())
    assert marked and marked <= {k for k, v in translated.items() if v}, sorted(marked - set(translated))
    da = i18n.translations("da")
    assert all(da.gettext(en) == text for en, text in translated.items())  # the shipped .mo says what the .po says
    assert i18n.translator("da")("Overview") == "Overblik" and i18n.translator("en")("Overview") == "Overview"


def test_issue_13_unknown_language_is_one_sentence(runner, ingested):
    with pytest.raises(i18n.CoderError, match="Unknown language 'fr'; use one of: da, en."):
        i18n.translations("fr")
    r = runner.invoke(app, ["score", str(ingested.path), "--lang", "fr"])
    assert r.exit_code == 2 and "use one of: da, en." in r.output


@pytest.fixture
def served(ingested, seed_file_path):
    """The project with a model, proposals and one decision, so every part of every page shows."""
    from coder.classify.train import TrainSettings

    ingested.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
    ingested.precode()
    ingested.decide(ingested.review_queue("anna", "sequential")[0], "anna", {"h3.harassment": "supports"})
    return ingested


@pytest.mark.parametrize("lang", ["da", "en"])
def test_issue_13_every_page_and_json_text_in_one_language(served, lang):
    client = local_client(served.path, "anna", lang=lang, strategy="uncertainty")
    pages = {path: client.get(path) for path in ("/", "/review", "/codebook", "/document/lene", "/verdicts")}
    pages["404"] = client.get("/no/such/page")
    pages["403"] = client.get("/review?coder=eve")  # the app's own refusal
    pages["415"] = client.post("/api/undo", content=b"{}", headers={"Content-Type": "text/plain"})  # the guard's refusal
    assert [r.status_code for r in pages.values()] == [200, 200, 200, 200, 200, 404, 403, 415]
    for r in pages.values():
        assert_one_language(r.text, lang)
    assert f'<html lang="{lang}">' in pages["/"].text
    own = {"da": ("Overblik", "Fortsæt gennemgangen", "Ikke fundet", "Serveren gemmer kun"),
           "en": ("Overview", "Keep reviewing", "Not Found", "This server records")}[lang]
    assert [w in r.text for w, r in zip(own, (pages["/"], pages["/"], pages["404"], pages["403"]))] == [True] * 4
    item = client.get("/api/next").json()["item"]
    status = client.get("/api/status").json()
    for text in (item["reason"], status["training"]["advice"]):
        assert text and text.startswith({"da": ("usikker", "Fortsæt"), "en": ("uncertain", "Keep")}[lang])
        assert_one_language(text, lang)
    verdicts = client.get("/api/verdicts").json()  # the rule lines verdicts.js shows
    reasons = [c["reason"] for c in verdicts["cells"]] + [h["reason"] for h in verdicts["hypotheses"]]
    assert reasons and any(r.startswith({"da": "understøttende", "en": "supporting"}[lang]) for r in reasons)
    assert_one_language(" ".join(reasons), lang)


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize(("path", "catalogue"), [("/review", JS_MESSAGES), ("/verdicts", VERDICT_MESSAGES)])
def test_issue_13_scripts_get_their_texts_from_the_page(served, lang, path, catalogue):
    page = local_client(served.path, "anna", lang=lang).get(path).text
    sent = json.loads(html.unescape(re.search(r"data-messages='([^']*)'", page).group(1)))
    assert sent == {key: i18n.translator(lang)(text) for key, text in catalogue.items()}
    assert_one_language(" ".join(sent.values()), lang)


def _literals(script: str) -> tuple[str, list[str]]:
    js = (ROOT / "coder/web/static" / script).read_text(encoding="utf-8")
    code = re.sub(r"^\s*//.*$", "", js, flags=re.M)
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"|`((?:[^`\\]|\\.)*)`', code)
    return code, [a or b for a, b in literals]


def test_issue_13_review_script_has_no_hard_coded_text():
    """review.js's string literals are selectors, ids, keys and URLs; every sentence comes from the page."""
    code, texts = _literals("review.js")
    assert texts and not [t for t in texts if re.search(r"[A-Za-zæøåÆØÅ]\s+[A-Za-zæøåÆØÅ]", t)]
    assert not [t for t in texts if t.startswith("`") or (" " in t and not t.startswith("/api/"))]
    used = set(re.findall(r'\bt\("(\w+)"', code))
    assert used == set(JS_MESSAGES)  # every key the script asks for is in the catalogue, none unused


def test_issue_13_shared_page_script_has_no_hard_coded_text():
    """page.js (texts and API calls for every page script) holds only header names, a method and a MIME type."""
    _, texts = _literals("page.js")
    assert texts and not [t for t in texts if re.search(r"[A-Za-zæøåÆØÅ]\s+[A-Za-zæøåÆØÅ]|[æøåÆØÅ]", t)]


def test_issue_13_verdicts_script_has_no_hard_coded_text():
    """verdicts.js's literals are keys, ids, classes and URLs (no two words in a row, no non-ASCII
    letters); its texts are the page's messages, the verdict words looked up by verdict id."""
    code, texts = _literals("verdicts.js")
    selectors = ("#", ".")
    assert texts and not [t for t in texts if not t.startswith(selectors) and re.search(r"[A-Za-zæøåÆØÅ]\s+[A-Za-zæøåÆØÅ]|[æøåÆØÅ]", t)]
    assert set(re.findall(r'\bt\("(\w+)"[,)]', code)) <= set(VERDICT_MESSAGES)  # every key asked for exists
    assert {t for t in texts if t in VERDICT_MESSAGES} | {f"v_{v}" for v in VERDICTS} == set(VERDICT_MESSAGES)  # none unused


RULES = ScoringRules(min_segments=2, min_share=0.0, contradiction_ratio=0.5, confirm_share=0.5, partly_share=0.25, bootstrap=20)


def _scores():
    def ev(informant, sid, stance="supports", reviewed=True, score=None):
        return Evidence(informant, "doc", sid, sid * 10, sid * 10 + 5, sid + 1, f"sætning {sid}", "h3.harassment", stance, reviewed, score)

    evidence = [ev("Lene", 1), ev("Lene", 2), ev("Ole", 3, "contradicts"), ev("Mette", 4, reviewed=False, score=0.8),
                ev("Mette", 5, reviewed=False), ev("Mette", 6), ev("Mette", 7, "contradicts")]
    return score_hypotheses(evidence, {"Lene": 5, "Ole": 5, "Mette": 9, "Sofie": 3}, load_codebook("politisk-exit"), RULES)


def _agreement_results(monkeypatch) -> list[dict]:
    monkeypatch.setattr("coder.agreement.BOOTSTRAP", 20)
    codings = {"anna": {1: {"x"}, 2: set(), 3: {"x"}, 4: {"y"}}, "bo": {1: {"x"}, 2: set(), 3: set(), 4: {"y"}},
               "model": {1: {"x"}, 2: {"x"}, 3: {"x"}, 4: set()}}
    units = [(i, "d", i, 10 * i, 10 * i + 10) for i in range(4)]
    a, b = {0: {"x"}, 1: {"x"}, 2: set(), 3: {"y"}}, {0: {"x"}, 1: set(), 2: {"x"}, 3: {"y"}}
    return [agreement(codings, [1, 2, 3, 4], ["x", "y", "z"], {"x": "g", "y": "g", "z": "h"}),
            segment_agreement({"a": a, "b": b}, units, ["x", "y", "z"], {"x": "g", "y": "g", "z": "h"})]


BENCHMARK = {
    "gold": "gold", "sentences": 100,
    "curves": {"uncertainty seed 1": [{"reviewed": n, "kappa": 0.3 * k, "verdict_agreement": 0.5 + 0.2 * k} for k, n in enumerate((0, 25, 50))]},
    "reviewed_to_reach_kappa": {"uncertainty": {"0.6": 50, "0.8": None}},
    "reviewed_to_gold_verdicts": {"uncertainty": None},
    "model_vs_gold": {"codes": {"a": {"kappa": None, "ci95": {}}, "b": {"kappa": 0.5, "ci95": {"kappa": [0.2, 0.8]}}},
                      "confusion": {"a": {"a": 3, "none": 1}, "none": {"none": 10}}},
    "verdicts": {"agreement": 0.5, "cells": [{"hypothesis": "H1", "informant": "A", "gold": "supports", "model": "no_evidence"}]},
}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_issue_13_every_report_in_one_language(monkeypatch, tmp_path, lang):
    from openpyxl import load_workbook

    from coder.agreement_report import agreement_html, benchmark_html

    scores, book = _scores(), load_codebook("politisk-exit")
    to_xlsx(scores, tmp_path / "r.xlsx", lang)
    cells = [str(c) for ws in load_workbook(tmp_path / "r.xlsx") for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    reports = {"html": to_html(scores, book, lang), "markdown": to_markdown(scores, lang), "xlsx": "\n".join(cells),
               "agreement": "", "segments": "", "benchmark": benchmark_html(BENCHMARK, lang)}
    reports["agreement"], reports["segments"] = (agreement_html(r, lang) for r in _agreement_results(monkeypatch))
    for text in reports.values():
        assert_one_language(text, lang, tuple(h.statement for h in scores.hypotheses))
    words = {"da": ("Samlet", "understøtter", "ikke gennemgået", "udefineret", "Parvis overensstemmelse", "aldrig i kørslen"),
             "en": ("Overall", "supports", "unreviewed", "undefined", "Pairwise agreement", "never within the run")}[lang]
    assert all(w in reports["html"] + reports["agreement"] + reports["benchmark"] for w in words)
    assert reports["html"].startswith(f"<!doctype html><html lang='{lang}'>")


def test_issue_13_score_cli_lang_en_writes_english_reports(runner, served, tmp_path):
    out = tmp_path / "r.html"
    for lang, word in (("en", "Overall"), ("da", "Samlet")):
        r = runner.invoke(app, ["score", str(served.path), "--html", str(out), "--markdown", str(tmp_path / "r.md"), "--lang", lang])
        assert r.exit_code == 0, r.output
        for text in (out.read_text(encoding="utf-8"), (tmp_path / "r.md").read_text(encoding="utf-8")):
            assert word in text
            assert_one_language(text, lang, tuple(h.statement for h in served.codebook.hypotheses))
