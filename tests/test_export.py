from __future__ import annotations

import csv
import zipfile

from lxml import etree

from coder.export.qdpx import NS, validate

from .conftest import REPO

XSD = REPO / "data" / "refi-qda" / "Project.xsd"


def _reviewed(ingested):
    queue = ingested.review_queue("anna", "sequential")
    ingested.decide(queue[0], "anna", {"h3.harassment": "supports", "h3.family": "contradicts"})
    ingested.decide(queue[1], "anna", {})
    return queue


def test_export_qdpx_validates_and_offsets_point_at_the_sentences(ingested, tmp_path):
    queue = _reviewed(ingested)
    out = tmp_path / "p.qdpx"
    n = ingested.export_qdpx(out)
    assert n == {"sources": 1, "codings": 2}
    with zipfile.ZipFile(out) as z:
        xml = z.read("project.qde")
        assert validate(xml, XSD) == []
        root = etree.fromstring(xml)
        source = root.find(f".//{{{NS}}}TextSource")
        text = z.read(source.get("plainTextPath").replace("internal://", "sources/")).decode("utf-8")
    assert text == ingested.store.document_text("lene")
    sel = root.find(f".//{{{NS}}}PlainTextSelection")
    start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
    assert text[start:end] == ingested.review_item(queue[0], "anna").text
    same = [x for x in root.iter(f"{{{NS}}}PlainTextSelection") if (x.get("startPosition"), x.get("endPosition")) == (str(start), str(end))]
    assert [len(x.findall(f"{{{NS}}}Coding")) for x in same] == [1, 1]  # one selection per coding
    assert sel.get("name") == text[start:end]
    assert [c.get("isCodable") for c in root.find(f".//{{{NS}}}Codes")] == ["false", "false"]  # groups are parents
    assert root.find(f".//{{{NS}}}Case").get("name") == "Lene Kristoffersen"


def test_export_qdpx_schema_errors_are_reported_with_lines():
    bad = f'<Project xmlns="{NS}"><Users><User name="x"/></Users></Project>'.encode()
    errors = validate(bad, XSD)
    assert len(errors) == 2 and errors[0].startswith("line 1:") and "'name' is required" in errors[0] and "'guid'" in errors[1]


def test_export_csv_rows_per_coded_segment_and_code(ingested, tmp_path, runner):
    from coder.cli import app

    _reviewed(ingested)
    out = tmp_path / "c.csv"
    r = runner.invoke(app, ["export", str(ingested.path), "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert sorted((x["code"], x["stance"], x["coder_or_model"], x["reviewed"]) for x in rows) == [
        ("h3.family", "contradicts", "anna", "True"), ("h3.harassment", "supports", "anna", "True")]
    r = runner.invoke(app, ["export", str(ingested.path), "--format", "xlsx", "--out", str(tmp_path / "c.xlsx")])
    assert r.exit_code == 0
    from openpyxl import load_workbook

    assert load_workbook(tmp_path / "c.xlsx").sheetnames == ["segments", "hypotheses"]
    assert runner.invoke(app, ["export", str(ingested.path), "--format", "pdf", "--out", str(tmp_path / "x")]).exit_code == 2


def _decisions(project, coder):
    rows = {r.id: r for r in project.sentences(role="informant")}
    return sorted((rows[s].document, rows[s].start, rows[s].end, tuple(sorted(c))) for s, c in project.codings(coder).items() if c)


def test_export_qdpx_round_trip_is_exact(ingested, tmp_path):
    from coder import Project

    _reviewed(ingested)
    out = tmp_path / "p.qdpx"
    ingested.export_qdpx(out)
    with Project.init(tmp_path / "again", REPO / "tests" / "data" / "mini-codebook.yaml") as other:
        report = other.add_transcripts([out])
        assert [d.name for d in report.added] == ["lene"]
        assert other.store.document_text("lene") == ingested.store.document_text("lene")
        imported = other.import_codings(out, "anna", user="anna")
        assert imported.problems == ()
        assert _decisions(other, "anna") == _decisions(ingested, "anna")


def test_export_qdpx_bad_inputs(ingested, tmp_path):
    import pytest

    from coder.errors import InputFileError, ProjectError

    not_zip = tmp_path / "x.qdpx"
    not_zip.write_bytes(b"hello")
    with pytest.raises(InputFileError, match="not a .qdpx file"):
        ingested.add_transcripts([not_zip])
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.qde", f'<Project xmlns="{NS}"><Sources><TextSource guid="x"/></Sources></Project>')
    with pytest.raises(InputFileError, match=r"bad.qdpx, project.qde line 1: the text of source 'x' \(no plainTextPath\) is missing"):
        ingested.add_transcripts([bad])
    _reviewed(ingested)
    ingested.export_qdpx(tmp_path / "ok.qdpx")
    with pytest.raises(ProjectError, match="no codings by user 'zed'; its users are: anna"):
        ingested.import_codings(tmp_path / "ok.qdpx", "zed", user="zed")


def test_export_qdpx_hand_built_with_nested_codes_case_and_missing_source(ingested, tmp_path):
    """A .qdpx as another tool would write it: nested codes, a case with variables, inline text."""
    import pytest

    from coder import Project
    from coder.errors import InputFileError

    text = "I: Hvorfor?\nB: Byrådet var umuligt. Jeg fik trusler.\nI: Tak?\nB: Tak."
    g = lambda n: f"00000000-0000-4000-8000-{n:012d}"  # noqa: E731
    xml = f'''<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="other tool">
 <Users><User guid="{g(1)}" name="Birgit"/></Users>
 <CodeBook><Codes>
  <Code guid="{g(2)}" name="H1" isCodable="false"><Code guid="{g(3)}" name="Byråd" isCodable="true"/></Code>
  <Code guid="{g(4)}" name="H3" isCodable="false"><Code guid="{g(5)}" name="Chikane" isCodable="true"/></Code>
 </Codes></CodeBook>
 <Variables><Variable guid="{g(6)}" name="kommune" typeOfVariable="Text"/></Variables>
 <Cases><Case guid="{g(7)}" name="B"><VariableValue><VariableRef targetGUID="{g(6)}"/><TextValue>Brinkby</TextValue></VariableValue></Case></Cases>
 <Sources>
  <TextSource guid="{g(8)}" name="birgit.txt"><PlainTextContent>{text}</PlainTextContent>
   <PlainTextSelection guid="{g(9)}" startPosition="15" endPosition="37" creatingUser="{g(1)}">
    <Coding guid="{g(10)}" creatingUser="{g(1)}"><CodeRef targetGUID="{g(3)}"/></Coding></PlainTextSelection>
   <PlainTextSelection guid="{g(11)}" startPosition="38" endPosition="54" creatingUser="{g(1)}">
    <Coding guid="{g(12)}" creatingUser="{g(1)}"><CodeRef targetGUID="{g(5)}"/></Coding></PlainTextSelection>
  </TextSource>
  <PictureSource guid="{g(13)}" name="foto.png" path="internal://foto.png"/>
 </Sources>
</Project>'''
    path = tmp_path / "other.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", xml)
    with Project.init(tmp_path / "p2", REPO / "tests" / "data" / "mini-codebook.yaml") as proj:
        report = proj.add_transcripts([path])
        assert any("not imported (coder reads text sources, their codings and cases): 1 picture sources" in w for w in report.warnings)
        proj.import_codings(path, "birgit", user="Birgit")
        coded = {r.text: proj.codings("birgit")[r.id] for r in proj.sentences(role="informant")}
        assert coded["Byrådet var umuligt."] == {"h1.council"} and coded["Jeg fik trusler."] == {"h3.harassment"}
    missing = tmp_path / "missing.qdpx"
    with zipfile.ZipFile(missing, "w") as z:
        z.writestr("project.qde", xml.replace(f"<PlainTextContent>{text}</PlainTextContent>", "").replace(
            'name="birgit.txt">', f'name="birgit.txt" plainTextPath="internal://{g(8)}.txt">'))
    with pytest.raises(InputFileError, match="is missing from the archive"):
        ingested.add_transcripts([missing])


