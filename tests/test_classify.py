from __future__ import annotations

import json

import numpy as np
import pytest

from coder.classify.head import HeadSettings, LinearHead, best_threshold
from coder.classify.metrics import group_matrix, prf_table
from coder.classify.model import CodeModel
from coder.classify.train import TrainSettings, train_model
from coder.classify.zeroshot import Z_THRESHOLD, build_prototypes, zero_shot_proba
from coder.codebook import load_codebook
from coder.errors import ModelNotFoundError, TrainingError
from coder.training import Example, label_matrix, read_seed_jsonl

THREATS = ["Jeg fik trusler på Facebook hver uge.", "Der kom en dødstrussel i postkassen.", "Folk chikanerede mig på nettet.",
           "Nogen truede med at brænde huset af.", "Han truede mig på parkeringspladsen.", "Trusler og chikane fyldte meget."]
COUNCIL = ["Byrådet kunne aldrig blive enige.", "Oppositionen blokerede alt i byrådet.", "Konstitueringen splittede byrådet.",
           "Samarbejdet i byrådet var umuligt.", "Byrådet var fragmenteret i mange partier.", "I byrådet handlede alt om næste valg."]
NONE = ["Det var en tirsdag.", "Jeg er uddannet sygeplejerske.", "Vi boede i Brinkby.", "Ja, det er rigtigt.",
        "Jeg har to børn.", "Kaffen var god.", "Det husker jeg ikke.", "Vi holdt møde kl. 9.", "Sådan var det bare.", "Nej."]


def _examples() -> list[Example]:
    out = []
    for i, t in enumerate(THREATS):
        out.append(Example(t, frozenset({"h3.harassment"}), f"g{i % 3}"))
    for i, t in enumerate(COUNCIL):
        out.append(Example(t, frozenset({"h1.council"}), f"g{i % 3}"))
    for i, t in enumerate(NONE):
        out.append(Example(t, frozenset(), f"g{i % 3}"))
    return out


@pytest.fixture
def mini_book(data_dir):
    return load_codebook(data_dir / "mini-codebook.yaml")


def test_classify_best_threshold_maximises_f1():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.35, 0.4, 0.9])
    assert best_threshold(y, p) == pytest.approx(0.4)  # every t in (0.35, 0.4] is perfect: closest to 0.5 wins


def test_classify_head_learns_separable_codes_and_calibrates():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    Y = np.stack([(X[:, 0] > 0.5), (X[:, 1] > 1.0), np.zeros(120, bool)], 1).astype(int)
    Y[:2, 2] = 1  # too few positives: left untrained
    head = LinearHead(HeadSettings()).fit(X, Y, groups=[str(i % 4) for i in range(120)])
    P = head.predict_proba(X)
    assert list(head.trained_) == [True, True, False] and np.isnan(P[:, 2]).all()
    pred = P[:, :2] >= head.thresholds_[:2]
    assert (pred == Y[:, :2]).mean() > 0.9
    assert 0 < head.thresholds_[0] < 1 and head.oof_.shape == Y.shape


def test_classify_head_refit_keeps_calibration():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    Y = (X[:, :1] > 0).astype(int)
    head = LinearHead().fit(X, Y)
    platt, thr = head.platt_.copy(), head.thresholds_.copy()
    head.refit(X[:50], Y[:50])
    assert (head.platt_ == platt).all() and (head.thresholds_ == thr).all()


def test_classify_head_settings_validated():
    with pytest.raises(ValueError, match="C must be positive"):
        HeadSettings(C=0)


def test_classify_zero_shot_threshold_is_half():
    protos = build_prototypes([np.eye(5)[[i]] for i in range(5)])
    X = np.array([[1.0, 0.0, 0.0, 0.0, 0.0]])
    p = zero_shot_proba(X, protos)
    assert p[0, 0] > 0.5 > p[0, 1]
    sim = X @ protos.T
    z = (sim - sim.mean()) / sim.std()
    assert (p[0] >= 0.5).tolist() == (z[0] >= Z_THRESHOLD).tolist()


