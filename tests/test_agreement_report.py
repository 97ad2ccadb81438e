"""Segment agreement (MAXQDA style), the agreement HTML report and `coder agreement --unit/--html`."""

from __future__ import annotations

import json

import pytest

from coder.agreement import agreement, coded_segments, segment_agreement
from coder.cli import app
from coder.errors import InvalidRequestError

# One document, sentences 0..9 of 10 characters each (sentence i spans 10i..10i+10); sentence 4 is
# the interviewer's, so it is not a unit and splits runs across it.
UNITS = [(i, "d", i, 10 * i, 10 * i + 10) for i in range(10) if i != 4]
GROUPS = {"x": "g1", "y": "g1", "w": "g2", "z": "g3"}
A = {i: set() for i, *_ in UNITS} | {0: {"x"}, 1: {"x"}, 2: {"x"}, 5: {"x"}, 7: {"y"}, 8: {"y"}, 9: {"w"}}
B = {i: set() for i, *_ in UNITS} | {0: {"x"}, 1: {"x"}, 2: {"x"}, 6: {"x"}, 7: {"y"}, 9: {"w"}}


def test_agreement_report_segments_are_runs_of_adjacent_sentences():
    coding = {3: {"x"}, 5: {"x"}, 6: {"x"}, 8: {"x", "y"}}
    # 3 and 5 are not adjacent (the interviewer's sentence 4 lies between); 8 is its own run.
    assert coded_segments(coding, UNITS, ["x"]) == [("d", 30, 40), ("d", 50, 70), ("d", 80, 90)]
    assert coded_segments(coding, UNITS, ["y", "z"]) == [("d", 80, 90)]


def test_agreement_report_segment_agreement_hand_computed():
    # Segments (document d, characters):
    #   x: A [0,30) [50,60)   B [0,30) [60,70)  -> [0,30) agrees from both sides (2); A's [50,60)
    #      and B's [60,70) do not touch: agree 2, A only 1, B only 1, percent 2/4 = 0.5
    #   y: A [70,90)          B [70,80)         -> intersection 10 / union 20 = 0.5 < 0.9:
    #      agree 0, A only 1, B only 1, percent 0
    #   w: A [90,100)         B [90,100)        -> agree 2, percent 1
    #   z: nobody             -> percent and kappa undefined
    # Codes used k = 3, chance 1/3 (Brennan & Prediger); kappa = (p - 1/3) / (2/3):
    #   x (0.5 - 1/3) / (2/3) = 0.25, y -0.5, w 1.
    # All codes: agree 4, A only 2, B only 2 of 8 segments: percent 0.5, kappa 0.25.
    r = segment_agreement({"a": A, "b": B}, UNITS, ["x", "y", "w", "z"], GROUPS)
    c = r["codes"]
    assert c["x"] == {"agree": 2, "a_only": 1, "b_only": 1, "percent": 0.5, "kappa": pytest.approx(0.25)}
    assert (c["y"]["agree"], c["y"]["a_only"], c["y"]["b_only"], c["y"]["percent"]) == (0, 1, 1, 0.0)
    assert c["y"]["kappa"] == pytest.approx(-0.5) and c["w"]["kappa"] == pytest.approx(1.0)
    assert c["z"] == {"agree": 0, "a_only": 0, "b_only": 0, "percent": None, "kappa": None}
    o = r["overall"]
    assert (o["agree"], o["a_only"], o["b_only"], o["codes_used"]) == (4, 2, 2, 3)
    assert o["percent"] == 0.5 and o["kappa"] == pytest.approx(0.25) and o["p_chance"] == pytest.approx(1 / 3)
    assert r["unit"] == "segment" and r["n_units"] == 8 and r["n_sentences"] == 9
    # Group g1 (x or y): A [0,30) [50,60) [70,90), B [0,30) [60,80); only [0,30) matches.
    assert c["group:g1"]["agree"] == 2 and c["group:g1"]["a_only"] == 2 and c["group:g1"]["b_only"] == 1
    # A looser threshold lets y's half overlap count: agree 2 -> all codes 6 of 8.
    loose = segment_agreement({"a": A, "b": B}, UNITS, ["x", "y", "w", "z"], GROUPS, overlap=0.5)
    assert loose["codes"]["y"]["agree"] == 2 and loose["overall"]["percent"] == 0.75


