from __future__ import annotations

import numpy as np
import pytest

from coder.errors import CoderError, ConflictError, UnknownCodeError
from coder.review.strategies import Focus, Margin, Mixed, RandomOrder, Sequential, Uncertainty, get_strategy

CODES = ("a", "b", "c")
P = np.array([[0.9, 0.1, 0.0], [0.45, 0.2, 0.1], [0.1, 0.1, 0.6], [0.05, 0.0, 0.0]])
T = np.array([0.5, 0.5, 0.5])
ORDER = np.arange(4)


def test_review_uncertainty_asks_closest_to_threshold_first():
    assert np.argsort(Uncertainty().priority(P, T, ORDER))[0] == 1
    assert "uncertain about a (0.45 vs threshold 0.50)" in Uncertainty().reason(P[1], T, CODES)


def test_review_margin_relative_to_threshold():
    t = np.array([0.5, 0.15, 0.5])
    assert np.argsort(Margin().priority(P, t, ORDER))[0] == 1  # a at 0.45 vs 0.50: 10% below
    assert "just below" in Margin().reason(P[0], t, CODES)


def test_review_focus_only_proposed_for_code_most_confident_first():
    prio = Focus("a", CODES).priority(P, T, ORDER)
    assert np.isfinite(prio).sum() == 1 and np.argmin(prio) == 0
    with pytest.raises(CoderError, match="Unknown code 'z'"):
        Focus("z", CODES)


def test_review_sequential_and_random_reproducible():
    assert list(np.argsort(Sequential().priority(P, T, ORDER))) == [0, 1, 2, 3]
    assert (RandomOrder(7).priority(P, T, ORDER) == RandomOrder(7).priority(P, T, ORDER)).all()


def test_review_mixed_uses_random_share():
    m = Mixed(Uncertainty(), share=1.0)
    m.priority(P, T, ORDER)
    assert m.reason(P[0], T, CODES).startswith("random sample")


def test_review_get_strategy_names():
    assert isinstance(get_strategy("focus:b", CODES), Focus)
    with pytest.raises(CoderError, match="Unknown queue strategy"):
        get_strategy("psychic", CODES)


def test_review_project_decide_undo_conflict(ingested):
    queue = ingested.review_queue("anna", "sequential")
    sid = queue[0]
    item = ingested.review_item(sid, "anna")
    assert item.text == "Det var truslerne." and item.question == "Hvorfor valgte du at stoppe som borgmester?"
    ingested.decide(sid, "anna", {"h3.harassment": None}, token=item.token)
    assert sid not in ingested.review_queue("anna", "sequential")
    with pytest.raises(ConflictError):
        ingested.decide(sid, "anna", {}, token=item.token)
    with pytest.raises(UnknownCodeError):
        ingested.decide(sid, "anna", {"h9.x": None})
    assert ingested.review_item(sid, "anna").current == {"h3.harassment": "supports"}
    assert ingested.undo("anna") == sid and sid in ingested.review_queue("anna", "sequential")
    examples = ingested.training_examples(with_codebook=False)
    assert examples == []  # the undone review no longer trains anything


