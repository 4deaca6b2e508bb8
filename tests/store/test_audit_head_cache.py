"""The audit head cache (SQLite and PostgreSQL): a Store continues each chain from the head it
last committed without reading it, and a head another process moved since is caught by the
unique (tenant, stream, seq) key, never written over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from q2c_core.adapters.store import Store, WriteBatch, make_engine
from q2c_core.adapters.store._write import AuditHeads
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId
from tests.store.helpers import audit, ev, idem, uid


@pytest.fixture
def other(store: Store) -> Iterator[Store]:
    """A second Store on the module's database, as another process (gateway, host) has."""
    second = Store(make_engine(store.engine.url.render_as_string(hide_password=False)))
    try:
        yield second
    finally:
        second.close()


class Statements:
    """The SQL a store's engine runs while recording."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self.seen: list[str] = []

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)


def _audits(statements: list[str]) -> int:
    return sum("INSERT INTO audit_records" in s for s in statements)


def _head_reads(statements: list[str]) -> int:
    return sum("max(audit_records.seq)" in s for s in statements)


def test_a_stream_committed_before_is_continued_without_reading_its_head(
    store: Store, tenant_id: str
) -> None:
    sid = uid("eng")
    store.commit(WriteBatch(audit=[audit(tenant_id, sid)]))
    with Statements(store) as seen:
        records = store.commit(WriteBatch(audit=[audit(tenant_id, sid), audit(tenant_id, sid)]))
    assert [r.seq for r in records] == [2, 3]
    assert _head_reads(seen) == 0
    assert store.verify_audit(tenant_id, sid).ok


def test_a_head_moved_by_another_store_is_caught_and_the_chain_continues_after_it(
    store: Store, other: Store, tenant_id: str
) -> None:
    sid = uid("eng")
    store.commit(WriteBatch(audit=[audit(tenant_id, sid), audit(tenant_id, sid)]))
    other.commit(WriteBatch(audit=[audit(tenant_id, sid, "FromGateway", outcome="REJECTED")]))
    with Statements(store) as seen:
        records = store.commit(WriteBatch(audit=[audit(tenant_id, sid, "FromShard")]))
    assert _audits(seen) == 2  # seq 3 from the stale head was refused by the unique key
    assert [(r.seq, r.command_type) for r in records] == [(4, "FromShard")]
    stored = store.list_audit(tenant_id, sid).items
    assert [r.command_type for r in stored] == ["Touch", "Touch", "FromGateway", "FromShard"]
    assert stored[3].prev_hash == stored[2].hash
    result = store.verify_audit(tenant_id, sid)
    assert result.ok and result.records_checked == 4, result


def test_a_stale_head_with_a_taken_event_seq_is_a_conflict_and_the_retry_succeeds(
    store: Store, other: Store, tenant_id: str
) -> None:
    sid = uid("eng")
    store.commit(
        WriteBatch(events=[ev(tenant_id, sid, 1)], audit=[audit(tenant_id, sid, event_ids=(f"{sid}:1",))])
    )
    other.commit(
        WriteBatch(events=[ev(tenant_id, sid, 2)], audit=[audit(tenant_id, sid, event_ids=(f"{sid}:2",))])
    )
    stale = WriteBatch(events=[ev(tenant_id, sid, 2)], audit=[audit(tenant_id, sid, event_ids=(f"{sid}:2",))])
    with pytest.raises(ConcurrencyConflict) as conflict:
        store.commit(stale)
    assert conflict.value.stream_ids == (sid,)
    assert store.audit_heads.lookup([(tenant_id, sid)]) == {}  # forgotten with the failed attempt
    # what the host does: reload the engagement, decide again, commit the next seq
    records = store.commit(
        WriteBatch(events=[ev(tenant_id, sid, 3)], audit=[audit(tenant_id, sid, event_ids=(f"{sid}:3",))])
    )
    assert [r.seq for r in records] == [3]
    result = store.verify_audit(tenant_id, sid)
    assert result.ok and result.records_checked == 3, result


def test_a_rolled_back_commit_does_not_advance_the_cached_head(store: Store, tenant_id: str) -> None:
    sid = uid("eng")
    store.commit(WriteBatch(audit=[audit(tenant_id, sid)], idempotency=[idem(tenant_id, "r1", sid)]))
    duplicate = WriteBatch(audit=[audit(tenant_id, sid)], idempotency=[idem(tenant_id, "r1", sid)])
    with pytest.raises(DuplicateRequestId):
        store.commit(duplicate)  # its audit record (seq 2) was inserted, then rolled back
    assert store.audit_heads.lookup([(tenant_id, sid)]) == {}
    records = store.commit(WriteBatch(audit=[audit(tenant_id, sid)]))
    assert [r.seq for r in records] == [2]  # no gap where the rolled-back record was
    result = store.verify_audit(tenant_id, sid)
    assert result.ok and result.records_checked == 2, result


def test_head_cache_never_moves_a_head_back_and_drops_the_least_recent_first() -> None:
    heads = AuditHeads(limit=2)
    heads.advance({("t", "a"): (5, "h5")})
    heads.advance({("t", "a"): (4, "h4")})  # a commit that finished late
    assert heads.lookup([("t", "a")]) == {("t", "a"): (5, "h5")}
    heads.advance({("t", "b"): (1, "b1")})
    heads.advance({("t", "a"): (6, "h6")})
    heads.advance({("t", "c"): (1, "c1")})
    assert len(heads) == 2
    assert heads.lookup([("t", "a"), ("t", "b"), ("t", "c")]) == {
        ("t", "a"): (6, "h6"),
        ("t", "c"): (1, "c1"),
    }
    heads.forget([("t", "a")])
    assert heads.lookup([("t", "a")]) == {}
