"""Pre-coding at scale (issue 14): the Ray engine, `coder batch`, devices; a local Ray with 2 CPUs."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from coder import Project
from coder.cli import app

from .conftest import DATA, TINY_WORDS
from .test_classify import COUNCIL, NONE, THREATS

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module (starting one takes seconds); the engines reuse it and leave it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def write_transcript(path: Path, turns: int, seed: int = 0) -> Path:
    """A txt interview with ``turns`` question/answer pairs of a few sentences each."""
    rng = random.Random(seed)
    sentences = THREATS + COUNCIL + NONE
    lines = ["Interview: Test", f"Informant: {path.stem.title()}", ""]
    for _ in range(turns):
        lines += [f"I: {' '.join(rng.sample(TINY_WORDS, 5)).capitalize()}?", ""]
        lines += [f"{path.stem.title()}: " + " ".join(rng.sample(sentences, rng.randint(1, 4))), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def windowed(project, tmp_path, tiny_encoder_dir, seed_file_path):
    """A project of two transcripts and a model on the tiny encoder with turn windows and context."""
    from coder.classify.train import TrainSettings

    src = tmp_path / "in"
    src.mkdir()
    project.add_transcripts([write_transcript(src / "anna.txt", 30, 1), write_transcript(src / "bo.txt", 20, 2)])
    result = project.train(TrainSettings(encoder=f"hf.v1:{tiny_encoder_dir}", window=3, context=True),
                           seed_data=[seed_file_path], bundled_seed=False)
    assert result.model.window == 3 and result.model.context
    return project, result.model.id


def stored(project: Project, model_id: str) -> dict[tuple[int, str], float]:
    return {(sid, c): s for sid, scores in project.store.proposals(model_id).items() for c, s in scores.items()}


def test_scale_ray_precode_equals_local(windowed):
    from coder.engine import RayEngine

    project, model_id = windowed
    local = project.precode(model_id)
    expected = stored(project, model_id)
    remote = project.precode(model_id, engine=RayEngine(workers=2, batch_size=16))
    got = stored(project, model_id)
    assert remote.sentences == local.sentences > 100 and remote.per_code == local.per_code
    assert got.keys() == expected.keys() and project.store.counts()["proposals"] == len(expected)  # replaced, not added
    assert max(abs(got[k] - expected[k]) for k in expected) < 1e-6


def test_scale_ray_survives_a_killed_worker(windowed):
    from coder.engine import RayEngine

    project, model_id = windowed
    project.precode(model_id)
    expected = stored(project, model_id)
    with project.store.atomic() as c:
        c.execute("DELETE FROM proposals")
    pids: list[int] = []

    def kill_first(stats):
        if not pids:
            os.kill(stats.worker_pid, signal.SIGKILL)  # the actor process dies with batches in flight
        pids.append(stats.worker_pid)

    project.precode(model_id, engine=RayEngine(workers=2, batch_size=4, on_batch=kill_first))
    got = stored(project, model_id)
    assert len(set(pids)) >= 3  # the restarted actor (a new process) scored batches
    assert got.keys() == expected.keys() and project.store.counts()["proposals"] == len(expected)
    assert max(abs(got[k] - expected[k]) for k in expected) < 1e-6


def test_scale_worker_that_cannot_load_the_model(windowed, runner, tmp_path):
    from coder.classify.model import CodeModel
    from coder.engine import RayEngine
    from coder.errors import EngineError

    project, model_id = windowed
    m = CodeModel.load(project.path / "models" / model_id)
    m.encoder, m.id = "hf.v1:/nowhere/encoder", "broken"
    m.save(tmp_path / "broken")
    with pytest.raises(EngineError, match=r"^A Ray worker could not load the model: Cannot load the encoder '/nowhere/encoder'"):
        project.precode(str(tmp_path / "broken"), engine=RayEngine(workers=1))
    assert "broken" not in {r["id"] for r in project.models()}


def test_scale_unreachable_address_fails_fast(windowed, runner):
    project, model_id = windowed
    ray.shutdown()  # the engine must connect itself
    try:
        t = time.monotonic()
        result = runner.invoke(app, ["precode", str(project.path), "--model", model_id, "--engine", "ray", "--address", "127.0.0.1:9"])
        assert result.exit_code == 1 and time.monotonic() - t < 15
        assert result.output.startswith("Error: Cannot reach the Ray cluster at 127.0.0.1:9 (Connection refused); check --address")
        assert result.output.count("\n") == 1
    finally:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")


def test_scale_without_ray_says_how_to_install(runner, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as if it were not installed
    project = tmp_path / "p"
    runner.invoke(app, ["init", str(project), "--codebook", str(DATA / "mini-codebook.yaml")])
    runner.invoke(app, ["ingest", str(project), str(DATA / "lene.txt")])
    result = runner.invoke(app, ["precode", str(project), "--engine", "ray"])
    assert result.exit_code == 1
    assert result.output == ("Error: --engine ray needs the optional dependency Ray; install it with "
                             "pip install 'coder[ray]' (from a checkout: pip install -e \".[ray]\").\n")


def test_scale_batch_shards_resume_and_import_equal_precode(windowed, runner, tmp_path):
    project, model_id = windowed
    project.precode(model_id)
    expected = stored(project, model_id)
    folder = str(project.path / "models" / model_id)
    bad = tmp_path / "in" / "broken.txt"
    bad.write_bytes(b"\x00\x01binary")
    # the informant sidecar beside the files is read as by 'coder ingest'
    (tmp_path / "in" / "informants.csv").write_text("file,informant\nanna.txt,Anna Andersen\nghost.txt,Nobody\n", encoding="utf-8")
    args = ["batch", str(tmp_path / "in"), "--model", folder]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "ray"), "--engine", "ray", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "2 shards written, 0 already complete, 1 files failed" in result.output and "Warning: broken.txt: " in result.output
    assert "Warning: informants.csv: the entry for 'ghost.txt' matches no transcript file" in result.output
    local = runner.invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "ray"), "--engine", "ray"])
    assert "0 shards written, 2 already complete" in again.output  # resumed: complete shards are not redone

    import pyarrow.parquet as pq

    shards = sorted((tmp_path / "ray").glob("*.parquet"))
    assert [p.name.split(".")[0] for p in shards] == ["anna", "bo"]
    assert {r["informant"] for r in pq.read_table(shards[0]).to_pylist()} == {"Anna Andersen"}
    for p in shards:
        a, b = pq.read_table(p).to_pylist(), pq.read_table(tmp_path / "local" / p.name).to_pylist()
        assert [r["text"] for r in a] == [r["text"] for r in b] and all(r["model"] == model_id for r in a)
        assert {"document", "informant", "speaker", "role", "start", "end", "text", "proposed", "score:h3.harassment"} <= set(a[0])
        assert max(abs(x[k] - y[k]) for x, y in zip(a, b) for k in x if k.startswith("score:") and x[k] is not None) < 1e-6

    with project.store.atomic() as c:
        c.execute("DELETE FROM proposals")
    imported = runner.invoke(app, ["import-proposals", str(project.path), str(tmp_path / "ray")])
    assert imported.exit_code == 0, imported.output
    got = stored(project, model_id)
    assert got.keys() == expected.keys() and max(abs(got[k] - expected[k]) for k in expected) < 1e-6
    runner.invoke(app, ["import-proposals", str(project.path), str(tmp_path / "ray")])
    assert project.store.counts()["proposals"] == len(expected)  # importing twice changes nothing


def test_scale_gpu_proposals_equal_cpu(windowed):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    from coder.engine import LocalEngine

    project, model_id = windowed
    project.precode(model_id, engine=LocalEngine("cpu"))
    cpu = stored(project, model_id)
    project.precode(model_id, engine=LocalEngine("cuda"))  # bfloat16/float16 autocast, token-capped batches
    gpu = stored(project, model_id)
    assert gpu.keys() == cpu.keys() and max(abs(gpu[k] - cpu[k]) for k in cpu) < 1e-3


def test_scale_device_cuda_without_gpu_is_one_sentence(windowed, runner):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    project, model_id = windowed
    result = runner.invoke(app, ["precode", str(project.path), "--model", model_id, "--device", "cuda"])
    assert result.exit_code == 1
    assert result.output == "Error: --device cuda needs a CUDA GPU and torch sees none here; use --device auto or --device cpu.\n"
