"""Researcher verdicts (issue 12): set, list, clear, stale after new evidence, reports, migration."""

from __future__ import annotations

import json
import sqlite3

import pytest

from coder import Project
from coder.cli import app
from coder.errors import CoderError

from .conftest import DATA


@pytest.fixture
def coded(ingested):
    """The mini project with two harassment sentences and one council sentence decided by a human."""
    rows = ingested.sentences(role="informant")
    ingested.decide(rows[0].id, "anna", {"h3.harassment": "supports"})
    ingested.decide(rows[1].id, "anna", {"h3.harassment": "supports"})
    ingested.decide(rows[2].id, "anna", {"h1.council": "supports"})
    return ingested


def _cell(path, hypothesis, runner):
    out = runner.invoke(app, ["verdict", "list", str(path), "--json"])
    assert out.exit_code == 0, out.output
    review = json.loads(out.output)
    return next(c for c in review["cells"] if c["hypothesis"] == hypothesis)


def test_verdict_cli_set_list_clear(coded, runner):
    path = coded.path
    informant = coded.sentences(role="informant")[0].informant
    coded.close()
    out = runner.invoke(app, ["verdict", "set", str(path), "--informant", informant, "--hypothesis", "H1",
                              "--verdict", "partly", "--note", "Sekundær grund.", "--coder", "anna"])
    assert out.exit_code == 0, out.output
    cell = _cell(path, "H1", runner)
    assert (cell["researcher_verdict"], cell["rationale"], cell["coder"], cell["stale"]) == ("partly", "Sekundær grund.", "anna", False)
    assert cell["rule_verdict"] == "partly" and "too little support" in cell["reason"]  # 1 council sentence
    assert cell["evidence"]["h1.council"]["supports"][0]["reviewed"] is True
    listed = runner.invoke(app, ["verdict", "list", str(path)]).output
    assert "researcher partly" in listed and "rationale: Sekundær grund." in listed
    out = runner.invoke(app, ["verdict", "clear", str(path), "--informant", informant, "--hypothesis", "H1"])
    assert out.exit_code == 0, out.output
    assert _cell(path, "H1", runner)["researcher_verdict"] is None


@pytest.mark.parametrize("args, message", [
    (["--informant", "Nobody", "--hypothesis", "H1", "--verdict", "partly"], "No informant 'Nobody'"),
    (["--informant", "Lene Kristoffersen", "--hypothesis", "H9", "--verdict", "partly"], "No hypothesis 'H9'"),
    (["--informant", "Lene Kristoffersen", "--hypothesis", "H1", "--verdict", "maybe"], "Unknown verdict 'maybe'"),
])
def test_verdict_bad_input_is_one_sentence_and_stores_nothing(coded, runner, args, message):
    path = coded.path
    coded.close()
    out = runner.invoke(app, ["verdict", "set", str(path), *args])
    assert out.exit_code == 1 and message in out.output and "Traceback" not in out.output
    with Project.open(path) as proj:
        assert proj.store.current_verdicts() == {}


def test_verdict_required_rationale(coded, tmp_path, data_dir):
    text = (data_dir / "mini-codebook.yaml").read_text(encoding="utf-8") + "scoring:\n  require_rationale: true\n"
    (tmp_path / "book.yaml").write_text(text, encoding="utf-8")
    coded.use_codebook(tmp_path / "book.yaml")
    with pytest.raises(CoderError, match="requires a rationale"):
        coded.set_verdict("Lene Kristoffersen", "H3", "supports", "  ")
    assert coded.store.current_verdicts() == {}


