"""Engine construction, URL handling, page tokens and error translation (no fixtures)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select, text

from q2c_core.adapters.store import (
    Store,
    StoreUnavailable,
    WriteBatch,
    make_engine,
    metadata,
    migrate,
    normalize_url,
)
from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store._paging import decode_token, encode_token
from q2c_core.adapters.store.database import sqlite_url
from tests.store.helpers import T0, customer


def test_postgres_urls_use_psycopg() -> None:
    assert normalize_url("postgresql://u:p@h:5/db").startswith("postgresql+psycopg://u:p@h:5/db")
    assert normalize_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory"):
        make_engine(url)


def test_sqlite_pragmas_are_set_per_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            got = [
                conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                for p in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            ]
        assert got == ["wal", 2, 5000, 1]  # synchronous=FULL unless the URL asks for normal
    finally:
        engine.dispose()


@pytest.mark.parametrize(("level", "pragma"), [("full", 2), ("normal", 1)])
def test_sqlite_synchronous_level_travels_in_the_url(tmp_path: Path, level: str, pragma: int) -> None:
    url = sqlite_url(f"sqlite:///{tmp_path / 's.db'}", level)
    assert url.endswith(f"?synchronous={level}")
    store = Store.open(url)  # what every process (gateway, each shard) does with the URL
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
        assert store.engine.url.query == {}  # the level is ours, not the driver's
    finally:
        store.close()


def test_unknown_synchronous_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        sqlite_url(f"sqlite:///{tmp_path / 's.db'}", "off")
    with pytest.raises(ValueError, match="synchronous"):
        make_engine(f"sqlite:///{tmp_path / 's.db'}?synchronous=off")
    assert sqlite_url("postgresql://h/db", "normal") == "postgresql://h/db"


def test_unreachable_database_raises_store_unavailable() -> None:
    store = Store(make_engine("postgresql://postgres@127.0.0.1:1/nope", connect_args={"connect_timeout": 2}))
    try:
        with pytest.raises(StoreUnavailable):
            store.commit(WriteBatch(customers=[customer("t", "c")]))
        with pytest.raises(StoreUnavailable):
            store.get_customer("t", "c")
    finally:
        store.close()


def test_missing_schema_surfaces_as_store_unavailable(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}", migrate=False)
    try:
        with pytest.raises(StoreUnavailable):  # sqlite reports "no such table" as operational
            store.get_customer("t", "c")
    finally:
        store.close()


def test_concurrent_open_of_a_fresh_sqlite_database_migrates_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            Store.open(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []


def _connect_at_once(url: str, processes: int) -> tuple[list[str], list[BaseException]]:
    """Each of `processes` engines on `url` (as the gateway and every shard have) connects at
    the same moment; the journal modes they see, and what they raised."""
    engines = [make_engine(url) for _ in range(processes)]
    start = threading.Barrier(processes)
    modes: list[str] = []
    errors: list[BaseException] = []

    def connect(engine: Engine) -> None:
        try:
            start.wait(timeout=30)
            with engine.connect() as conn:
                modes.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=connect, args=(engine,)) for engine in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for engine in engines:
        engine.dispose()
    return modes, errors


def test_engines_switching_a_fresh_sqlite_file_to_wal_at_once_all_connect(tmp_path: Path) -> None:
    # SQLite answers the loser of this race "database is locked" without waiting: its busy
    # handler is not called when a read lock would have to become a write lock. Without
    # make_engine's retry, 44 of 300 tries failed, so 40 in a row pass about once in 600.
    for attempt in range(40):
        modes, errors = _connect_at_once(f"sqlite:///{tmp_path / f'wal-{attempt}.db'}", 4)
        assert (attempt, errors, modes) == (attempt, [], ["wal"] * 4)


def test_page_token_round_trip_and_rejects_garbage() -> None:
    cols = [s.engagements.c.create_time, s.engagements.c.engagement_id]
    assert decode_token(encode_token([T0, "e-1"]), cols) == [T0, "e-1"]
    assert decode_token("", cols) is None
    for bad in ["%%%", encode_token([1, "e"]), encode_token(["e"]), encode_token([T0, 3])]:
        with pytest.raises(ValueError, match="page_token"):
            decode_token(bad, cols)


def test_migration_matches_metadata(store: Store) -> None:
    migrate(store.engine)  # idempotent
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, metadata)
        tables = set(conn.dialect.get_table_names(conn))
        count = conn.execute(select(func.count()).select_from(text("alembic_version"))).scalar()
    assert diffs == []
    assert tables - {"alembic_version"} == set(metadata.tables)
    assert count == 1


def test_a_process_opening_the_store_without_migrating_never_imports_alembic(tmp_path: Path) -> None:
    # Shards, coordinators and the delivery actor open the store this way; alembic would cost
    # each of them ~12 MB resident.
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    Store.open(url).close()
    opened = "s = Store.open(URL, migrate=False); s.close()"
    script = f"import sys\nfrom q2c_core.adapters.store import Store\nURL = {url!r}\n{opened}\n"
    script += "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]", shown.stdout
