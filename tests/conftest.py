"""Shared fixtures (all of them live here, as in spaCy's test policy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def coder_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's real data folder."""
    home = tmp_path_factory.mktemp("coder-home")
    monkeypatch.setenv("CODER_HOME", str(home))
    return home


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def make_docx(tmp_path: Path):
    """Build a .docx from (bold label, text) paragraphs; a label of None means a plain paragraph."""
    import docx

    def build(paragraphs: list[tuple[str | None, str]], name: str = "interview.docx") -> Path:
        document = docx.Document()
        for label, text in paragraphs:
            p = document.add_paragraph()
            if label:
                p.add_run(label).bold = True
            p.add_run(text)
        path = tmp_path / name
        document.save(str(path))
        return path

    return build


@pytest.fixture
def project(tmp_path: Path):
    """An empty project with the mini codebook."""
    from coder import Project

    proj = Project.init(tmp_path / "proj", DATA / "mini-codebook.yaml")
    yield proj
    proj.close()


@pytest.fixture
def ingested(project, tmp_path: Path):
    """The mini project with lene.txt ingested."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(DATA / "lene.txt", src / "lene.txt")
    project.add_transcripts([src / "lene.txt"])
    return project