def test_export_qdc_round_trip_keeps_ids_colours_and_groups(tmp_path, runner, data_dir):
    from coder.cli import app
    from coder.codebook import load_codebook, parse_codebook

    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj)])
    assert runner.invoke(app, ["codebook", "export", str(proj), "--out", str(tmp_path / "b.qdc")]).exit_code == 0
    r = runner.invoke(app, ["codebook", "import", str(tmp_path / "b.qdc"), "--out", str(tmp_path / "b.yaml"), "--id", "again"])
    assert r.exit_code == 0, r.output
    back = parse_codebook((tmp_path / "b.yaml").read_text(encoding="utf-8"))
    orig = load_codebook("politisk-exit")
    assert [(c.id, c.label, c.group, c.colour, c.description) for c in back.codes] == [
        (c.id, c.label, c.group, c.colour, c.description) for c in orig.codes]
    assert [g.id for g in back.groups] == [g.id for g in orig.groups]


def test_export_jsonl_reviews_tell_no_code_from_unreviewed(ingested, tmp_path):
    import json

    queue = _reviewed(ingested)  # anna: codes on the first sentence, "no code" on the second
    ingested.decide(queue[1], "bo", {"h3.family": "supports"})
    ingested.decide(queue[1], "bo", {})  # bo changes his mind: the older review is kept, not current
    ingested.export_jsonl(tmp_path / "e.jsonl")
    rows = {r["text"]: r for r in map(json.loads, (tmp_path / "e.jsonl").read_text(encoding="utf-8").splitlines())}
    first, second, third = (rows[ingested.review_item(q, "x").text] for q in queue[:3])
    strip = lambda r: [{k: v for k, v in x.items() if k != "time"} for x in r["reviews"]]  # noqa: E731
    assert strip(first) == [{"coder": "anna", "codes": ["h3.family", "h3.harassment"], "current": True}]
    # anna's "no code" review has no decision row: only `reviews` shows it.
    assert [(d["coder"], d["code"], d["current"]) for d in second["decisions"]] == [("bo", "h3.family", False)]
    assert strip(second) == [{"coder": "anna", "codes": [], "current": True}, {"coder": "bo", "codes": ["h3.family"], "current": False},
                             {"coder": "bo", "codes": [], "current": True}]
    assert third["reviews"] == [] and third["codes"] == []  # unreviewed
    assert all(isinstance(x["time"], str) and x["time"] for x in first["reviews"] + second["reviews"])
