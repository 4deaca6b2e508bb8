"""The simulator's own SQLite store: reference records and idempotent documents.

Documents (invoices, payments) are keyed by ``(kind, key)``; the sequential document
number is allocated in the same transaction that records the key, so a retry after a
crash-after-commit finds the committed document and returns the same number.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL,
    version INTEGER NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, key TEXT NOT NULL, number TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS counters (kind TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""

#: Document kind -> (number prefix, initial status).
DOCUMENT_KINDS: dict[str, tuple[str, str]] = {
    "invoice": ("INV", "posted"),
    "payment": ("PAY", "applied"),
}


class KeyConflict(Exception):
    """The idempotency key was already used with a different payload."""


class UnknownReference(Exception):
    """A document refers to another document that does not exist."""


@dataclass(frozen=True)
class Document:
    """A posted document as stored (and as returned for every replay of its key)."""

    kind: str
    key: str
    number: str
    status: str
    payload: dict[str, Any]
    created_at: float

    def to_json(self, *, replayed: bool = False) -> dict[str, Any]:
        """The documented reply body for this document."""
        return {
            "document_number": self.number,
            "status": self.status,
            "key": self.key,
            "kind": self.kind,
            "replayed": replayed,
            "payload": self.payload,
        }


def fingerprint(payload: dict[str, Any]) -> str:
    """A stable digest of a payload (key field excluded) used to detect key reuse."""
    body = {k: v for k, v in payload.items() if k != "key"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Store:
    """Thread-safe access to one SQLite file (WAL); one writer at a time."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the underlying connection."""
        with self._lock:
            self._conn.close()

    def upsert_record(self, kind: str, key: str, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or replace a reference record; returns (record, created)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT version FROM records WHERE kind=? AND key=?", (kind, key)
                ).fetchone()
                version = 1 if row is None else int(row["version"]) + 1
                self._conn.execute(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)",
                    (kind, key, json.dumps(payload), version, time.time()),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        record = {"kind": kind, "key": key, "version": version, "payload": payload}
        return record, row is None

    def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        """A reference record, or None."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        if row is None:
            return None
        return {"kind": kind, "key": key, "version": row["version"], "payload": json.loads(row["payload"])}

    def post_document(self, kind: str, key: str, payload: dict[str, Any]) -> tuple[Document, bool]:
        """Post a document once per key; returns (document, replayed).

        Raises KeyConflict when the key is known with a different payload, and
        UnknownReference when a payment names an invoice number that does not exist.
        """
        prefix, status = DOCUMENT_KINDS[kind]
        digest = fingerprint(payload)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                existing = self._find(kind, key)
                if existing is not None:
                    self._conn.execute("ROLLBACK")
                    if existing[1] != digest:
                        raise KeyConflict(f"{kind} key {key!r} was used with a different payload")
                    return existing[0], True
                invoice_number = payload.get("invoice_number")
                if kind == "payment" and invoice_number is not None:
                    found = self._conn.execute(
                        "SELECT 1 FROM documents WHERE kind='invoice' AND number=?", (invoice_number,)
                    ).fetchone()
                    if found is None:
                        raise UnknownReference(f"unknown invoice {invoice_number!r}")
                    self._conn.execute(
                        "UPDATE documents SET status='paid' WHERE kind='invoice' AND number=?",
                        (invoice_number,),
                    )
                self._conn.execute(
                    "INSERT INTO counters VALUES (?, 1) ON CONFLICT(kind) DO UPDATE SET last = last + 1",
                    (kind,),
                )
                seq = self._conn.execute("SELECT last FROM counters WHERE kind=?", (kind,)).fetchone()[0]
                number = f"{prefix}-{int(seq):06d}"
                now = time.time()
                self._conn.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (kind, key, number, digest, json.dumps(payload), status, now),
                )
                self._conn.execute("COMMIT")
            except KeyConflict:
                raise
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return Document(kind, key, number, status, payload, now), False

    def get_document(self, kind: str, key: str) -> Document | None:
        """A document by its idempotency key, or None."""
        with self._lock:
            found = self._find(kind, key)
        return None if found is None else found[0]

    def list_documents(self, kind: str, after: str = "", limit: int | None = None) -> list[Document]:
        """Documents of a kind in number order: those numbered after ``after``, at most ``limit``."""
        query = "SELECT * FROM documents WHERE kind=? AND number > ? ORDER BY number"
        params: tuple[Any, ...] = (kind, after)
        if limit is not None:
            query, params = query + " LIMIT ?", (*params, limit)
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [_document(row) for row in rows]

    def tamper_document(
        self, kind: str, key: str, *, fields: dict[str, Any] | None = None, delete: bool = False
    ) -> Document | None:
        """Test-only: overwrite payload fields of a posted document, or delete it (None if unknown).

        The key's fingerprint is kept, so re-posting the original payload under the same key
        replays the altered document, as if someone had edited it inside the ERP.
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                found = self._find(kind, key)
                if found is None or delete:
                    if found is not None:
                        self._conn.execute("DELETE FROM documents WHERE kind=? AND key=?", (kind, key))
                    self._conn.execute("COMMIT")
                    return found[0] if found is not None else None
                payload = {**found[0].payload, **(fields or {})}
                self._conn.execute(
                    "UPDATE documents SET payload=? WHERE kind=? AND key=?", (json.dumps(payload), kind, key)
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return Document(kind, key, found[0].number, found[0].status, payload, found[0].created_at)

    def _find(self, kind: str, key: str) -> tuple[Document, str] | None:
        row = self._conn.execute("SELECT * FROM documents WHERE kind=? AND key=?", (kind, key)).fetchone()
        return None if row is None else (_document(row), str(row["fingerprint"]))


def _document(row: sqlite3.Row) -> Document:
    return Document(
        kind=row["kind"],
        key=row["key"],
        number=row["number"],
        status=row["status"],
        payload=json.loads(row["payload"]),
        created_at=row["created_at"],
    )
