from __future__ import annotations


import pytest

from coder.codebook import load_codebook
from coder.errors import CodebookError, ProjectError
from coder.report import to_html, to_markdown, to_xlsx
from coder.score import Context, Evidence, ScoringRules, hypothesis_verdict, informant_verdict, score_hypotheses

RULES = ScoringRules(min_segments=2, min_share=0.0, contradiction_ratio=0.5, confirm_share=0.5, partly_share=0.25, bootstrap=50)


@pytest.mark.parametrize(
    "s, c, share, verdict",
    [
        (0, 0, 0.0, "no_evidence"),
        (3, 0, 0.1, "supports"),
        (2, 0, 0.1, "supports"),
        (1, 0, 0.05, "partly"),  # too few supporting sentences
        (4, 2, 0.1, "supports"),  # contradicting exactly half: still supports
        (4, 3, 0.1, "partly"),  # notable contradicting evidence
        (3, 3, 0.1, "contradicts"),  # a tie goes to contradicts
        (0, 1, 0.0, "contradicts"),
    ],
)
def test_score_informant_rule_case_by_case(s, c, share, verdict):
    assert informant_verdict(s, c, share, RULES)[0] == verdict


def test_score_min_share_demotes_to_partly():
    rules = ScoringRules(min_share=0.05)
    assert informant_verdict(3, 0, 0.02, rules) == ("partly", "partly: too little support (supporting 3, share 2.0%; needs 2 and 5%)")


@pytest.mark.parametrize("context, reason", [
    (Context(salience=0.4, strongest="H3"), "partly: secondary to H3 (salience 0.40)"),
    (Context(missing_sides=("genvalg",)), "partly: one side only (nothing supporting genvalg)"),
])
def test_score_partly_readings_state_their_reason(context, reason):
    assert informant_verdict(5, 0, 0.2, RULES, context) == ("partly", reason)
    assert informant_verdict(5, 0, 0.2, RULES)[0] == "supports"


def _h2_book():
    return load_codebook("politisk-exit")


def test_score_secondary_and_one_side_from_evidence():
    book = _h2_book()
    ev = [_ev("A", k, "h3.harassment") for k in range(1, 7)] + [_ev("A", 7, "h1.council"), _ev("A", 8, "h1.council")]
    ev += [_ev("A", 9, "h2.personal_gain"), _ev("A", 10, "h2.personal_gain"), _ev("A", 11, "h2.personal_gain")]
    by_id = {h.id: h.informants[0] for h in score_hypotheses(ev, {"A": 40}, book, RULES).hypotheses}
    assert by_id["H1"].verdict == "partly" and "secondary to H3 (salience 0.33)" in by_id["H1"].reason
    assert by_id["H3"].verdict == "supports" and by_id["H3"].salience == 1.0
    assert by_id["H2"].verdict == "partly" and "nothing supporting genvalg" in by_id["H2"].reason
    both = ev + [_ev("A", 12, "h2.reelection"), _ev("A", 13, "h2.reelection")]  # both sides, salience 5/6
    assert score_hypotheses(both, {"A": 40}, book, RULES).hypotheses[1].informants[0].verdict == "supports"


def test_score_sides_must_name_the_hypothesis_codes(tmp_path, data_dir):
    from coder.codebook import check_codebook

    text = (data_dir / "mini-codebook.yaml").read_text(encoding="utf-8").replace(
        "    evidence: [h3.harassment, h3.family, h3.always_on]",
        "    evidence: [h3.harassment, h3.family, h3.always_on]\n    sides:\n      chikane: [h3.harassment]\n      råd: [h1.council]")
    (tmp_path / "book.yaml").write_text(text, encoding="utf-8")
    (problem,) = check_codebook(tmp_path / "book.yaml")
    assert "side 'råd' of hypothesis 'H3' names h1.council, which is not among the hypothesis' evidence codes" in problem


@pytest.mark.parametrize(
    "verdicts, expected",
    [
        (["supports", "supports", "partly", "contradicts"], "confirmed"),
        (["supports", "partly", "contradicts", "no_evidence"], "partly_confirmed"),
        (["partly", "partly", "contradicts", "no_evidence"], "partly_confirmed"),
        (["partly", "contradicts", "contradicts", "no_evidence"], "not_confirmed"),
        ([], "not_confirmed"),
    ],
)
def test_score_hypothesis_rule(verdicts, expected):
    assert hypothesis_verdict(verdicts, RULES)[0] == expected


def test_score_rules_validated_and_unknown_keys():
    with pytest.raises(CodebookError, match="confirm_share must be between 0 and 1"):
        ScoringRules(confirm_share=1.5)
    with pytest.raises(CodebookError, match="Unknown scoring setting"):
        ScoringRules.from_mapping({"min_segmnts": 2})


