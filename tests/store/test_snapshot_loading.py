"""Snapshots loaded for activation (SQLite and PostgreSQL) stay their column's JSON text until
decoded straight into an Engagement, which equals the one decoded from the parsed JSON and the
one folded from the journal; a snapshot that no longer decodes is skipped for the journal."""

from __future__ import annotations

import json
import pickle

from sqlalchemy import text

from q2c_core.adapters.store import Store
from q2c_core.app.decoding import SnapshotText, decode_snapshot, rebuild
from q2c_core.app.host import EngagementHost
from q2c_core.domain.engagement import Engagement
from tests.host.helpers import (
    activate,
    approve_contract,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
    seed_customer,
    submit_expense,
)


async def _engagements(store: Store, tenant_id: str, count: int) -> list[str]:
    """`count` active engagements, some past a second snapshot, with a tail of events after it."""
    customer_id = seed_customer(store, tenant_id)
    host = EngagementHost(store)
    try:
        ids = [new_id("eng") for _ in range(count)]
        steps = [create(customer_id), qualify(), close_won(), approve_contract(), activate()]
        for n, eid in enumerate(ids):
            steps_for = steps + [submit_expense(f"x-{eid}-{i}", f"{10 + i}.25") for i in range(3 + 3 * n)]
            results = await host.submit_many([envelope(tenant_id, eid, c) for c in steps_for])
            assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        return ids
    finally:
        await host.close()


def _rebuilt(store: Store, tenant_id: str, eid: str) -> Engagement | None:
    row, tail = store.load_stream(tenant_id, eid)
    return rebuild(row, tail, lambda: store.read_events(tenant_id, eid), eid)


async def test_loaded_snapshots_decode_from_their_text_to_the_same_engagement(
    store: Store, tenant_id: str
) -> None:
    ids = await _engagements(store, tenant_id, 4)
    for eid in ids:
        row, _tail = store.load_stream(tenant_id, eid)
        assert row is not None and isinstance(row.snapshot, SnapshotText)
        parsed = json.loads(row.snapshot.text)
        assert decode_snapshot(row) == Engagement.model_validate(parsed)
        assert row.snapshot == parsed and dict(row.snapshot) == parsed  # still a mapping
        assert pickle.loads(pickle.dumps(row)).snapshot == parsed
        assert _rebuilt(store, tenant_id, eid) == folded_journal(store, tenant_id, eid)
    many = store.load_streams(tenant_id, ids)
    for eid in ids:
        row, tail = many[eid]
        assert rebuild(row, tail, lambda: (), eid) == folded_journal(store, tenant_id, eid)


async def test_a_snapshot_that_no_longer_decodes_is_skipped_for_the_journal(
    store: Store, tenant_id: str
) -> None:
    (eid,) = await _engagements(store, tenant_id, 1)
    expected = folded_journal(store, tenant_id, eid)
    bad = ['{"engagement_id": 1, "unknown": true}']
    if store.dialect_name == "sqlite":  # PostgreSQL's json type refuses text that is not JSON
        bad.append('{"engagement_id": "truncated')
    for snapshot in bad:
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE engagements SET snapshot = :s WHERE tenant_id = :t AND engagement_id = :e"),
                {"s": snapshot, "t": tenant_id, "e": eid},
            )
        assert _rebuilt(store, tenant_id, eid) == expected
