"""SQLite access: the only module (with `migrations.py`) that speaks SQL.

One file per project, WAL mode, foreign keys on. Every write goes through `atomic()`, which takes
``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way, and rolls back on any
exception (a killed process leaves the last committed state, which SQLite guarantees).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import migrations
from .errors import StoreError
from .proposals import model_thresholds, proposed
from .records import Segment, Transcript


# Database files that passed `PRAGMA quick_check`, with the (size, mtime) they had then.
_SOUND: dict[str, tuple[int, int]] = {}


def now() -> str:
    """Return the current UTC time as ISO 8601, the one time format in the store."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: int
    name: str
    informant: str | None
    metadata: dict[str, Any]
    sha256: str
    source: str
    n_turns: int
    n_sentences: int
    n_informant_sentences: int


@dataclass(frozen=True, slots=True)
class SentenceRow:
    id: int
    document: str
    document_id: int
    informant: str | None
    idx: int
    turn_idx: int
    speaker: str
    role: str
    start: int
    end: int
    text: str


class Store:
    """A connection to one project database; ``readonly`` opens it without any write (no WAL switch,
    no migration), so a project on a read-only disk or folder can still be read."""

    def __init__(self, path: Path | str, *, readonly: bool = False):
        self.path = Path(path) if path != ":memory:" else path
        self.readonly = readonly
        if isinstance(self.path, Path) and self.path.is_file() and self.path.stat().st_size == 0:
            # An interrupted copy or a full disk leaves 0 bytes; SQLite would quietly start a new project there.
            raise StoreError(
                f"{path} is empty (0 bytes), so it holds no project; restore it from your last backup "
                "(an interrupted copy or a full disk leaves such a file), or delete it and run 'coder init' again."
            )
        with self.translated():
            if readonly:
                self.conn = self._connect_readonly()
            else:
                self.conn = self._connect(str(path))
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                migrations.apply(self.conn)
        self._depth = 0

    @staticmethod
    def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(target, uri=uri, isolation_level=None, timeout=10, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _connect_readonly(self) -> sqlite3.Connection:
        assert isinstance(self.path, Path)
        uri = self.path.resolve().as_uri() + "?mode=ro"
        conn = self._connect(uri, uri=True)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            if os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK):
                raise
            # A WAL database whose file or folder nobody here may write cannot get its -shm index;
            # with no writer possible, reading it as immutable is safe (SQLite docs, "WAL on read-only media").
            conn.close()
            conn = self._connect(uri + "&immutable=1", uri=True)
        version = migrations.check_version(conn)
        if version < len(migrations.MIGRATIONS):
            conn.close()
            if not os.access(self.path, os.W_OK):
                raise StoreError(
                    f"{self.path} was written by an older coder (schema {version}) and must be upgraded once, "
                    "which needs write access; open it once where you may write, or copy the project folder."
                )
            Store(self.path).close()  # the one-time upgrade
            conn = self._connect(uri, uri=True)
        return conn

    @contextmanager
    def translated(self) -> Iterator[None]:
        """Turn SQLite failures (damage, read-only, full disk, busy) into one-sentence `StoreError`s."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            error = self.error(e)
            if error is None:
                raise
            raise error from e

    def error(self, e: BaseException) -> StoreError | None:
        """The one-sentence user error for a SQLite failure; None for what is a bug (constraint or API misuse)."""
        if not isinstance(e, sqlite3.DatabaseError) or isinstance(e, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
            return None
        msg = str(e)
        if "readonly" in msg or "read-only" in msg:
            return StoreError(
                f"{self.path} is read-only for you, and this command writes to the project: it needs write access to "
                "coder.db and its folder (commands that only read, such as status, export and score, work as they are)."
            )
        if "full" in msg:
            return StoreError(
                f"The disk holding {self.path} is full; nothing of this command was saved. Free some space and run it again."
            )
        if "locked" in msg or "busy" in msg:
            return StoreError(f"The project database is busy ({msg}); close other coder commands on it and try again.")
        if "unable to open" in msg:
            return StoreError(f"{self.path} cannot be opened ({msg}); check that you may read it and its folder.")
        return self._damaged(msg)

    def _damaged(self, detail: str) -> StoreError:
        return StoreError(
            f"{self.path} is damaged ({detail}); nothing was written. Restore it from your last backup, or save "
            f"what is still readable with 'sqlite3 {self.path} .dump > rescue.sql' and load that into a new file."
        )

    def check_sound(self) -> None:
        """Refuse to write into a damaged file: run ``PRAGMA quick_check`` once per state of the file.

        SQLite writes into a file with damaged pages without complaint; the check (about 50 ms for
        20 MB) runs again only when the file changed since it last passed (size, mtime), so the web
        app's one-decision transactions do not pay it every time.
        """
        if not isinstance(self.path, Path):
            return
        st = self.path.stat()
        key, state = str(self.path.resolve()), (st.st_size, st.st_mtime_ns)
        if _SOUND.get(key) == state:
            return
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as e:
            rows = [str(e)]
        problems = [line for row in rows for line in str(row).splitlines() if line != "ok" and not line.startswith("***")]
        if problems:
            raise self._damaged(problems[0])
        _SOUND[key] = state

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one transaction; nested blocks use savepoints."""
        if self._depth == 0:
            with self.translated():
                self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.check_sound()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        else:
            self.conn.execute(f"SAVEPOINT sp{self._depth}")
        self._depth += 1
        try:
            yield self.conn
        except BaseException as e:
            self._depth -= 1
            if self._depth == 0:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO sp{self._depth}")
                self.conn.execute(f"RELEASE sp{self._depth}")
            error = self.error(e) if self._depth == 0 else None
            if error is not None:
                raise error from e
            raise
        self._depth -= 1
        if self._depth == 0:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute(f"RELEASE sp{self._depth}")

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- codebooks -------------------------------------------------------------------------
    def add_codebook(self, name: str, version: int, sha256: str, yaml_text: str) -> int:
        """Store a codebook version (idempotent by content hash) and return its id."""
        with self.atomic() as c:
            row = c.execute("SELECT id FROM codebooks WHERE sha256 = ?", (sha256,)).fetchone()
            if row:
                book_id = int(row["id"])
            else:
                cur = c.execute(
                    "INSERT INTO codebooks (name, version, sha256, yaml, created) VALUES (?, ?, ?, ?, ?)",
                    (name, version, sha256, yaml_text, now()),
                )
                book_id = int(cur.lastrowid or 0)
            self.set_meta("codebook_id", str(book_id))
            return book_id

    def set_meta(self, key: str, value: str) -> None:
        with self.atomic() as c:
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def current_codebook_yaml(self) -> str | None:
        row = self.conn.execute(
            "SELECT yaml FROM codebooks WHERE id = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'codebook_id')"
        ).fetchone()
        return row["yaml"] if row else None

    # -- documents -------------------------------------------------------------------------
    def document_by_sha(self, sha256: str) -> str | None:
        row = self.conn.execute("SELECT name FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return row["name"] if row else None

    def document_names(self) -> set[str]:
        return {r["name"] for r in self.conn.execute("SELECT name FROM documents")}

    def add_document(self, transcript: Transcript, sha256: str, segments: Sequence[Segment]) -> int:
        """Insert a document with its turns and sentences in one transaction; return its id."""
        with self.atomic() as c:
            cur = c.execute(
                "INSERT INTO documents (name, informant, metadata, text, sha256, source, added) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    transcript.name,
                    transcript.informant,
                    json.dumps(transcript.metadata, ensure_ascii=False),
                    transcript.text,
                    sha256,
                    transcript.source,
                    now(),
                ),
            )
            doc_id = int(cur.lastrowid or 0)
            turn_ids = []
            for i, t in enumerate(transcript.turns):
                cur = c.execute(
                    "INSERT INTO turns (document_id, idx, speaker, role, start, end, label_start, meta) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, i, t.speaker, t.role, t.start, t.end, t.label_start, json.dumps(t.meta, ensure_ascii=False)),
                )
                turn_ids.append(int(cur.lastrowid or 0))
            c.executemany(
                "INSERT INTO sentences (document_id, turn_id, idx, start, end) VALUES (?, ?, ?, ?, ?)",
                [(doc_id, turn_ids[s.turn], s.index, s.start, s.end) for s in segments],
            )
            return doc_id

    def documents(self) -> list[DocumentRow]:
        rows = self.conn.execute(
            """
            SELECT d.id, d.name, d.informant, d.metadata, d.sha256, d.source,
                   (SELECT COUNT(*) FROM turns t WHERE t.document_id = d.id) AS n_turns,
                   (SELECT COUNT(*) FROM sentences s WHERE s.document_id = d.id) AS n_sentences,
                   (SELECT COUNT(*) FROM sentences s JOIN turns t ON t.id = s.turn_id
                     WHERE s.document_id = d.id AND t.role = 'informant') AS n_informant_sentences
            FROM documents d ORDER BY d.id
            """
        ).fetchall()
        return [
            DocumentRow(
                id=r["id"],
                name=r["name"],
                informant=r["informant"],
                metadata=json.loads(r["metadata"]),
                sha256=r["sha256"],
                source=r["source"],
                n_turns=r["n_turns"],
                n_sentences=r["n_sentences"],
                n_informant_sentences=r["n_informant_sentences"],
            )
            for r in rows
        ]

    def document_text(self, name: str) -> str | None:
        row = self.conn.execute("SELECT text FROM documents WHERE name = ?", (name,)).fetchone()
        return row["text"] if row else None

    def sentences(
        self,
        *,
        documents: Sequence[str] | None = None,
        role: str | None = None,
        speaker: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[SentenceRow]:
        """Sentences in document order, with their text sliced from the original document."""
        where, args = [], []
        if documents:
            where.append(f"d.name IN ({','.join('?' * len(documents))})")
            args.extend(documents)
        if role:
            where.append("t.role = ?")
            args.append(role)
        if speaker:
            where.append("t.speaker = ?")
            args.append(speaker)
        if ids is not None:
            where.append(f"s.id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        sql = (
            "SELECT s.id, d.name AS document, d.id AS document_id, d.informant, s.idx, t.idx AS turn_idx, "
            "t.speaker, t.role, s.start, s.end "
            "FROM sentences s JOIN turns t ON t.id = s.turn_id JOIN documents d ON d.id = s.document_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY d.id, s.idx"
        rows = self.conn.execute(sql, args).fetchall()
        texts = self._texts(r["document_id"] for r in rows)
        return [SentenceRow(**dict(r), text=texts[r["document_id"]][r["start"] : r["end"]]) for r in rows]

    def _texts(self, document_ids: Iterable[int]) -> dict[int, str]:
        """Each document's text, read once, for slicing offsets in Python.

        Issue 15.7: SQLite's substr() counts characters from the start of the UTF-8 text on every
        row, so reading a long document's sentences with it was quadratic (147 s for 4 MB).
        """
        ids = sorted(set(document_ids))
        if not ids:
            return {}
        rows = self.conn.execute(f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(ids))})", ids)
        return {r["id"]: r["text"] for r in rows}

    def counts(self) -> dict[str, int]:
        one = lambda sql: int(self.conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "documents": one("SELECT COUNT(*) FROM documents"),
            "turns": one("SELECT COUNT(*) FROM turns"),
            "sentences": one("SELECT COUNT(*) FROM sentences"),
            "informant_sentences": one(
                "SELECT COUNT(*) FROM sentences s JOIN turns t ON t.id = s.turn_id WHERE t.role = 'informant'"
            ),
            "reviewed_sentences": one("SELECT COUNT(DISTINCT sentence_id) FROM reviews WHERE undone = 0"),
            "proposals": one("SELECT COUNT(*) FROM proposals"),
            "models": one("SELECT COUNT(*) FROM models"),
        }

    def reviewed_count(self, document_id: int) -> int:
        return int(
            self.conn.execute(
                "SELECT COUNT(DISTINCT r.sentence_id) FROM reviews r JOIN sentences s ON s.id = r.sentence_id "
                "WHERE s.document_id = ? AND r.undone = 0",
                (document_id,),
            ).fetchone()[0]
        )

    # -- models and proposals ----------------------------------------------------------------
    def latest_model(self) -> sqlite3.Row | None:
        """The newest model that has stored proposals (the one proposals are shown from)."""
        return self.conn.execute(
            "SELECT m.* FROM models m WHERE EXISTS (SELECT 1 FROM proposals p WHERE p.model_id = m.id) "
            "ORDER BY m.created DESC LIMIT 1"
        ).fetchone()

    def proposals(self, model_id: str, ids: Sequence[int] | None = None) -> dict[int, dict[str, float]]:
        out: dict[int, dict[str, float]] = {}
        sql, args = "SELECT sentence_id, code, score FROM proposals WHERE model_id = ?", [model_id]
        if ids is not None and len(ids) <= 500:
            sql += f" AND sentence_id IN ({','.join('?' * len(ids))})"
            args.extend(ids)
        for r in self.conn.execute(sql, args):
            out.setdefault(r["sentence_id"], {})[r["code"]] = r["score"]
        return out

    # -- reviews and decisions ---------------------------------------------------------------
    def decisions_by_sentence(self) -> dict[int, list[dict[str, Any]]]:
        """All decisions per sentence; ``current`` marks those of each coder's latest review."""
        rows = self.conn.execute(
            """
            SELECT r.id AS review_id, r.sentence_id, r.coder, r.created, d.code, d.accepted, d.stance,
                   r.id = (SELECT MAX(r2.id) FROM reviews r2 WHERE r2.sentence_id = r.sentence_id
                           AND r2.coder = r.coder AND r2.undone = 0) AS current
            FROM reviews r JOIN decisions d ON d.review_id = r.id
            WHERE r.undone = 0 ORDER BY r.id
            """
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r["sentence_id"], []).append(
                {
                    "code": r["code"],
                    "accepted": bool(r["accepted"]),
                    "stance": r["stance"],
                    "coder": r["coder"],
                    "time": r["created"],
                    "current": bool(r["current"]),
                }
            )
        return out

    def reviews_by_sentence(self) -> dict[int, list[dict[str, Any]]]:
        """Every review that is not undone, per sentence: coder, time, accepted codes (empty for
        "no code") and whether it is that coder's latest, so a "no code" review stays visible."""
        rows = self.conn.execute(
            """
            SELECT r.sentence_id, r.coder, r.created,
                   (SELECT group_concat(d.code, char(31)) FROM decisions d WHERE d.review_id = r.id AND d.accepted = 1) AS codes,
                   r.id = (SELECT MAX(r2.id) FROM reviews r2 WHERE r2.sentence_id = r.sentence_id
                           AND r2.coder = r.coder AND r2.undone = 0) AS current
            FROM reviews r WHERE r.undone = 0 ORDER BY r.id
            """
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r["sentence_id"], []).append(
                {"coder": r["coder"], "time": r["created"], "codes": sorted(r["codes"].split("\x1f")) if r["codes"] else [],
                 "current": bool(r["current"])}
            )
        return out

    def interviewer_questions(self) -> dict[int, str]:
        """For every sentence id, the text of the last interviewer turn before its turn."""
        rows = self.conn.execute("SELECT id, document_id, role, start, end FROM turns ORDER BY document_id, idx").fetchall()
        texts = self._texts(r["document_id"] for r in rows)
        question: dict[int, str] = {}
        last: tuple[int, str] = (-1, "")
        for r in rows:
            if r["document_id"] != last[0]:
                last = (r["document_id"], "")
            question[r["id"]] = last[1]
            if r["role"] == "interviewer":
                last = (r["document_id"], texts[r["document_id"]][r["start"] : r["end"]])
        out: dict[int, str] = {}
        for s in self.conn.execute("SELECT id, turn_id FROM sentences"):
            out[s["id"]] = question.get(s["turn_id"], "")
        return out

    def register_model(self, id: str, kind: str, params: dict[str, Any], metrics: dict[str, Any], path: str, codebook_sha256: str) -> None:
        with self.atomic() as c:
            c.execute(
                "INSERT OR REPLACE INTO models (id, kind, params, metrics, path, codebook_sha256, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (id, kind, json.dumps(params, ensure_ascii=False), json.dumps(metrics, ensure_ascii=False), path, codebook_sha256, now()),
            )

    def models(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM models ORDER BY created").fetchall()

    def model_row(self, id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM models WHERE id = ?", (id,)).fetchone()

    def replace_proposals(self, model_id: str, rows: Sequence[tuple[int, str, float, float | None]]) -> None:
        """Store a model's proposals (sentence, code, score, P(contradicts)), replacing its earlier ones
        for the same sentences, atomically."""
        with self.atomic() as c:
            c.executemany("DELETE FROM proposals WHERE model_id = ? AND sentence_id = ?", {(model_id, r[0]) for r in rows})
            stamp = now()
            c.executemany(
                "INSERT INTO proposals (sentence_id, code, model_id, score, created, contradicts) VALUES (?, ?, ?, ?, ?, ?)",
                [(sid, code, model_id, float(score), stamp, None if con is None else float(con)) for sid, code, score, con in rows],
            )

    def proposal_stances(self, model_id: str) -> dict[int, float]:
        """P(contradicts) per sentence from the model's stance head, where it has one."""
        rows = self.conn.execute(
            "SELECT sentence_id, MAX(contradicts) AS p FROM proposals WHERE model_id = ? AND contradicts IS NOT NULL GROUP BY sentence_id",
            (model_id,),
        )
        return {r["sentence_id"]: r["p"] for r in rows}

    def labelled_sentences(self) -> list[tuple[int, list[tuple[str, bool, str | None]]]]:
        """Each reviewed sentence with the decisions of its latest review per coder (newest coder wins).

        A review without accepted codes means "no code": the sentence is a negative for every code.
        """
        rows = self.conn.execute(
            """
            SELECT r.sentence_id, r.id AS review_id, d.code, d.accepted, d.stance
            FROM reviews r LEFT JOIN decisions d ON d.review_id = r.id
            WHERE r.undone = 0 AND r.id = (SELECT MAX(r2.id) FROM reviews r2 WHERE r2.sentence_id = r.sentence_id AND r2.undone = 0)
            ORDER BY r.sentence_id
            """
        ).fetchall()
        out: dict[int, list[tuple[str, bool, str | None]]] = {}
        for r in rows:
            lst = out.setdefault(r["sentence_id"], [])
            if r["code"] is not None:
                lst.append((r["code"], bool(r["accepted"]), r["stance"]))
        return list(out.items())

    # -- the review loop -----------------------------------------------------------------------
    def reviewed_ids(self, coder: str) -> set[int]:
        rows = self.conn.execute("SELECT DISTINCT sentence_id FROM reviews WHERE coder = ? AND undone = 0", (coder,))
        return {r["sentence_id"] for r in rows}

    def latest_review_id(self, sentence_id: int, coder: str) -> int:
        row = self.conn.execute(
            "SELECT MAX(id) AS id FROM reviews WHERE sentence_id = ? AND coder = ? AND undone = 0", (sentence_id, coder)
        ).fetchone()
        return int(row["id"] or 0)

    def add_review(
        self,
        sentence_id: int,
        coder: str,
        decisions: Sequence[tuple[str, bool, str | None]],
        *,
        source: str = "review",
        model_id: str | None = None,
        proposed: dict[str, float] | None = None,
    ) -> int:
        """Store one review (all its per-code decisions) in one transaction; return its id."""
        with self.atomic() as c:
            cur = c.execute(
                "INSERT INTO reviews (sentence_id, coder, source, model_id, proposed, created) VALUES (?, ?, ?, ?, ?, ?)",
                (sentence_id, coder, source, model_id, json.dumps(proposed or {}), now()),
            )
            rid = int(cur.lastrowid or 0)
            c.executemany(
                "INSERT INTO decisions (review_id, code, accepted, stance) VALUES (?, ?, ?, ?)",
                [(rid, code, int(ok), stance if ok else None) for code, ok, stance in decisions],
            )
            return rid

    def undo_last_review(self, coder: str) -> int | None:
        """Mark the coder's newest review as undone (kept for the audit trail); return its sentence id."""
        with self.atomic() as c:
            row = c.execute(
                "SELECT id, sentence_id FROM reviews WHERE coder = ? AND undone = 0 ORDER BY id DESC LIMIT 1", (coder,)
            ).fetchone()
            if row is None:
                return None
            c.execute("UPDATE reviews SET undone = 1 WHERE id = ?", (row["id"],))
            return int(row["sentence_id"])

    def current_decisions(self, sentence_id: int, coder: str) -> list[tuple[str, bool, str | None]]:
        rid = self.latest_review_id(sentence_id, coder)
        rows = self.conn.execute("SELECT code, accepted, stance FROM decisions WHERE review_id = ?", (rid,))
        return [(r["code"], bool(r["accepted"]), r["stance"]) for r in rows]

    def turn_of(self, sentence_id: int) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT t.id, t.idx, t.start, t.end, t.speaker, t.role, s.document_id "
            "FROM sentences s JOIN turns t ON t.id = s.turn_id WHERE s.id = ?",
            (sentence_id,),
        ).fetchone()
        text = self._texts([row["document_id"]])[row["document_id"]]
        return {**dict(row), "text": text[row["start"] : row["end"]]}

    def question_for(self, sentence_id: int) -> str:
        """The last interviewer turn before this sentence's turn (one query, for the review page)."""
        row = self.conn.execute(
            "SELECT t2.document_id, t2.start, t2.end FROM sentences s JOIN turns t ON t.id = s.turn_id "
            "JOIN turns t2 ON t2.document_id = t.document_id AND t2.idx < t.idx AND t2.role = 'interviewer' "
            "WHERE s.id = ? ORDER BY t2.idx DESC LIMIT 1",
            (sentence_id,),
        ).fetchone()
        return self._texts([row["document_id"]])[row["document_id"]][row["start"] : row["end"]] if row else ""

    def neighbours(self, sentence_id: int) -> tuple[int, int, str, str]:
        """(position in document, sentences in document, text before, text after)."""
        row = self.conn.execute("SELECT document_id, idx FROM sentences WHERE id = ?", (sentence_id,)).fetchone()
        total = self.conn.execute("SELECT COUNT(*) FROM sentences WHERE document_id = ?", (row["document_id"],)).fetchone()[0]
        text = self._texts([row["document_id"]])[row["document_id"]]
        near = {
            r["idx"]: text[r["start"] : r["end"]]
            for r in self.conn.execute(
                "SELECT idx, start, end FROM sentences WHERE document_id = ? AND idx IN (?, ?)",
                (row["document_id"], row["idx"] - 1, row["idx"] + 1),
            )
        }
        return row["idx"], int(total), near.get(row["idx"] - 1, ""), near.get(row["idx"] + 1, "")

    def recent_reviews(self, coder: str, n: int) -> list[tuple[set[str], set[str]]]:
        """(codes the model proposed, codes the coder kept) for the coder's last n reviews with a model."""
        out = []
        for r in self.conn.execute(
            "SELECT id, proposed, model_id FROM reviews WHERE coder = ? AND undone = 0 AND model_id IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (coder, n),
        ).fetchall():
            row = self.model_row(r["model_id"])
            scores = json.loads(r["proposed"])
            kept = {d["code"] for d in self.conn.execute("SELECT code FROM decisions WHERE review_id = ? AND accepted = 1", (r["id"],))}
            out.append((set(proposed(scores, model_thresholds(row))), kept))
        return out

    def informant_sentence_count(self) -> int:
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM sentences s JOIN turns t ON t.id = s.turn_id WHERE t.role = 'informant'"
        ).fetchone()[0])

    # -- researcher verdicts -----------------------------------------------------------------
    def add_verdict(self, informant: str, hypothesis: str, verdict: str | None, record: dict[str, Any]) -> None:
        """Record a verdict act (``verdict`` None clears the cell); earlier acts stay for the audit trail."""
        with self.atomic() as c:
            c.execute(
                "INSERT INTO verdicts (informant, hypothesis, verdict, rationale, coder, created, rule_verdict, "
                "supporting, contradicting, model_id, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (informant, hypothesis, verdict, record.get("rationale", ""), record["coder"], record.get("created") or now(), record["rule_verdict"],
                 record["supporting"], record["contradicting"], record.get("model_id"), record["fingerprint"]),
            )

    def current_verdicts(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(informant, hypothesis) -> the latest verdict act, for cells whose latest act is not a clear."""
        rows = self.conn.execute(
            "SELECT v.* FROM verdicts v WHERE v.id = (SELECT MAX(v2.id) FROM verdicts v2 "
            "WHERE v2.informant = v.informant AND v2.hypothesis = v.hypothesis) AND v.verdict IS NOT NULL"
        )
        return {(r["informant"], r["hypothesis"]): dict(r) for r in rows}