def test_issue_15_decide_two_sessions_same_sentence_exactly_one_wins(ingested):
    """Two sessions (two connections) decide the same sentence at once with the same token."""
    import threading

    from coder import Project

    sid = ingested.review_queue("anna", "sequential")[0]
    token = ingested.review_item(sid, "anna").token
    barrier = threading.Barrier(2)
    results: list[str] = []

    def session(codes: dict[str, str | None]) -> None:
        with Project.open(ingested.path) as proj:
            add_review = proj.store.add_review

            def slow_add_review(*args, **kwargs):
                # Both sessions meet here, after their conflict check: the window in which both used to win.
                try:
                    barrier.wait(timeout=1)
                except threading.BrokenBarrierError:
                    pass
                return add_review(*args, **kwargs)

            proj.store.add_review = slow_add_review
            try:
                proj.decide(sid, "anna", codes, token=token)
                results.append("won")
            except ConflictError:
                results.append("409")

    threads = [threading.Thread(target=session, args=(c,)) for c in ({"h3.harassment": None}, {})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["409", "won"]
    assert ingested.store.conn.execute("SELECT COUNT(*) FROM reviews WHERE sentence_id = ?", (sid,)).fetchone()[0] == 1


def test_review_decisions_become_training_examples(ingested):
    sid = ingested.review_queue("anna", "sequential")[0]
    ingested.decide(sid, "anna", {"h3.harassment": "contradicts"})
    other = ingested.review_queue("anna", "sequential")[0]
    ingested.decide(other, "anna", {})  # "no code": a negative for every code
    ex = ingested.training_examples(with_codebook=False)
    assert [(e.text, sorted(e.codes), e.stance) for e in ex] == [
        ("Det var truslerne.", ["h3.harassment"], "contradicts"),
        ("Jeg fik en dødstrussel i 2022 (...) og så tænkte jeg, nu er det nok.", [], None),
    ]


def test_review_retrainer_round_trains_precodes_and_compares(ingested, seed_file_path, monkeypatch):
    from coder.classify.train import TrainSettings
    from coder.review.session import Retrainer

    ingested.train(TrainSettings(encoder="tfidf.v1"), seed_data=[seed_file_path])
    ingested.precode()
    monkeypatch.setattr(type(ingested), "train", lambda self, *a, **k: _train_tfidf(self, seed_file_path))
    for sid in ingested.review_queue("anna", "sequential")[:2]:
        ingested.decide(sid, "anna", {"h3.harassment": "supports"})
    r = Retrainer(ingested.path, every=2)
    entry = r.run_round()
    assert entry is not None and entry["model"] != ingested.models()[0]["id"]
    status = r.status()
    assert status["rounds"] == 1 and status["stable"] is False and "Keep reviewing" in r.status("en")["advice"]
    assert ingested.recent_agreement("anna")["reviews"] == 2


def _train_tfidf(project, seed):
    from coder.classify.train import TrainSettings, train_model

    result = train_model(project.training_examples([seed]), project.codebook, TrainSettings(encoder="tfidf.v1"),
                         id=f"tfidf-{len(project.models())}")
    result.model.save(project.path / "models" / result.model.id)
    project._register(result.model)
    return result


def test_review_retrainer_counts_decisions():
    from coder.review.session import Retrainer

    r = Retrainer("/nonexistent", every=0)
    assert r.note_decision() is False and r.status()["rounds"] == 0


def test_review_terminal_keys_toggle_flip_and_commands():
    from coder.terminal import Selection, apply_keys

    keys = {"1": "a", "2": "b"}
    sel = Selection({"a": "supports"})
    assert apply_keys("2-", sel, keys) == "accept" and sel.codes == {"a": "supports", "b": "contradicts"}
    assert apply_keys("1", sel, keys) == "accept" and sel.codes == {"b": "contradicts"}
    assert [apply_keys(k, Selection(), keys) for k in "xsu?!"] == ["none", "skip", "undo", "help", "quit"]
    with pytest.raises(CoderError, match="Unknown key 'z'"):
        apply_keys("z", Selection(), keys)


def test_review_terminal_loop_decides_and_quits(ingested):
    from coder.terminal import review_loop

    answers = iter(["2", "x", "!"])
    out: list[str] = []
    n = review_loop(ingested, "tina", "sequential", read=lambda prompt: next(answers), write=out.append)
    assert n == 2 and any("Det var truslerne." in line for line in out)
    first = ingested.review_queue("tina", "sequential")
    assert len(first) == len(ingested.sentences(role="informant")) - 2


def test_review_adjudication_queue_ranks_and_keeps_originals(ingested):
    queue = ingested.review_queue("anna", "sequential")
    for sid in queue[:3]:
        ingested.decide(sid, "anna", {"h3.harassment": None})
    ingested.decide(queue[0], "bo", {"h3.harassment": None})
    ingested.decide(queue[1], "bo", {})
    ingested.decide(queue[2], "bo", {})
    disagreements = ingested.review_queue("judge", "adjudicate:anna:bo")
    assert set(disagreements) == {queue[1], queue[2]}
    item = ingested.review_item(disagreements[0], "judge", strategy="adjudicate:anna:bo", lang="en")
    assert item.others == {"anna": ["h3.harassment"], "bo": []} and item.reason.startswith("disagreement")
    ingested.decide(disagreements[0], "judge", {})
    assert ingested.review_queue("judge", "adjudicate:anna:bo") == disagreements[1:]
    assert ingested.codings("anna")[disagreements[0]] == {"h3.harassment"}  # the originals are kept


def test_review_retrainer_runs_an_encoder_round_every_n_decisions():
    from coder.review.session import Retrainer

    r = Retrainer("/nonexistent", every=2, encoder_every=4)
    rounds: list[bool] = []
    r.run_round = lambda encoder=False: rounds.append(encoder)  # type: ignore[method-assign]
    for _ in range(8):
        r.note_decision()
        if r._thread is not None:
            r._thread.join()
    assert rounds == [False, True, False, True]
    assert r.status()["encoder_every"] == 4 and r.status()["until_encoder"] == 4