def test_classify_prf_table_and_groups():
    Y = np.array([[1, 0], [0, 1], [0, 0], [1, 0]])
    P = np.array([[1, 0], [0, 0], [0, 1], [1, 0]])
    t = prf_table(Y, P, ["a", "b"])
    assert t["codes"]["a"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "predicted": 2}
    assert t["codes"]["b"]["f1"] == 0.0 and t["macro"]["f1"] == 0.5
    G, names = group_matrix(Y, ["a", "b"], {"a": "h1", "b": "h1"})
    assert names == ["h1"] and G[:, 0].tolist() == [1, 1, 0, 1]


def test_classify_train_tfidf_model_predicts_and_round_trips(mini_book, tmp_path):
    result = train_model(_examples(), mini_book, TrainSettings(encoder="tfidf.v1"))
    model = result.model
    assert model.zero_shot_codes == ()  # tf-idf has no prototypes: untrained codes get no proposals
    assert [c for c, ok in zip(model.codes, model.head.trained_) if not ok] == ["h3.family", "h3.always_on"]
    assert any("code 'h3.family' has only 0 labelled example(s); 3 are needed, it gets no proposals" in w for w in result.warnings)
    P = model.predict_proba(["Jeg fik en dødstrussel på Facebook.", "Byrådet blokerede alt."])
    j_h, j_c = model.codes.index("h3.harassment"), model.codes.index("h1.council")
    assert P[0, j_h] > P[0, j_c] and P[1, j_c] > P[1, j_h]
    model.save(tmp_path / "m")
    again = CodeModel.load(tmp_path / "m")
    assert np.allclose(again.predict_proba(["Trusler på nettet."]), model.predict_proba(["Trusler på nettet."]), equal_nan=True)
    assert json.loads((tmp_path / "m" / "model.json").read_text())["codebook_sha256"] == mini_book.sha256


def test_classify_train_needs_examples(mini_book):
    with pytest.raises(TrainingError, match="at least 10 are needed"):
        train_model(_examples()[:5], mini_book, TrainSettings(encoder="tfidf.v1"))
    with pytest.raises(TrainingError, match="cannot be fine-tuned"):
        train_model(_examples(), mini_book, TrainSettings(encoder="tfidf.v1", finetune=True))


def test_classify_model_refuses_other_codebook(mini_book):
    model = train_model(_examples(), mini_book, TrainSettings(encoder="tfidf.v1")).model
    other = load_codebook("politisk-exit")
    with pytest.raises(ModelNotFoundError, match="was trained on codebook 'mini'"):
        model.check_codebook(other)
    assert model.check_codebook(mini_book) == []


def test_classify_damaged_model_folder(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.json").write_text("{not json")
    with pytest.raises(ModelNotFoundError, match="missing or damaged"):
        CodeModel.load(tmp_path / "m")


def test_classify_seed_jsonl_errors_name_line(tmp_path, mini_book):
    p = tmp_path / "seed.jsonl"
    p.write_text('{"text": "a", "codes": ["h1.council"]}\n{"text": "b", "codes": ["h9.x"]}\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"seed.jsonl, line 2: unknown code 'h9.x'"):
        read_seed_jsonl(p, mini_book)
    assert len(read_seed_jsonl(p, mini_book, skip_unknown=True)) == 2
    p.write_text('{"text": "a", "codes": []}\n{broken\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"line 2: not valid JSON"):
        read_seed_jsonl(p, mini_book)


def test_classify_label_matrix_codebook_order(mini_book):
    Y = label_matrix([Example("x", frozenset({"h3.family", "h1.council"}), "g")], mini_book.code_ids)
    assert Y.tolist() == [[1, 0, 1, 0]]


def test_classify_stance_head_on_sparse_tfidf_features(mini_book):
    examples = [Example(t, frozenset({"h3.harassment"}), f"g{i % 3}", stance="contradicts" if i % 2 else "supports")
                for i, t in enumerate(THREATS + COUNCIL)]
    examples += [Example(t, frozenset(), "g0") for t in NONE]
    model = train_model(examples, mini_book, TrainSettings(encoder="tfidf.v1")).model
    assert model.stance is not None
    P, contra = model.predict(["Trusler på nettet.", "Byrådet."])
    assert contra.shape == (2,) and ((0 <= contra) & (contra <= 1)).all()