def test_agreement_report_segment_degenerate_cases_are_undefined():
    nobody = {i: set() for i, *_ in UNITS}
    r = segment_agreement({"a": nobody, "b": nobody}, UNITS, ["x", "y"], GROUPS)
    assert r["overall"]["percent"] is None and r["overall"]["kappa"] is None and r["codes"]["x"]["kappa"] is None
    # One code used by both in full agreement: percent 1, but chance 1/k needs k >= 2, so kappa is undefined, not 1.
    one = segment_agreement({"a": A, "b": A}, UNITS, ["x", "z"], GROUPS)
    assert one["codes"]["x"]["percent"] == 1.0 and one["codes"]["x"]["kappa"] is None
    # Sentences only one coder decided on do not count.
    partial = segment_agreement({"a": A, "b": {0: {"x"}, 1: {"x"}, 2: {"x"}}}, UNITS, ["x", "y"], GROUPS)
    assert partial["n_sentences"] == 3 and partial["codes"]["x"]["agree"] == 2 and partial["codes"]["y"]["percent"] is None


@pytest.mark.parametrize("codings, overlap, message", [
    ({"a": A, "b": B, "c": B}, 0.9, "Segment agreement compares exactly two coders, not 3"),
    ({"a": A, "b": B}, 0.0, "--overlap must be a share above 0 and at most 1"),
    ({"a": A, "b": B}, 1.5, "--overlap must be a share above 0 and at most 1"),
])
def test_agreement_report_segment_bad_requests(codings, overlap, message):
    with pytest.raises(InvalidRequestError, match=message):
        segment_agreement(codings, UNITS, ["x"], GROUPS, overlap=overlap)


