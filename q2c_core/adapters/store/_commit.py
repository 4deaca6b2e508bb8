"""The connection the write path commits on: checked out of the engine's pool once and kept.

A shard is the single writer of its engagements and commits one batch at a time, so a commit need
not pay, each time, for a pool checkout (with its ping: a round trip on PostgreSQL), a new
Connection, its context managers and a checkin (with its reset rollback): those layers were
about 20% of a shard's GIL time. A commit on the held connection costs a BEGIN and a COMMIT.

One commit at a time runs on it; a commit that finds it busy (another thread of the process)
takes a pooled connection, as every commit did before. A failed transaction is rolled back
before the error is mapped (as `Engine.begin` does). A connection that broke (the database
went away, or its rollback failed) is dropped and the next commit checks out a fresh, pinged
one; and when the held connection turns out to be dead before the COMMIT was sent (what the
pool's ping would have found at checkout), nothing was committed, so the transaction is run
once more on a fresh connection.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from q2c_core.adapters.store import _driver as driver

T = TypeVar("T")


class CommitConnection:
    """Runs write transactions on one held connection of `engine` (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._sqlite = engine.dialect.name == "sqlite"
        self._lock = threading.Lock()

    def run(self, work: Callable[[Connection], T]) -> T:
        """`work(conn)` in one transaction, committed if it returns, rolled back if it raises."""
        if not self._lock.acquire(blocking=False):  # another thread is committing: as before
            with self.engine.begin() as conn:
                return work(conn)
        try:
            try:
                return self._transaction(work)
            except _Stale:  # nothing was committed: once more, on a freshly checked out connection
                return self._transaction(work)
        finally:
            self._lock.release()

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        reused = self._conn is not None
        conn = self._conn if self._conn is not None else self._checkout()
        committing = False
        try:
            dbapi_conn = conn.connection.dbapi_connection
            if self._sqlite:
                driver.execute(conn, "BEGIN IMMEDIATE")  # PostgreSQL: psycopg begins by itself
            result = work(conn)
            committing = True
            if conn.in_transaction():  # `work` ran a SQLAlchemy statement, which began one too
                conn.commit()
            else:
                dbapi_conn.commit()  # type: ignore[union-attr]
            return result
        except BaseException as exc:
            self._rollback(conn)
            if self._broken(conn, exc):
                self._drop()
                if reused and not committing and isinstance(exc, DBAPIError):
                    raise _Stale from exc
            raise

    def _rollback(self, conn: Connection) -> None:
        """Roll the failed transaction back (a failure to do so breaks the connection)."""
        try:
            if conn.in_transaction():
                conn.rollback()
            elif not conn.invalidated:
                conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        except Exception:
            with contextlib.suppress(Exception):
                conn.invalidate()

    def _checkout(self) -> Connection:
        self._conn = self.engine.connect()
        return self._conn

    def _broken(self, conn: Connection, exc: BaseException) -> bool:
        """Whether the connection can no longer be trusted with a transaction."""
        if conn.invalidated or conn.closed:
            return True
        if not isinstance(exc, DBAPIError) or exc.orig is None:
            return False
        try:
            dbapi_conn = conn.connection.dbapi_connection
        except DBAPIError:
            return True
        return bool(self.engine.dialect.is_disconnect(exc.orig, dbapi_conn, None))  # type: ignore[arg-type]

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):  # it is broken already; a fresh one replaces it
            conn.invalidate()
            conn.close()

    def close(self) -> None:
        """Return the held connection to the pool (the next commit checks one out again)."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()


class _Stale(Exception):
    """The held connection was found dead before anything was committed on it."""
