from __future__ import annotations

import json
import subprocess
import sys

from coder.cli import app


def test_cli_init_ingest_status_json(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    r = runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    assert r.exit_code == 0, r.output
    assert r.output == f"Created project {proj} with codebook 'mini' v1 (4 codes).\n"
    r = runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt"), str(data_dir / "tiny.vtt")])
    assert r.exit_code == 0, r.output
    assert "2 added, 0 already present." in r.output
    r = runner.invoke(app, ["status", str(proj), "--json"])
    info = json.loads(r.output)
    assert info["documents"] == 2 and info["codebook"]["id"] == "mini"


def test_cli_user_error_is_one_line_exit_1(runner, tmp_path):
    r = runner.invoke(app, ["status", str(tmp_path / "missing")])
    assert r.exit_code == 1
    assert r.output == f"Error: {tmp_path / 'missing'} does not exist; create a project with 'coder init {tmp_path / 'missing'}'.\n"


def test_cli_bad_input_leaves_project_and_exits_1(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj)])
    r = runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt"), str(data_dir / "empty.txt")])
    assert r.exit_code == 1
    assert r.output.strip() == "Error: empty.txt is empty; check that you picked the right file."
    assert json.loads(runner.invoke(app, ["status", str(proj), "--json"]).output)["documents"] == 0


def test_cli_output_in_missing_folder_is_one_line_exit_1(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    out = tmp_path / "no-such-folder" / "book.qdc"
    r = runner.invoke(app, ["codebook", "export", str(proj), "--out", str(out)])
    assert r.exit_code == 1
    assert r.output == (f"Error: Could not write {out} (No such file or directory); nothing was written. Check that the folder "
                        "exists, is writable and has free space, then run the command again.\n")


def test_cli_usage_error_exits_2(runner):
    assert runner.invoke(app, ["init"]).exit_code == 2


def test_cli_codebook_check(runner, data_dir):
    ok = runner.invoke(app, ["codebook", "check", str(data_dir / "mini-codebook.yaml")])
    assert ok.exit_code == 0 and "is a valid codebook" in ok.output
    bad = runner.invoke(app, ["codebook", "check", str(data_dir / "bad-codebook.yaml")])
    assert bad.exit_code == 1 and "duplicate code id 'h1.council'" in bad.output


def test_cli_codebook_show_and_sentences(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj)])
    runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt")])
    shown = runner.invoke(app, ["codebook", "show", str(proj)])
    assert "h3.harassment" in shown.output and "H3" in shown.output
    r = runner.invoke(app, ["sentences", str(proj), "--doc", "lene", "--speaker", "informant"])
    assert r.exit_code == 0 and "\tLene\tDet var truslerne." in r.output
    assert "Hvorfor valgte du" not in r.output


def test_cli_export_jsonl(runner, tmp_path, data_dir):
    proj, out = tmp_path / "p", tmp_path / "out.jsonl"
    runner.invoke(app, ["init", str(proj)])
    runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt")])
    r = runner.invoke(app, ["export", str(proj), "--format", "jsonl", "--out", str(out)])
    assert r.exit_code == 0 and out.read_text(encoding="utf-8").count("\n") >= 5


def test_cli_help_does_not_import_torch():
    code = "import sys, coder.cli; assert 'torch' not in sys.modules and 'transformers' not in sys.modules and 'spacy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
