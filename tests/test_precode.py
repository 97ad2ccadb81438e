"""Proposals in a project: train, precode, models, evaluate through the library and the CLI."""

from __future__ import annotations

import json

import pytest

from coder import Project
from coder.cli import app
from coder.errors import ModelNotFoundError

from .test_classify import COUNCIL, NONE, THREATS


@pytest.fixture
def seed_file(tmp_path):
    p = tmp_path / "seed.jsonl"
    rows = [{"text": t, "codes": ["h3.harassment"], "informant": f"s{i % 3}"} for i, t in enumerate(THREATS)]
    rows += [{"text": t, "codes": ["h1.council"], "informant": f"s{i % 3}"} for i, t in enumerate(COUNCIL)]
    rows += [{"text": t, "codes": [], "informant": f"s{i % 3}"} for i, t in enumerate(NONE)]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return p


def test_precode_train_tfidf_then_precode_is_idempotent(ingested, seed_file):
    result = ingested.train(__import__("coder.classify.train", fromlist=["TrainSettings"]).TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file])
    model_id = result.model.id
    assert (ingested.path / "models" / model_id / "model.json").is_file()
    first = ingested.precode()  # latest project model
    assert first.model_id == model_id and first.sentences == len(ingested.sentences(role="informant"))
    n = ingested.store.counts()["proposals"]
    assert n == first.sentences * 4
    ingested.precode(model_id)
    assert ingested.store.counts()["proposals"] == n  # replaced, not duplicated
    rows = list(ingested.iter_export_rows())
    informant = [r for r in rows if r["role"] == "informant"]
    assert all(r["model"] == model_id and set(r["proposals"]) == set(ingested.codebook.code_ids) for r in informant)
    threat = next(r for r in informant if "dødstrussel" in r["text"])
    assert threat["proposals"]["h3.harassment"] > threat["proposals"]["h1.council"]
    assert all(r["proposals"] == {} for r in rows if r["role"] == "interviewer")  # interviewer turns never


def test_precode_unknown_model_lists_choices(ingested):
    with pytest.raises(ModelNotFoundError, match="Unknown model 'nope'; use latest, default, zero-shot"):
        ingested.precode("nope")


def test_precode_interrupted_keeps_earlier_proposals(ingested, seed_file, monkeypatch):
    from coder.classify.train import TrainSettings

    ingested.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file])
    ingested.precode()
    before = ingested.store.counts()["proposals"]
    original = ingested.store.conn

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("coder.store.now", boom)  # dies inside the write transaction
    with pytest.raises(KeyboardInterrupt):
        ingested.precode()
    monkeypatch.undo()
    assert ingested.store.counts()["proposals"] == before and ingested.store.conn is original


def test_precode_cli_train_precode_models_evaluate(runner, tmp_path, data_dir, seed_file):
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    runner.invoke(app, ["ingest", str(proj), str(data_dir / "lene.txt")])
    r = runner.invoke(app, ["train", str(proj), "--encoder", "tfidf.v1", "--seed-data", str(seed_file)])
    assert r.exit_code == 0, r.output
    assert "Trained mini.tfidf-v1.head." in r.output and "code 'h3.family' has only 1 labelled example(s)" in r.output
    r = runner.invoke(app, ["precode", str(proj)])
    assert r.exit_code == 0, r.output
    assert "(head) scored 5 informant sentences." in r.output
    r = runner.invoke(app, ["models", str(proj), "--json"])
    assert json.loads(r.output)[0]["kind"] == "head"
    r = runner.invoke(app, ["evaluate", "--data", str(seed_file), "--codebook", str(data_dir / "mini-codebook.yaml"), "--encoder", "tfidf.v1", "--json"])
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert result["protocol"] == "leave-one-group-out over 3 groups" and result["n"] == 22
    assert result["codes"]["codes"]["h3.harassment"]["support"] == 6


def test_precode_cli_bad_seed_file(runner, tmp_path, data_dir):
    proj, seed = tmp_path / "p", tmp_path / "bad.jsonl"
    seed.write_text('{"text": "x", "codes": ["h9.nope"]}\n', encoding="utf-8")
    runner.invoke(app, ["init", str(proj), "--codebook", str(data_dir / "mini-codebook.yaml")])
    r = runner.invoke(app, ["train", str(proj), "--encoder", "tfidf.v1", "--seed-data", str(seed)])
    assert r.exit_code == 1 and "bad.jsonl, line 1: unknown code 'h9.nope'" in r.output


def test_precode_default_model_on_bundled_codebook(use_e5, tmp_path, data_dir):
    with Project.init(tmp_path / "p") as proj:
        proj.add_transcripts([data_dir / "lene.txt"])
        report = proj.precode("default")
        assert report.model_id == "politisk-exit.e5-small-v2"
        rows = [r for r in proj.iter_export_rows() if r["role"] == "informant"]
        family = next(r for r in rows if r["text"] == "Min familie kunne ikke mere.")
        # In its turn about threats against the family, both H3 codes are expected; the passage decides the order.
        assert max(family["proposals"], key=family["proposals"].get) in ("h3.family", "h3.harassment")
        assert "h3.family" in family["proposed"]
        # "Ja, byrådet." names the council as the other reason: inside its passage it is H1 evidence.
        council = next(r for r in rows if r["text"] == "Ja, byrådet.")
        assert council["proposed"] == ["h1.council"]
        threat = next(r for r in rows if r["text"].startswith("Jeg fik en dødstrussel"))
        assert "h3.harassment" in threat["proposed"] and not any(c.startswith("h1.") for c in threat["proposed"])


def test_precode_zero_shot_for_codebook_without_model(use_e5, project, data_dir):
    project.add_transcripts([data_dir / "lene.txt"])
    report = project.precode()  # no project model, no shipped one for 'mini': zero-shot
    assert report.kind == "zeroshot" and set(report.zero_shot) == set(project.codebook.code_ids)


def test_precode_grouped_folds_keep_each_group_in_one_fold(seed_file, data_dir):
    from coder.classify.train import TrainSettings
    from coder.codebook import load_codebook
    from coder.evaluation import cross_validate
    from coder.training import read_seed_jsonl

    book = load_codebook(data_dir / "mini-codebook.yaml")
    examples = read_seed_jsonl(seed_file, book)
    r = cross_validate(examples, book, TrainSettings(encoder="tfidf.v1"), folds=3)
    assert r["protocol"] == "3-fold grouped over 3 groups" and sorted(set(r["fold"])) == [0, 1, 2]
    fold_of_group = {(e.group, f) for e, f in zip(examples, r["fold"])}
    assert len(fold_of_group) == len({e.group for e in examples})  # a group is never split between folds
