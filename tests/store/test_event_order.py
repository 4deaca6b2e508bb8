"""Commit order = position order (SQLite and PostgreSQL): a transaction that appends events
after another one's cannot commit before it, so a reader paging with `position > last seen`
never skips a late-committing lower position.

Transaction A is held open right after its events insert (a hook on its engine waits on a
threading.Event); B, on another engine, appends events meanwhile. Every step waits on an event
or on an observable database state, never on a sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from q2c_core.adapters.store import Store, StoredEvent, WriteBatch, make_engine
from q2c_core.adapters.store._write import EVENT_ORDER_LOCK_KEY
from tests.store.helpers import audit, customer, ev, uid

WAIT = 10.0
"""Upper bound for any one wait; reaching it fails the test."""


@dataclass
class Hold:
    """Holds a writer's transaction open right after its events insert until released."""

    inserted: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    reached_begin: threading.Event = field(default_factory=threading.Event)

    def install(self, engine: Engine) -> None:
        """Hook the engine: signal at BEGIN IMMEDIATE (SQLite), block after INSERT INTO events."""

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("BEGIN IMMEDIATE"):
                self.reached_begin.set()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "INSERT INTO events" in statement:  # PostgreSQL: the statement that also takes the lock
                self.inserted.set()
                assert self.release.wait(WAIT), "transaction held open too long"


@pytest.fixture
def writers(store: Store) -> Iterator[tuple[Store, Store]]:
    """Two more Stores (own engines and pools) on the module's migrated database."""
    url = store.engine.url.render_as_string(hide_password=False)
    a, b = Store(make_engine(url)), Store(make_engine(url))
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def _batch(tenant: str, stream: str, count: int) -> WriteBatch:
    return WriteBatch(
        events=[ev(tenant, stream, n) for n in range(1, count + 1)],
        audit=[audit(tenant, stream, event_ids=tuple(f"{stream}:{n}" for n in range(1, count + 1)))],
    )


@contextmanager
def _released(*holds: Hold) -> Iterator[None]:
    """Release every hold on the way out, so a failing test does not leave writers blocked."""
    try:
        yield
    finally:
        for hold in holds:
            hold.release.set()


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll an observable condition (not a timing assumption) until it holds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)  # poll interval only; correctness never depends on timing


def _blocked_on_order_lock(store: Store, hold: Hold, done: Future[Any]) -> Callable[[], bool]:
    """True once B is waiting for A: PostgreSQL shows an ungranted advisory lock on the key;
    SQLite: B reached BEGIN IMMEDIATE (which waits for A's write lock). Fails as soon as B
    gets past the point where it must wait (its events inserted, or committed)."""
    classid, objid = EVENT_ORDER_LOCK_KEY >> 32, EVENT_ORDER_LOCK_KEY & 0xFFFFFFFF
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND classid = :classid AND objid = :objid"
    )

    def blocked() -> bool:
        assert not hold.inserted.is_set(), "B inserted its events while A was still open"
        assert not done.done(), f"B finished while A was still open: {done.result()}"
        if store.dialect_name != "postgresql":
            return hold.reached_begin.is_set()
        with store.engine.connect() as conn:
            return bool(conn.execute(query, {"classid": classid, "objid": objid}).scalar_one())

    return blocked


class Follower:
    """A reader polling `read_all_events(after=last seen)` in a thread, as a subscriber does."""

    def __init__(self, store: Store, tenant: str, expected: int) -> None:
        self.store, self.tenant, self.expected = store, tenant, expected
        self.seen: list[StoredEvent] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set() and len(self.seen) < self.expected:
            after = self.seen[-1].position if self.seen else 0
            self.seen.extend(self.store.read_all_events(self.tenant, after))

    def join(self) -> list[StoredEvent]:
        """Everything it saw (it stops by itself once it has seen `expected` events)."""
        self.thread.join(WAIT)
        self.stop.set()
        return self.seen


