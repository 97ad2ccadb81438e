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
    assert len(sel.findall(f"{{{NS}}}Coding")) == 2
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