def test_verdict_stale_after_a_new_decision_and_in_score_json(coded, runner):
    coded.set_verdict("Lene Kristoffersen", "H3", "partly", "Chikane, men ikke hele forklaringen.", "anna")
    scores = coded.score().to_json()
    h3 = next(h for h in scores["hypotheses"] if h["id"] == "H3")
    (row,) = h3["informants"]
    assert (row["verdict"], row["rule_verdict"], row["researcher_verdict"], row["stale"]) == ("partly", "supports", "partly", False)
    assert row["rationale"] == "Chikane, men ikke hele forklaringen."
    assert h3["verdict"] == "partly_confirmed" and "researcher's verdict for 1 of 1" in h3["reason"]
    h1 = next(h for h in scores["hypotheses"] if h["id"] == "H1")
    assert h1["informants"][0]["researcher_verdict"] is None and h1["informants"][0]["stale"] is False
    rows = coded.sentences(role="informant")
    coded.decide(rows[3].id, "anna", {"h3.family": "contradicts"})
    (row,) = next(h for h in coded.score().to_json()["hypotheses"] if h["id"] == "H3")["informants"]
    assert row["researcher_verdict"] == "partly" and row["stale"] is True
    path = coded.path
    coded.close()
    assert _cell(path, "H3", runner)["stale"] is True
    assert "STALE" in runner.invoke(app, ["verdict", "list", str(path)]).output


def test_verdict_reports_show_both(coded, tmp_path, runner):
    coded.set_verdict("Lene Kristoffersen", "H3", "partly", "Kun en del af grunden.", "anna")
    path = coded.path
    coded.close()
    out = runner.invoke(app, ["score", str(path), "--markdown", str(tmp_path / "r.md"), "--html", str(tmp_path / "r.html"),
                              "--xlsx", str(tmp_path / "r.xlsx"), "--lang", "en"])
    assert out.exit_code == 0, out.output
    assert "partly (researcher; rule: supports)" in out.output and "Kun en del af grunden." in out.output
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "partly (researcher; rule: supports)" in md and "Kun en del af grunden." in md
    assert "Kun en del af grunden." in (tmp_path / "r.html").read_text(encoding="utf-8")
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "r.xlsx")["H3"]
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert "Kun en del af grunden." in values and "partly" in values
    assert runner.invoke(app, ["score", str(path), "--html", str(tmp_path / "da.html")]).exit_code == 0
    assert "delvist (forsker; reglen: understøtter)" in (tmp_path / "da.html").read_text(encoding="utf-8")  # Danish by default


def test_verdict_migration_of_an_existing_project(coded):
    path = coded.path / "coder.db"
    coded.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE verdicts")
    conn.execute("PRAGMA user_version = 3")  # as written by coder before issue 12
    conn.commit()
    conn.close()
    with Project.open(path.parent, readonly=True) as proj:  # a read-only open upgrades once
        assert proj.store.schema_version >= 4
    with Project.open(path.parent) as proj:
        proj.set_verdict("Lene Kristoffersen", "H1", "contradicts", "Indflydelsen var intakt.", "anna")
    with Project.open(path.parent) as proj:  # survives a restart
        assert proj.researcher_verdicts()[("H1", "Lene Kristoffersen")].verdict == "contradicts"


def test_verdict_api_sets_clears_and_refuses_bad_input(coded):
    from .test_web import local_client

    path = coded.path
    coded.close()
    client = local_client(path, "anna")
    assert client.get("/verdicts").status_code == 200
    body = {"informant": "Lene Kristoffersen", "hypothesis": "H3", "verdict": "partly", "rationale": "Delvis."}
    r = client.post("/api/verdict", json=body)
    assert r.status_code == 200, r.text
    cell = next(c for c in r.json()["cells"] if c["hypothesis"] == "H3")
    assert (cell["researcher_verdict"], cell["coder"], cell["rationale"]) == ("partly", "anna", "Delvis.")
    assert client.post("/api/verdict", json={**body, "verdict": "maybe"}).status_code == 400
    assert client.post("/api/verdict", json={**body, "hypothesis": 3}).status_code == 400
    assert client.post("/api/verdict", json={**body, "coder": "mallory"}).status_code == 403
    assert client.post("/api/verdict", content=b"verdict=partly", headers={"Content-Type": "text/plain"}).status_code == 415
    r = client.post("/api/verdict", json={**body, "verdict": None})
    assert next(c for c in r.json()["cells"] if c["hypothesis"] == "H3")["researcher_verdict"] is None