def _ev(informant, sid, code, stance="supports", reviewed=True, score=None):
    return Evidence(informant, "doc", sid, sid * 10, sid * 10 + 5, sid + 1, f"sætning {sid}", code, stance, reviewed, score)


def test_score_sentence_counts_once_and_both_stances_contradict():
    book = load_codebook("politisk-exit")
    ev = [_ev("A", 1, "h3.harassment"), _ev("A", 1, "h3.family"), _ev("A", 2, "h3.always_on"),
          _ev("A", 3, "h3.climate", "contradicts"), _ev("A", 3, "h3.family")]
    scores = score_hypotheses(ev, {"A": 20, "B": 10}, book, RULES)
    h3 = next(h for h in scores.hypotheses if h.id == "H3")
    a, b = h3.informants
    assert (a.supporting, a.contradicting, a.verdict) == (2, 1, "supports")
    assert a.per_code["h3.family"] == {"supports": 2, "contradicts": 0}
    assert b.verdict == "no_evidence" and h3.verdict == "confirmed"  # 1 of 2 informants: 50% reaches confirm_share
    assert 0 <= a.stability <= 1
    assert [q.sentence_id for q in a.quotes] == [1, 2, 3]


def test_score_quotes_prefer_reviewed_then_confidence():
    book = load_codebook("politisk-exit")
    ev = [_ev("A", 1, "h1.council", reviewed=False, score=0.9), _ev("A", 2, "h1.council", reviewed=False, score=0.6),
          _ev("A", 3, "h1.council"), _ev("A", 4, "h1.council", reviewed=False, score=0.95)]
    h1 = score_hypotheses(ev, {"A": 10}, book, RULES).hypotheses[0]
    assert [q.sentence_id for q in h1.informants[0].quotes] == [3, 4, 1]


def test_score_json_schema_and_reports(tmp_path):
    book = load_codebook("politisk-exit")
    scores = score_hypotheses([_ev("Lene", 1, "h3.harassment"), _ev("Lene", 2, "h3.harassment")], {"Lene": 5}, book, RULES)
    data = scores.to_json()
    h3 = next(h for h in data["hypotheses"] if h["id"] == "H3")
    assert h3["verdict"] in ("confirmed", "partly_confirmed", "not_confirmed")
    lene = h3["informants"][0]
    assert {"informant", "verdict", "supporting", "contradicting", "stability", "quotes"} <= set(lene)
    assert set(lene["quotes"][0]) >= {"document", "start", "end", "text", "code", "stance", "reviewed"}
    md = to_markdown(scores, "en")
    assert "## H3" in md and "(Lene, doc, line 2; h3.harassment, supports)" in md
    page = to_html(scores, book, "en")
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page and "<script" not in page
    to_xlsx(scores, tmp_path / "r.xlsx", "en")
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["H1", "H2", "H3", "H4", "segments"]


def test_score_project_sources_and_cli(ingested, runner, tmp_path):
    from coder.cli import app

    with pytest.raises(ProjectError, match="No reviewed sentences .* --source all"):
        ingested.score("reviewed")
    with pytest.raises(ProjectError, match="No proposals .* run 'coder precode"):
        ingested.score("model")
    r = runner.invoke(app, ["score", str(ingested.path)])
    assert r.exit_code == 1 and "--source all" in r.output


def test_score_rule_stability_over_nearby_thresholds():
    from coder.score import _rule_stability

    assert _rule_stability(10, 0, 0.2, "supports", RULES) == 1.0  # clear support under every nearby rule
    borderline = _rule_stability(2, 1, 0.1, "supports", RULES)  # 1 of 2 contradicting is exactly 50%
    assert 0 < borderline < 1


def test_issue_15_reports_take_names_with_dollars_and_escape_transcript_html():
    book = load_codebook("politisk-exit")
    ev = [_ev("$a$ b$c", 1, "h3.harassment"), Evidence("<b>Ole</b>", "doc", 2, 20, 25, 3, "<script>alert(1)</script> | ja", "h3.harassment", "supports", True, None)]
    scores = score_hypotheses(ev, {"$a$ b$c": 5, "<b>Ole</b>": 5}, book, RULES)
    assert "data:image/png;base64," in to_html(scores, book, "en")  # matplotlib mathtext used to raise on "$a$ b$c"
    md = to_markdown(scores, "en")
    assert "<script>" not in md and "<b>" not in md
    assert "»&lt;script&gt;alert(1)&lt;/script&gt; \\| ja« (&lt;b&gt;Ole&lt;/b&gt;, doc, line 3" in md
