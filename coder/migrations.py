"""Ordered schema migrations, recorded in ``PRAGMA user_version``.

Each migration is a function ``m00N_name(conn)``; applying them repeatedly is safe because only
those above the stored version run. Forward-only: a database newer than the code is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE codebooks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            yaml TEXT NOT NULL,
            created TEXT NOT NULL
        );
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            informant TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            text TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL DEFAULT '',
            added TEXT NOT NULL
        );
        CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            speaker TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('interviewer', 'informant', 'other')),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            label_start INTEGER,
            meta TEXT NOT NULL DEFAULT '{}',
            UNIQUE (document_id, idx),
            CHECK (0 <= start AND start <= end)
        );
        CREATE TABLE sentences (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            UNIQUE (document_id, idx),
            CHECK (0 <= start AND start < end)
        );
        CREATE INDEX sentences_turn ON sentences(turn_id);
        CREATE TABLE models (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            path TEXT,
            codebook_sha256 TEXT,
            created TEXT NOT NULL
        );
        CREATE TABLE proposals (
            sentence_id INTEGER NOT NULL REFERENCES sentences(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            score REAL NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (sentence_id, code, model_id)
        );
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            sentence_id INTEGER NOT NULL REFERENCES sentences(id) ON DELETE CASCADE,
            coder TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'review',
            model_id TEXT,
            proposed TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL,
            undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1))
        );
        CREATE INDEX reviews_sentence ON reviews(sentence_id, coder);
        CREATE TABLE decisions (
            review_id INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
            stance TEXT CHECK (stance IN ('supports', 'contradicts')),
            PRIMARY KEY (review_id, code)
        );
        """
    )


@migration
def m002_proposal_stance(conn: sqlite3.Connection) -> None:
    # The stance model's probability that the sentence contradicts its hypothesis (NULL: no stance model).
    conn.execute("ALTER TABLE proposals ADD COLUMN contradicts REAL")


@migration
def m003_proposals_by_model(conn: sqlite3.Connection) -> None:
    # Finding the newest model with proposals, and one model's proposals, without scanning them all.
    conn.execute("CREATE INDEX IF NOT EXISTS proposals_model ON proposals(model_id, sentence_id)")


@migration
def m004_verdicts(conn: sqlite3.Connection) -> None:
    # The researcher's verdicts per informant x hypothesis, one row per act (NULL verdict: cleared),
    # with the evidence it was made on, so a later change of evidence can be shown as stale.
    _script(
        conn,
        """
        CREATE TABLE verdicts (
            id INTEGER PRIMARY KEY,
            informant TEXT NOT NULL,
            hypothesis TEXT NOT NULL,
            verdict TEXT CHECK (verdict IN ('supports', 'partly', 'contradicts', 'no_evidence')),
            rationale TEXT NOT NULL DEFAULT '',
            coder TEXT NOT NULL,
            created TEXT NOT NULL,
            rule_verdict TEXT NOT NULL,
            supporting INTEGER NOT NULL,
            contradicting INTEGER NOT NULL,
            model_id TEXT,
            fingerprint TEXT NOT NULL
        );
        CREATE INDEX verdicts_cell ON verdicts(informant, hypothesis, id)
        """,
    )


def _script(conn: sqlite3.Connection, sql: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


def check_version(conn: sqlite3.Connection) -> int:
    """Return the stored schema version; refuse one newer than this code knows."""
    from .errors import StoreError

    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise StoreError(
            f"This project was written by a newer version of coder (schema {current}, this coder knows "
            f"{len(MIGRATIONS)}); upgrade coder with 'pip install -U coder' to open it."
        )
    return int(current)


def apply(conn: sqlite3.Connection) -> int:
    """Run every migration above the stored version, each in its own transaction; return the version."""
    current = check_version(conn)
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(MIGRATIONS)