def test_verdict_travels_in_the_refi_export_as_a_valid_project_note(coded, tmp_path):
    import zipfile

    from lxml import etree

    from coder.export.qdpx import NS, validate

    from .conftest import REPO

    coded.set_verdict("Lene Kristoffersen", "H3", "partly", "Chikane, men ikke hovedgrunden.", "anna")
    coded.export_qdpx(tmp_path / "p.qdpx")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        xml = z.read("project.qde")
    assert validate(xml, REPO / "data" / "refi-qda" / "Project.xsd") == []
    root = etree.fromstring(xml)
    (note,) = root.iter(f"{{{NS}}}Note")
    text = note.findtext(f"{{{NS}}}PlainTextContent")
    assert note.get("name") == "coder verdict H3 Lene Kristoffersen"
    assert "partly (researcher anna" in text and "rule: supports" in text and "Chikane, men ikke hovedgrunden." in text
    assert [r.get("targetGUID") for r in root.findall(f"{{{NS}}}NoteRef")] == [note.get("guid")]


def test_verdict_stale_when_every_decision_is_undone(coded):
    coded.set_verdict("Lene Kristoffersen", "H1", "partly", "", "anna")
    while coded.undo("anna") is not None:
        pass
    assert coded.researcher_verdicts()[("H1", "Lene Kristoffersen")].stale is True


def test_verdicts_survive_export_and_import_with_coder_rationale_time_and_staleness(coded, tmp_path, runner):
    from coder.verdict_notes import format_note, parse_note

    informant = "Lene Kristoffersen"
    coded.set_verdict(informant, "H3", "partly", "Chikane, men ikke hovedgrunden: (se s. 4); rule: nej.", "anna")
    coded.set_verdict(informant, "H1", "contradicts", "", "bo")
    coded.decide(coded.sentences(role="informant")[3].id, "anna", {"h1.council": "supports"})  # H1 is stale now
    before = coded.researcher_verdicts()
    assert before[("H1", informant)].stale and not before[("H3", informant)].stale
    out = tmp_path / "p.qdpx"
    coded.export_qdpx(out)
    with Project.init(tmp_path / "again", DATA / "mini-codebook.yaml") as other:
        warnings = " ".join(other.add_transcripts([out]).warnings)
    assert "and 2 researcher verdict(s) are not read by ingest; import them with 'coder import-codings" in warnings
    args = ["import-codings", str(tmp_path / "again"), str(out), "--coder", "anna", "--user", "anna"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Restored 2 researcher verdict(s)" in result.output and "not imported" not in result.output
    with Project.open(tmp_path / "again") as other:
        after = other.researcher_verdicts()
        for cell in (("H1", informant), ("H3", informant)):
            b, a = before[cell], after[cell]
            assert (a.verdict, a.rationale, a.coder, a.created, a.stale) == (b.verdict, b.rationale, b.coder, b.created, b.stale)
        other.set_verdict(informant, "H3", "supports", "Ændret efter importen.", "carl")
    # importing again restores nothing twice and never overwrites what the project's researcher set since
    again = runner.invoke(app, args)
    assert "Restored" not in again.output
    assert f"kept the project's verdict on H3, {informant} (supports); the file says partly" in again.output
    with Project.open(tmp_path / "again") as other:
        assert other.researcher_verdicts()[("H3", informant)].coder == "carl"
    # a note edited by hand so that it no longer reads as a verdict is a memo of its own
    name, text = format_note("H1", informant, "partly", coder="anna", created="2026-12-01T10:00:00+00:00", rule_verdict="supports",
                             supporting=3, contradicting=0, stale=False, rationale="")
    assert parse_note(name, text).rationale == "" and parse_note(name, text.replace("partly", "måske")) is None
    assert parse_note("coder verdict H1 Someone else", text) is None


def test_verdict_restored_into_a_project_without_evidence_yet_turns_stale_once_evidence_arrives(ingested):
    from coder.verdict_notes import NoteVerdict

    note = NoteVerdict("H3", "Lene Kristoffersen", "partly", "Sekundær.", "anna", "2026-12-01T10:00:00+00:00", False)
    assert ingested.restore_verdicts([note], "p.qdpx") == (1, [])  # no decisions, no model: nothing to score yet
    (cell,) = ingested.researcher_verdicts().values()
    assert (cell.verdict, cell.rule_verdict, cell.stale, cell.created) == ("partly", "no_evidence", False, note.created)
    ingested.decide(ingested.sentences(role="informant")[0].id, "anna", {"h3.harassment": "supports"})
    assert ingested.researcher_verdicts()[("H3", "Lene Kristoffersen")].stale
