from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def _unprivileged(args: list[str]) -> subprocess.CompletedProcess:
    """Run the CLI so that file permissions apply: root ignores chmod unless it drops CAP_DAC_OVERRIDE."""
    cmd = [sys.executable, "-m", "coder", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        drop = [setpriv, "--bounding-set=-dac_override,-dac_read_search"] if setpriv else []
        if not drop or subprocess.run([*drop, "true"], capture_output=True).returncode != 0:
            pytest.skip("running as root without a working setpriv (util-linux): chmod cannot make a folder read-only for root")
        cmd = [*drop, *cmd]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_issue_15_read_only_project_can_be_read_and_writes_say_so(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    assert runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt")]).exit_code == 0
    db = proj / "coder.db"
    before = db.read_bytes()
    db.chmod(0o444)
    proj.chmod(0o555)
    try:
        r = _unprivileged(["status", str(proj), "--json"])
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["documents"] == 1
        r = _unprivileged(["ingest", str(proj), str(data_dir / "nolabels.txt")])
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert r.stderr.startswith(f"Error: {db} is read-only for you, and this command writes to the project: it needs write access")
    finally:
        proj.chmod(0o755)
        db.chmod(0o644)
    assert db.read_bytes() == before and sorted(p.name for p in proj.iterdir()) == ["coder.db"]


def test_issue_15_damaged_database_is_one_sentence_for_reads_and_writes(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt")])
    db = proj / "coder.db"
    with db.open("r+b") as f:  # every page after the schema page
        f.seek(4096)
        f.write(b"\xa5" * (db.stat().st_size - 4096))
    damaged = db.read_bytes()
    for args in (["status", str(proj)], ["export", str(proj), "--out", str(tmp_path / "x.jsonl")],
                 ["ingest", str(proj), str(data_dir / "nolabels.txt")]):
        r = runner.invoke(app, args)
        assert r.exit_code == 1 and r.output.count("\n") == 1, r.output
        assert r.output.startswith(f"Error: {db} is damaged (") and "Restore it from your last backup" in r.output
    assert db.read_bytes() == damaged and not (tmp_path / "x.jsonl").exists()


def test_issue_15_write_failure_leaves_no_partial_file(ingested, runner, tmp_path):
    """A real write failure: RLIMIT_FSIZE makes the kernel refuse to grow any file past 500 bytes (as a full disk)."""
    resource = pytest.importorskip("resource")
    out = tmp_path / "out"
    out.mkdir()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (500, hard))
    try:
        r = runner.invoke(app, ["export", str(ingested.path), "--out", str(out / "x.jsonl")])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert r.exit_code == 1
    assert r.output == (f"Error: Could not write {out / 'x.jsonl'} (File too large); nothing was written. Check that the "
                        "folder exists, is writable and has free space, then run the command again.\n")
    assert list(out.iterdir()) == []


def test_issue_15_port_out_of_range_is_one_sentence(runner, tmp_path, data_dir):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    r = runner.invoke(app, ["serve", str(proj), "--port", "70000"])
    assert r.exit_code == 1
    assert r.output == "Error: port 70000 does not exist; use a number from 1 to 65535, e.g. --port 8765.\n"


def test_issue_15_unknown_seed_code_fails_even_with_a_bundled_seed(runner, tmp_path):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj)])  # politisk-exit: a bundled seed set exists
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"text": "Det var truslerne.", "codes": ["h3.harassment"]}\n{"text": "Ja.", "codes": ["h9.nope"]}\n', encoding="utf-8")
    r = runner.invoke(app, ["train", str(proj), "--seed-data", str(seed), "--encoder", "tfidf.v1"])
    assert r.exit_code == 1
    assert r.output == (f"Error: {seed}, line 2: unknown code 'h9.nope' for codebook 'politisk-exit'; fix the id or pass "
                        "--skip-unknown to ignore such codes.\n")
    assert "--skip-unknown" in runner.invoke(app, ["train", "--help"]).output


def test_issue_15_train_skip_unknown_and_model_folder_written_atomically(ingested, runner, seed_file_path):
    with seed_file_path.open("a", encoding="utf-8") as f:
        f.write('{"text": "Ja.", "codes": ["h9.nope"]}\n')
    r = runner.invoke(app, ["train", str(ingested.path), "--seed-data", str(seed_file_path), "--encoder", "tfidf.v1", "--skip-unknown"])
    assert r.exit_code == 0, r.output
    (model,) = (ingested.path / "models").iterdir()
    assert not model.name.startswith(".") and (model / "model.json").is_file()
    assert ingested.models()[0]["path"] == str(model)
