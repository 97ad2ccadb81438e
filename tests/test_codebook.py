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