def _sentence_result(monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr("coder.agreement.BOOTSTRAP", 30)  # intervals are not under test here; keep it fast
    codings = {
        "anna": {1: {"x"}, 2: set(), 3: {"x"}, 4: {"y"}, 5: set(), 6: {"x"}},
        "bo": {1: {"x"}, 2: set(), 3: set(), 4: {"y"}, 5: set(), 6: {"x"}},
        "model": {1: {"x"}, 2: {"x"}, 3: {"x"}, 4: set(), 5: set(), 6: {"x"}},
    }
    return agreement(codings, [1, 2, 3, 4, 5, 6], ["x", "y", "z"], {"x": "g", "y": "g", "z": "h"})


def test_agreement_report_html_has_table_plots_and_ceiling(monkeypatch):
    from coder.agreement_report import agreement_html

    r = _sentence_result(monkeypatch)
    r["coders"] = ["anna <b>", *r["coders"][1:]]  # user text is escaped
    page = agreement_html(r, "en")
    assert page.count("<img ") == 2 and page.count("data:image/png;base64,") == 2
    assert "<script" not in page and "anna &lt;b&gt;" in page and "anna <b>" not in page
    assert "<th>Cohen&#x27;s kappa</th>" in page and "<td>group:g</td>" in page
    assert "undefined" in page  # z: nobody used it
    assert "human-human (ceiling)" in page and "model-human" in page
    assert page.index("anna ~ bo") < page.index("anna ~ model")  # the ceiling row comes first


def test_agreement_report_html_two_coders_no_ceiling_and_segment_page(monkeypatch):
    from coder.agreement_report import agreement_html

    monkeypatch.setattr("coder.agreement.BOOTSTRAP", 30)
    r = agreement({"gold": {1: {"x"}, 2: set()}, "model": {1: {"x"}, 2: {"x"}}}, [1, 2], ["x"], {"x": "g"})
    assert "(ceiling)" not in agreement_html(r, "en")
    seg = agreement_html(segment_agreement({"a": A, "b": B}, UNITS, ["x", "y", "w", "z"], GROUPS), "en")
    assert seg.count("<img ") == 1 and "<th>all codes</th>" in seg and "Brennan &amp; Prediger" in seg
    assert "<td class='n'>2</td><td class='n'>1</td><td class='n'>1</td><td class='n'>50.0%</td>" in seg


def _import(project, coder: str, spans: list[tuple[str, str]], tmp_path) -> None:
    """Give ``coder`` the spans (from the first to the last of two quoted texts in lene, code)."""
    text = project.store.document_text("lene")
    rows = []
    for (first, last), code in spans:
        start, end = text.index(first), text.index(last) + len(last)
        rows.append({"document": "lene", "start": start, "end": end, "codes": [code]})
    path = tmp_path / f"{coder}.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    project.import_codings(path, coder)


def test_agreement_report_cli_segment_json_html_and_errors(ingested, runner, tmp_path, monkeypatch):
    monkeypatch.setattr("coder.agreement.BOOTSTRAP", 30)
    # Informant sentences of lene: 1 "Det var truslerne." 2 "Jeg fik ... nu er det nok." 3 "Min familie
    # kunne ikke mere." | interviewer | 5 "Ja, byrådet." 6 "Det var svært ... 1. oktober."
    harassment = (("Det var truslerne.", "nu er det nok."), "h3.harassment")
    family = (("Min familie", "ikke mere."), "h3.family")
    _import(ingested, "anna", [harassment, family, (("Ja, byrådet.", "1. oktober."), "h1.council")], tmp_path)
    _import(ingested, "bo", [harassment, family, (("Det var svært", "1. oktober."), "h1.council")], tmp_path)
    proj = str(ingested.path)
    # h1.council: anna 5-6, bo 6 only: 64 of 77 characters overlap (0.83 < 0.9), so both disagree.
    # Overall: 4 of 6 segments agree; k = 3 codes used: kappa (2/3 - 1/3) / (2/3) = 0.5.
    r = runner.invoke(app, ["agreement", proj, "--coders", "anna", "--coders", "bo", "--unit", "segment", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["unit"] == "segment" and out["n_units"] == 6
    assert out["codes"]["h1.council"] == {"agree": 0, "a_only": 1, "b_only": 1, "percent": 0.0, "kappa": pytest.approx(-0.5)}
    assert out["codes"]["h3.always_on"]["kappa"] is None
    assert out["overall"]["percent"] == pytest.approx(4 / 6) and out["overall"]["kappa"] == pytest.approx(0.5)
    loose = runner.invoke(app, ["agreement", proj, "--coders", "anna", "--coders", "bo", "--unit", "segment", "--overlap", "0.8"])
    assert loose.exit_code == 0 and "all codes                      6            0            0  1.00   1.00" in loose.output
    page = tmp_path / "ag.html"
    r = runner.invoke(app, ["agreement", proj, "--coders", "anna", "--coders", "bo", "--html", str(page)])
    assert r.exit_code == 0 and "overall alpha" in r.output
    assert page.read_text(encoding="utf-8").count("<img ") == 2
    _import(ingested, "cy", [harassment], tmp_path)
    r = runner.invoke(app, ["agreement", proj, "--coders", "anna", "--coders", "bo", "--coders", "cy", "--unit", "segment"])
    assert r.exit_code == 1
    assert r.output == "Error: Segment agreement compares exactly two coders, not 3; name two with --coders A --coders B.\n"
    r = runner.invoke(app, ["agreement", proj, "--coders", "anna", "--coders", "bo", "--unit", "paragraph"])
    assert r.exit_code == 1 and r.output == "Error: Unknown unit 'paragraph'; use --unit sentence or --unit segment.\n"
