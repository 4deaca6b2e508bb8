"""Engine construction (SQLite pragmas, BEGIN IMMEDIATE, psycopg URLs) and Alembic migration."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from q2c_core.adapters.store._driver import execute
from q2c_core.app.audit.canonical_json import stored_json

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: Connection execution option: start a read-only (deferred) SQLite transaction.
READ_ONLY = "q2c_read_only"


_dumps = stored_json
"""Compact JSON for JSON columns (a JsonText's text as it was made, encoded once for the audit
chain and every row that carries it; anything else by an encoder built once, not per value)."""


def normalize_url(url: str) -> str:
    """Rewrite postgresql:// to postgresql+psycopg://; reject in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or "mode=memory" in url:
            raise ValueError(
                "in-memory SQLite is not supported: every Store connection must see one "
                "database; use a file URL such as sqlite:////tmp/q2c.db"
            )
        return url
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


SYNCHRONOUS = ("full", "normal")
"""SQLite `synchronous` levels q2c accepts: `full` (the default) syncs the WAL on every commit,
so an acknowledged command survives power loss; `normal` may lose the last commits then."""


def sqlite_url(url: str, synchronous: str) -> str:
    """`url` carrying the SQLite synchronous level (`?synchronous=`), so that every process that
    opens it (the gateway, each Ray shard) applies the same one; other URLs are returned as is."""
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    return parsed.update_query_dict({"synchronous": synchronous}).render_as_string(hide_password=False)


BUSY_TIMEOUT_MS = 5_000
"""How long a SQLite command waits for the write lock before the store reports it unavailable."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, synchronous (FULL unless the URL says `normal`),
    busy_timeout and BEGIN IMMEDIATE."""
    parsed = make_url(normalize_url(url))
    synchronous = "full"
    if parsed.get_backend_name() == "sqlite":
        synchronous = parsed.query.get("synchronous", "full")  # type: ignore[assignment]
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        parsed = parsed.difference_update_query(["synchronous"])
    engine = create_engine(parsed, pool_pre_ping=True, json_serializer=_dumps, **kwargs)
    if engine.dialect.name == "sqlite":
        _install_sqlite_listeners(engine, synchronous.upper())
    return engine


def _install_sqlite_listeners(engine: Engine, synchronous: str) -> None:
    """Per-connection pragmas, and explicit BEGIN IMMEDIATE (DEFERRED for reads)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" listener emit BEGIN itself
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _enter_wal(cur)
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            return  # begun on the driver (the held commit connection, _commit.py): that one holds
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        execute(conn, "BEGIN" if read_only else "BEGIN IMMEDIATE")


def _enter_wal(cur: sqlite3.Cursor) -> None:
    """PRAGMA journal_mode=WAL, tried again while another connection switches the same fresh file.

    SQLite does not call the busy handler here: the switch reads the header under a read lock,
    then asks for the write lock, and a connection that already holds a read lock gets SQLITE_BUSY
    at once rather than risk a deadlock. Four engines connecting to one fresh file at once lost
    that race in 44 of 300 tries, so the switch is retried, with a short growing pause, up to
    BUSY_TIMEOUT_MS."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def alembic_config() -> Config:
    """An Alembic Config built in code, pointing at q2c_core/adapters/store/migrations.

    Alembic is imported here, not at module level: shard, coordinator and delivery processes
    open the store without migrating, and the import costs each of them ~12 MB resident."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


MIGRATE_BUSY_TIMEOUT_MS = 120_000
"""How long an opener of a SQLite file waits for another one's migration (BEGIN IMMEDIATE) before
giving up: far above the 5 s a command waits, because a loaded machine syncing a fresh file's
whole schema (every revision, synchronous=FULL) was seen to take longer than that."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (idempotent; concurrent callers are serialized)."""
    from alembic import command

    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # before BEGIN IMMEDIATE: wait out a concurrent opener's migration
            conn.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={MIGRATE_BUSY_TIMEOUT_MS}")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(7142051133)"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        finally:
            if sqlite:  # the pooled connection goes back with the commands' timeout
                conn.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # type: ignore[union-attr]
