from __future__ import annotations

import sqlite3

import pytest

from coder import migrations
from coder.errors import StoreError
from coder.records import Segment, Transcript, Turn
from coder.store import Store

TEXT = "I: Hvorfor?\nLene: Det var truslerne. Jeg stoppede."


def _transcript(name: str = "lene") -> tuple[Transcript, list[Segment]]:
    turns = (Turn("I", "interviewer", 3, 11), Turn("Lene", "informant", 18, len(TEXT)))
    segs = [Segment(0, 0, 3, 11), Segment(1, 1, 18, 36), Segment(1, 2, 37, len(TEXT))]
    return Transcript(name, TEXT, turns, "Lene"), segs


def test_store_migrations_set_user_version_and_are_idempotent(tmp_path):
    store = Store(tmp_path / "x.db")
    assert store.schema_version == len(migrations.MIGRATIONS)
    store.close()
    again = Store(tmp_path / "x.db")  # applying again changes nothing
    assert again.schema_version == len(migrations.MIGRATIONS)
    assert again.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_refuses_newer_schema(tmp_path):
    conn = sqlite3.connect(tmp_path / "new.db")
    conn.execute(f"PRAGMA user_version = {len(migrations.MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="written by a newer version of coder"):
        Store(tmp_path / "new.db")


def test_store_not_a_database(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"is damaged \(file is not a database\)"):
        Store(tmp_path / "junk.db")


def test_store_sentence_text_is_slice_of_original():
    store = Store(":memory:")
    t, segs = _transcript()
    store.add_document(t, "abc", segs)
    rows = store.sentences()
    assert [r.text for r in rows] == [TEXT[s.start : s.end] for s in segs]
    assert [r.role for r in rows] == ["interviewer", "informant", "informant"]
    assert store.sentences(role="informant")[0].text == "Det var truslerne."


def test_store_non_ascii_offsets_are_code_points():
    store = Store(":memory:")
    text = "Lene: Æbler og øl – 😀 ærlig talt. Så gik jeg."
    turns = (Turn("Lene", "informant", 6, len(text)),)
    segs = [Segment(0, 0, 6, 34), Segment(0, 1, 35, len(text))]
    store.add_document(Transcript("x", text, turns, "Lene"), "sha", segs)
    assert [r.text for r in store.sentences()] == [text[6:34], text[35:]]


def test_store_atomic_rolls_back_everything_on_error():
    store = Store(":memory:")
    t, segs = _transcript()
    with pytest.raises(RuntimeError):
        with store.atomic():
            store.add_document(t, "abc", segs)  # nested: a savepoint
            raise RuntimeError("crash mid-write")
    assert store.counts()["documents"] == 0 and store.counts()["sentences"] == 0


def test_store_bad_segment_rolls_back_document():
    store = Store(":memory:")
    t, segs = _transcript()
    bad = [*segs, Segment(1, 3, 40, 40)]  # empty span violates the CHECK constraint
    with pytest.raises(sqlite3.IntegrityError):
        store.add_document(t, "abc", bad)
    assert store.counts()["documents"] == 0


def test_store_duplicate_sha_rejected():
    store = Store(":memory:")
    t, segs = _transcript()
    store.add_document(t, "abc", segs)
    with pytest.raises(sqlite3.IntegrityError):
        store.add_document(_transcript("other")[0], "abc", segs)
    assert store.document_by_sha("abc") == "lene"


def test_store_codebook_versions_idempotent():
    store = Store(":memory:")
    a = store.add_codebook("mini", 1, "s1", "id: a")
    b = store.add_codebook("mini", 2, "s2", "id: b")
    assert store.add_codebook("mini", 1, "s1", "id: a") == a != b
    assert store.current_codebook_yaml() == "id: a"  # re-adding makes it current again


def test_store_disk_full_is_clear_and_rolls_back(tmp_path):
    store = Store(tmp_path / "full.db")
    t, segs = _transcript()
    store.add_document(t, "first", segs)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: like a full disk
    big = Transcript("big", TEXT + " " + "x" * 200_000, t.turns, "Lene")
    with pytest.raises(StoreError, match="is full; nothing of this command was saved"):
        store.add_document(big, "second", segs)
    assert store.counts()["documents"] == 1


def test_issue_15_7_texts_are_sliced_from_one_read_of_each_document():
    store = Store(":memory:")
    t, segs = _transcript()
    store.add_document(t, "first", segs)
    store.add_document(_transcript("mette")[0], "second", segs)
    sql: list[str] = []
    store.conn.set_trace_callback(sql.append)
    rows = store.sentences()
    questions = store.interviewer_questions()
    turn, question, near = store.turn_of(3), store.question_for(3), store.neighbours(2)
    store.conn.set_trace_callback(None)
    # SQLite's substr() walks the UTF-8 text from its start on every row: quadratic on a long document
    assert not [q for q in sql if "substr(" in q.lower()]
    assert sum("from documents" in q.lower() for q in sql[:2]) == 1  # sentences(): one read of both texts
    assert [r.text for r in rows[:3]] == ["Hvorfor?", "Det var truslerne.", "Jeg stoppede."] and len(rows) == 6
    assert questions[3] == "Hvorfor?" == question and turn["text"] == "Det var truslerne. Jeg stoppede."
    assert near == (1, 3, "Hvorfor?", "Jeg stoppede.")


def test_issue_15_zero_length_db_is_refused_not_reinitialised(tmp_path):
    (tmp_path / "x.db").write_bytes(b"")
    with pytest.raises(StoreError, match=r"x.db is empty \(0 bytes\), so it holds no project; restore it from your last backup"):
        Store(tmp_path / "x.db")
    assert (tmp_path / "x.db").stat().st_size == 0


def test_issue_15_damaged_page_is_found_before_a_write(tmp_path):
    path = tmp_path / "x.db"
    store = Store(path)
    t, segs = _transcript()
    store.add_document(Transcript("big", TEXT + " " + "x" * 60_000, t.turns, "Lene"), "a", segs)
    store.close()
    pages = path.stat().st_size // 4096
    with path.open("r+b") as f:  # one overflow page of the long text: reads of other rows and inserts still work
        f.seek(4096 * (pages // 2))
        f.write(b"\xa5" * 4096)
    damaged = path.read_bytes()
    store = Store(path)
    with pytest.raises(StoreError, match=r"x.db is damaged \(.*\); nothing was written. Restore it from your last backup, or save what"):
        store.add_document(_transcript("other")[0], "b", segs)
    store.close()
    assert path.read_bytes() == damaged


def test_issue_15_readonly_store_does_not_write_and_says_why_writes_fail(tmp_path):
    path = tmp_path / "x.db"
    Store(path).close()
    before = path.read_bytes()
    store = Store(path, readonly=True)
    assert store.counts()["documents"] == 0
    with pytest.raises(StoreError, match="is read-only for you, and this command writes to the project"):
        store.add_codebook("mini", 1, "s1", "id: a")
    store.close()
    wal = tmp_path / "x.db-wal"  # a reader may leave SQLite's empty -wal/-shm companions, never content
    assert path.read_bytes() == before and (not wal.exists() or wal.stat().st_size == 0)