def test_a_later_transaction_commits_after_an_earlier_one_with_higher_positions(
    store: Store, writers: tuple[Store, Store], tenant_id: str
) -> None:
    store_a, store_b = writers
    hold_a, hold_b = Hold(), Hold()
    hold_a.install(store_a.engine)
    hold_b.install(store_b.engine)
    follower = Follower(store, tenant_id, expected=5)
    with ThreadPoolExecutor(2) as pool, _released(hold_a, hold_b):
        done_a = pool.submit(store_a.commit, _batch(tenant_id, uid("a"), 3))
        assert hold_a.inserted.wait(WAIT)  # A: events inserted (positions taken), not committed
        done_b = pool.submit(store_b.commit, _batch(tenant_id, uid("b"), 2))
        _wait_until(_blocked_on_order_lock(store, hold_b, done_b), "B waits for A")
        assert store.read_all_events(tenant_id) == []  # nothing is visible while A is open

        hold_a.release.set()
        done_a.result(WAIT)
        assert hold_b.inserted.wait(WAIT)  # B got the lock only after A committed
        seen_a = store.read_all_events(tenant_id)
        assert [e.stream_id for e in seen_a] == [seen_a[0].stream_id] * 3

        hold_b.release.set()
        done_b.result(WAIT)
    seen_b = store.read_all_events(tenant_id, after_position=seen_a[-1].position)
    assert len(seen_b) == 2 and min(e.position for e in seen_b) > max(e.position for e in seen_a)
    followed = follower.join()
    assert [e.position for e in followed] == [e.position for e in seen_a + seen_b]  # no gap


def test_concurrent_writers_never_let_a_follower_skip_an_event(
    store: Store, writers: tuple[Store, Store], tenant_id: str
) -> None:
    """Many small batches from two threads; a follower must end up with every event."""
    rounds = 40
    follower = Follower(store, tenant_id, expected=2 * rounds * 2)
    barrier = threading.Barrier(2)

    def write(target: Store, name: str) -> None:
        barrier.wait(WAIT)
        for _ in range(rounds):
            target.commit(_batch(tenant_id, uid(name), 2))

    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(write, writers[0], "a"), pool.submit(write, writers[1], "b")]:
            done.result(60)
    followed = follower.join()
    everything = store.read_all_events(tenant_id, limit=10_000)
    assert len(everything) == 2 * rounds * 2
    assert [e.position for e in followed] == [e.position for e in everything]


def test_only_event_writing_transactions_take_the_order_lock_and_only_for_their_last_statement(
    store: Store, tenant_id: str
) -> None:
    statements: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        store.commit(WriteBatch(customers=[customer(tenant_id, uid("c"))]))
        without_events = [s for s in statements if "pg_advisory_xact_lock" in s]
        statements.clear()
        store.commit(_batch(tenant_id, uid("e"), 1))
        with_events = [s for s in statements if "pg_advisory_xact_lock" in s]
    finally:
        event.remove(store.engine, "before_cursor_execute", _record)
    assert without_events == []
    expected = 1 if store.dialect_name == "postgresql" else 0  # SQLite: BEGIN IMMEDIATE suffices
    assert len(with_events) == expected
    if with_events:  # taken by the events insert itself, before its rows draw their positions
        assert str(EVENT_ORDER_LOCK_KEY) in with_events[0]
        assert "INSERT INTO events" in with_events[0]
        assert with_events[0].index("pg_advisory_xact_lock") < with_events[0].index("INSERT INTO events")
    # the events insert is the transaction's last statement: the lock covers it and the commit only
    assert "INSERT INTO events" in statements[-1], statements[-3:]
    assert [s for s in statements if "INSERT INTO events" in s] == statements[-1:]
    assert any("INSERT INTO audit_records" in s for s in statements)


def test_a_batch_draws_its_positions_in_batch_order(store: Store, tenant_id: str) -> None:
    x, y = uid("x"), uid("y")
    order = [(y, 1), (x, 1), (y, 2), (x, 2), (x, 3)]
    store.commit(WriteBatch(events=[ev(tenant_id, sid, n) for sid, n in order]))
    assert [(e.stream_id, e.seq) for e in store.read_all_events(tenant_id)] == order
