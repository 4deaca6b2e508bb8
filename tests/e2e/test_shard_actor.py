"""EngagementShard on real Ray: a threaded actor whose calls run its host synchronously."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
import ray

from actors import wire
from actors.shard import EngagementShard
from q2c_core.adapters.store import Store
from q2c_core.app.billing.runner import BillOutcome
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandResult
from q2c_core.domain import commands as cmd
from q2c_core.domain.errors import ErrorKind
from q2c_core.domain.periods import BillingPeriod
from tests.host.helpers import create, envelope, new_id, seed_customer


@pytest_asyncio.fixture
async def shard(ray_cluster: str, database_url: str) -> AsyncIterator[Any]:
    """One shard actor of its own over the module's database, killed afterwards."""
    name = f"shard-test-{uuid.uuid4().hex[:8]}"
    handle: Any = EngagementShard.options(name=name, namespace="q2c").remote(database_url, 0)  # type: ignore[attr-defined]
    await handle.stats.remote()
    yield handle
    ray.kill(handle, no_restart=True)


async def test_concurrent_calls_all_commit_and_idle_covers_them(
    shard: Any, store: Store, tenant_id: str
) -> None:
    customer_id = seed_customer(store, tenant_id)
    ids = [new_id("eng") for _ in range(6)]
    encoded = [
        shard.execute_encoded.remote(wire.encode([envelope(tenant_id, e, create(customer_id))]))
        for e in ids[:3]
    ]
    plain = [shard.execute_batch.remote([envelope(tenant_id, e, create(customer_id))]) for e in ids[3:]]
    side = [shard.stats.remote(), shard.metrics_snapshot.remote(), shard.sweep.remote()]

    results: list[list[CommandResult]] = [wire.decode(r) for r in await asyncio.gather(*encoded)]
    results += await asyncio.gather(*plain)
    await asyncio.gather(*side)
    await shard.idle.remote()

    assert all(r.ok for batch in results for r in batch)
    stats = await shard.stats.remote()
    assert stats["batches_committed"] == 6 and stats["resident"] == 6
    assert len(store.list_engagements(tenant_id).items) == 6
    assert await shard.activate.remote(tenant_id, [new_id("eng")]) == 6  # an unknown one: nothing loaded


async def test_a_bill_chunk_keeps_none_of_the_engagements_it_loaded(
    shard: Any, store: Store, tenant_id: str
) -> None:
    customer_id = seed_customer(store, tenant_id)
    held, passed = new_id("eng"), new_id("eng")
    [created] = await shard.execute_batch.remote([envelope(tenant_id, held, create(customer_id))])
    elsewhere = EngagementHost(store)  # the shard has never loaded this one
    assert elsewhere.run_batch([envelope(tenant_id, passed, create(customer_id))])[0].ok
    chunk = [
        envelope(tenant_id, e, cmd.GenerateInvoice(period=BillingPeriod.month(2026, 1)))
        for e in (held, passed)
    ]

    found: list[BillOutcome] = wire.decode(await shard.bill_encoded.remote(wire.encode(chunk)))

    assert created.ok and [o.kind for o in found] == ["SKIPPED", "SKIPPED"]  # drafts: nothing to bill
    assert (await shard.stats.remote())["resident"] == 1  # the one held before the chunk


async def test_drain_finishes_what_was_sent_before_and_refuses_what_comes_after(
    shard: Any, store: Store, tenant_id: str
) -> None:
    customer_id = seed_customer(store, tenant_id)
    before = [
        shard.execute_batch.remote([envelope(tenant_id, new_id("eng"), create(customer_id))])
        for _ in range(3)
    ]
    drained = shard.drain.remote()

    assert all(batch[0].ok for batch in await asyncio.gather(*before))
    await drained
    [refused] = await shard.execute_batch.remote([envelope(tenant_id, new_id("eng"), create(customer_id))])

    assert refused.error is not None
    assert (refused.error.kind, refused.error.reason) == (ErrorKind.UNAVAILABLE, "HOST_CLOSED")
    assert (await shard.stats.remote())["batches_committed"] == 3
    assert len(store.list_engagements(tenant_id).items) == 3
