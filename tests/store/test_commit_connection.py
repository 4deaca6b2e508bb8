"""The held commit connection (SQLite and PostgreSQL): commits reuse one connection without a
pool checkout each, a failed commit leaves nothing open behind it, a connection that died
between commits is replaced without losing or doubling the commit, and commits from several
threads at once still all land."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event

from q2c_core.adapters.store import Store, WriteBatch, make_engine
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId, StoreUnavailable
from tests.store.helpers import audit, customer, ev, idem, uid


def _batch(tenant_id: str, stream: str, seq: int) -> WriteBatch:
    return WriteBatch(
        events=[ev(tenant_id, stream, seq)],
        audit=[audit(tenant_id, stream, event_ids=(f"{stream}:{seq}",))],
        idempotency=[idem(tenant_id, f"req-{stream}-{seq}", stream)],
    )


def test_commits_reuse_one_connection_without_checking_one_out_each_time(
    store: Store, tenant_id: str
) -> None:
    checkouts: list[Any] = []

    def _checkout(*args: Any) -> None:
        checkouts.append(args)

    stream = uid("eng")
    store.commit(_batch(tenant_id, stream, 1))
    event.listen(store.engine, "checkout", _checkout)
    try:
        for seq in range(2, 7):
            store.commit(_batch(tenant_id, stream, seq))
    finally:
        event.remove(store.engine, "checkout", _checkout)
    assert checkouts == []
    assert [e.seq for e in store.read_events(tenant_id, stream)] == [1, 2, 3, 4, 5, 6]
    assert store.verify_audit(tenant_id, stream).ok


def test_a_refused_commit_is_rolled_back_and_the_next_one_commits(store: Store, tenant_id: str) -> None:
    stream, other = uid("eng"), uid("eng")
    store.commit(_batch(tenant_id, stream, 1))
    taken = WriteBatch(  # seq 1 is taken: refused after its audit and idempotency rows went in
        events=[ev(tenant_id, stream, 1)],
        audit=[audit(tenant_id, stream)],
        idempotency=[idem(tenant_id, uid("req"), stream)],
    )
    with pytest.raises(ConcurrencyConflict):
        store.commit(taken)
    with pytest.raises(DuplicateRequestId):
        store.commit(WriteBatch(idempotency=[idem(tenant_id, f"req-{stream}-1", stream)]))
    guarded = WriteBatch(version_guards={(tenant_id, other): 3}, audit=[audit(tenant_id, other)])
    with pytest.raises(ConcurrencyConflict):
        store.commit(guarded)
    # nothing of the refused batches was written, and no transaction was left open on the
    # held connection: another store's writer gets the write lock at once
    second = Store(make_engine(store.engine.url.render_as_string(hide_password=False)))
    try:
        second.commit(WriteBatch(customers=[customer(tenant_id, uid("c"))]))
    finally:
        second.close()
    store.commit(_batch(tenant_id, stream, 2))
    assert [e.seq for e in store.read_events(tenant_id, stream)] == [1, 2]
    assert [r.seq for r in store.list_audit(tenant_id, stream).items] == [1, 2]
    assert store.list_audit(tenant_id, other).items == []
    assert store.verify_audit(tenant_id).ok


def test_a_held_connection_that_died_between_commits_is_replaced_and_the_commit_lands_once(
    store: Store, tenant_id: str
) -> None:
    stream, held = _committed_then_killed(store, tenant_id)
    store.commit(_batch(tenant_id, stream, 2))
    assert store._writer._conn is not held
    assert [e.seq for e in store.read_events(tenant_id, stream)] == [1, 2]
    assert [r.seq for r in store.list_audit(tenant_id, stream).items] == [1, 2]
    store.commit(_batch(tenant_id, stream, 3))  # and the replacement is held in turn
    assert store.verify_audit(tenant_id, stream).ok


def test_a_commit_fails_unavailable_when_the_database_cannot_be_reached(
    store: Store, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream, _ = _committed_then_killed(store, tenant_id)

    def _unreachable(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("connect", {}, Exception("connection refused"))

    monkeypatch.setattr(store.engine, "connect", _unreachable)
    with pytest.raises(StoreUnavailable):
        store.commit(_batch(tenant_id, stream, 2))
    monkeypatch.undo()
    store.commit(_batch(tenant_id, stream, 2))
    assert [e.seq for e in store.read_events(tenant_id, stream)] == [1, 2]


def test_commits_from_several_threads_at_once_all_land(store: Store, tenant_id: str) -> None:
    streams = [uid("eng") for _ in range(4)]
    start = threading.Barrier(len(streams))
    errors: list[BaseException] = []

    def _writer(stream: str) -> None:
        try:
            start.wait()
            for seq in range(1, 6):
                store.commit(_batch(tenant_id, stream, seq))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=_writer, args=(s,)) for s in streams]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for stream in streams:
        assert [e.seq for e in store.read_events(tenant_id, stream)] == [1, 2, 3, 4, 5]
    assert store.verify_audit(tenant_id).ok


def _committed_then_killed(store: Store, tenant_id: str) -> tuple[str, Any]:
    """A new stream's first batch committed on the held connection, which is then killed:
    the stream, and that connection."""
    stream = uid("eng")
    store.commit(_batch(tenant_id, stream, 1))
    held = store._writer._conn
    assert held is not None
    _kill(store, held.connection.dbapi_connection)
    return stream, held


def _kill(store: Store, dbapi_conn: Any) -> None:
    """Make the held connection unusable, as a database restart or a dropped socket would."""
    if store.dialect_name == "postgresql":
        pid = dbapi_conn.info.backend_pid
        with store.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            conn.commit()
    else:
        dbapi_conn.close()
