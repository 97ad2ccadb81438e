from __future__ import annotations

import pytest

from coder.codebook import check_codebook, load_codebook, parse_codebook
from coder.errors import CodebookError, UnknownCodeError


def test_codebook_bundled_loads_with_all_codes_and_hypotheses():
    book = load_codebook("politisk-exit")
    assert len(book.codes) == 15
    assert [h.id for h in book.hypotheses] == ["H1", "H2", "H3", "H4"]
    assert book.code("h3.harassment").group == "h3"
    assert {h.id for h in book.hypotheses_for("motivation.psm")} == {"H4"}
    assert all(c.description and c.examples for c in book.codes)


def test_codebook_sha_identifies_version(data_dir):
    a = load_codebook(data_dir / "mini-codebook.yaml")
    b = parse_codebook(a.yaml_text + "\n# comment\n")
    assert a.sha256 != b.sha256 and a.code_ids == b.code_ids


def test_codebook_check_reports_every_problem_with_line(data_dir):
    problems = check_codebook(data_dir / "bad-codebook.yaml")
    text = "\n".join(problems)
    assert "bad-codebook.yaml:8: duplicate code id 'h1.council'" in text
    assert "bad-codebook.yaml:12: code 'h1.council' has colour 'red'" in text
    assert "code 'h3.harassment' has no 'description'" in text
    assert "bad-codebook.yaml:19: hypothesis 'H1' refers to unknown code 'h9.nothing'" in text
    assert len(problems) == 4


def test_codebook_invalid_yaml_names_line():
    with pytest.raises(CodebookError, match=r"<codebook>:4: not valid YAML"):
        parse_codebook("id: x\ncodes:\n  - id: [unclosed\n")


def test_codebook_unknown_name_lists_bundled():
    with pytest.raises(CodebookError, match="use a bundled one \\(politisk-exit\\)"):
        load_codebook("no-such-book")


def test_codebook_unknown_code_id(data_dir):
    book = load_codebook(data_dir / "mini-codebook.yaml")
    with pytest.raises(UnknownCodeError, match="Unknown code 'h9.x'"):
        book.code("h9.x")


@pytest.mark.parametrize(
    "extra, problem",
    [
        ('version: "v2"', "'version' must be a whole number (got 'v2'); write e.g. 'version: 2'."),
        ("scoring: 5", "'scoring' must be a mapping of rule settings, e.g. 'min_segments: 2'."),
        ("scoring:\n  min_segments: two", "Scoring setting(s) min_segments must be numbers"),
        ("scoring:\n  min_segment: 2", "Unknown scoring setting(s) min_segment; use: min_segments"),
        ("scoring:\n  confirm_share: 5", "confirm_share must be between 0 and 1 (got 5)"),
    ],
)
def test_issue_15_codebook_version_and_scoring_mistakes_are_problems_with_lines(tmp_path, data_dir, extra, problem):
    text = (data_dir / "mini-codebook.yaml").read_text(encoding="utf-8").replace("version: 1\n", "")
    path = tmp_path / "book.yaml"
    path.write_text(f"{extra}\n{text}", encoding="utf-8")
    (line,) = check_codebook(path)
    assert line.startswith((f"{path}:1: ", f"{path}:2: ")) and problem in line  # the key, or the first setting under it
