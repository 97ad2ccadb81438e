from __future__ import annotations

import json
import shutil

import pytest

from coder import Project
from coder.errors import InputFileError, ProjectError


def test_project_ingest_stores_sentences_with_exact_offsets(ingested):
    rows = ingested.sentences()
    text = ingested.store.document_text("lene")
    assert rows and all(text[r.start : r.end] == r.text for r in rows)
    assert [r.text for r in ingested.sentences(role="informant")][:2] == [
        "Det var truslerne.",
        "Jeg fik en dødstrussel i 2022 (...) og så tænkte jeg, nu er det nok.",
    ]


def test_project_ingest_same_file_twice_is_noop(ingested, data_dir):
    before = ingested.store.counts()
    report = ingested.add_transcripts([data_dir / "lene.txt"])
    assert report.added == () and "already in the project as 'lene'" in report.skipped[0]
    assert ingested.store.counts() == before


def test_project_ingest_name_collision_gets_suffix(ingested, tmp_path):
    other = tmp_path / "x" / "lene.txt"
    other.parent.mkdir()
    other.write_text("I: Hej?\nB: Hej.\nI: Farvel?\nB: Farvel.", encoding="utf-8")
    report = ingested.add_transcripts([other])
    assert report.added[0].name == "lene-2" and "stored as 'lene-2'" in report.warnings[0]


def test_project_ingest_bad_file_leaves_project_unchanged(project, data_dir):
    with pytest.raises(InputFileError, match="binary.txt looks like a binary file"):
        project.add_transcripts([data_dir / "lene.txt", data_dir / "binary.txt"])
    assert project.store.counts()["documents"] == 0


def test_project_ingest_crash_mid_write_leaves_project_unchanged(project, data_dir, monkeypatch):
    calls = {"n": 0}
    original = project.store.add_document

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process is killed mid-ingest
        return original(*args, **kwargs)

    monkeypatch.setattr(project.store, "add_document", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        project.add_transcripts([data_dir / "lene.txt", data_dir / "tiny.srt"])
    assert project.store.counts()["documents"] == 0


def test_project_ingest_folder_uses_sidecar(project, data_dir, tmp_path):
    src = tmp_path / "folder"
    src.mkdir()
    shutil.copy(data_dir / "lene.txt", src)
    (src / "informants.yaml").write_text("lene.txt:\n  informant: Lene K\n  party: S\n", encoding="utf-8")
    report = project.add_transcripts([src])
    assert report.added[0].informant == "Lene K"
    doc = project.store.documents()[0]
    assert doc.metadata["party"] == "S" and doc.metadata["dato"] == "11. februar 2025"


def test_project_open_errors(tmp_path):
    with pytest.raises(ProjectError, match="does not exist; create a project with 'coder init"):
        Project.open(tmp_path / "nope")
    with pytest.raises(ProjectError, match="is not a coder project"):
        Project.open(tmp_path)


def test_project_init_twice_refused(project):
    with pytest.raises(ProjectError, match="is already a coder project"):
        Project.init(project.path)


def test_project_export_jsonl_contract(ingested, tmp_path):
    out = tmp_path / "out.jsonl"
    n = ingested.export_jsonl(out)
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert n == len(rows) == len(ingested.sentences())
    assert set(rows[0]) == {"document", "informant", "speaker", "role", "start", "end", "text",
                            "proposals", "proposed", "model", "decisions", "reviews", "codes"}
    assert rows[1]["text"] == "Det var truslerne." and rows[1]["role"] == "informant"


def test_project_unknown_document_filter(ingested):
    with pytest.raises(ProjectError, match="No document named nope"):
        ingested.sentences(documents=["nope"])


def test_issue_15_sidecar_entry_matching_no_file_is_warned(project, data_dir, tmp_path):
    src = tmp_path / "folder"
    src.mkdir()
    shutil.copy(data_dir / "lene.txt", src)
    shutil.copy(data_dir / "nolabels.txt", src)  # in the folder but not ingested now: its entry is no typo
    (src / "informants.csv").write_text("file,informant\nlene.txt,Lene K\nnolabels.txt,Ole\nlenne.txt,Lene\n", encoding="utf-8")
    report = project.add_transcripts([src / "lene.txt"])
    assert report.added[0].informant == "Lene K"
    assert report.warnings == ("informants.csv: the entry for 'lenne.txt' matches no transcript file; check its file name.",)
