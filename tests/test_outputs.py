from __future__ import annotations

import pytest

from coder.errors import OutputFileError
from coder.outputs import atomic_output, write_text


def test_outputs_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "report.html"
    write_text(out, "old")
    with pytest.raises(RuntimeError):
        with atomic_output(out) as tmp:
            tmp.write_text("half a rep", encoding="utf-8")
            raise RuntimeError("renderer bug")
    assert out.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_outputs_os_error_is_one_sentence(tmp_path):
    out = tmp_path / "missing" / "x.csv"
    with pytest.raises(OutputFileError, match=r"^Could not write .*x.csv \(No such file or directory\); nothing was written."):
        write_text(out, "a")


def test_outputs_folder_replaces_an_earlier_one(tmp_path):
    out = tmp_path / "model"
    for text in ("1", "2"):
        with atomic_output(out, folder=True) as tmp:
            tmp.mkdir()
            (tmp / "model.json").write_text(text, encoding="utf-8")
    assert (out / "model.json").read_text(encoding="utf-8") == "2" and [p.name for p in tmp_path.iterdir()] == ["model"]
