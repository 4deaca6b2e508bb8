"""Residency: engagements are evicted and re-activated from the store (snapshot + tail)."""

from __future__ import annotations

from datetime import UTC, datetime

from q2c_core.adapters.store import EventRecord, Store, WriteBatch
from q2c_core.app.host import EngagementHost
from q2c_core.app.read_models import engagement_row
from q2c_core.domain import events as ev
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.events import event_to_payload
from tests.host.helpers import (
    activate,
    approve_contract,
    cancel,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
    reloaded,
)


async def test_with_no_idle_time_every_engagement_is_evicted_after_its_commit(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, idle_seconds=0)
    try:
        eid = new_id("eng")
        created = await host.submit(envelope(tenant_id, eid, create(customer_id)))
        assert created.ok and host.resident_count == 0

        qualified = await host.submit(envelope(tenant_id, eid, qualify()))
        assert qualified.engagement is not None and qualified.engagement.version == 2
        assert host.resident_count == 0

        refused = await host.submit(envelope(tenant_id, eid, qualify()))
        assert refused.error is not None and refused.error.reason == "INVALID_STATE"
        won = await host.submit(envelope(tenant_id, eid, close_won()))
        assert won.engagement is not None and (won.engagement.state, won.engagement.version) == (
            EngagementState.WON,
            3,
        )
        assert [e.seq for e in store.read_events(tenant_id, eid)] == [1, 2, 3]
    finally:
        await host.close()


async def test_max_resident_keeps_only_the_most_recently_used(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, max_resident=1)
    try:
        ids = [new_id("eng") for _ in range(3)]
        results = await host.submit_many([envelope(tenant_id, eid, create(customer_id)) for eid in ids])
        assert all(r.ok for r in results)
        assert host.resident_count == 1

        for eid in ids:
            qualified = await host.submit(envelope(tenant_id, eid, qualify()))
            assert qualified.engagement is not None and qualified.engagement.version == 2
            assert host.resident_count == 1
        for eid in reversed(ids):
            won = await host.submit(envelope(tenant_id, eid, close_won()))
            assert won.engagement is not None and won.engagement.version == 3
        assert all([e.seq for e in store.read_events(tenant_id, eid)] == [1, 2, 3] for eid in ids)
    finally:
        await host.close()


async def test_engagements_stay_resident_by_default(
    host: EngagementHost, tenant_id: str, customer_id: str
) -> None:
    ids = [new_id("eng") for _ in range(5)]
    await host.submit_many([envelope(tenant_id, eid, create(customer_id)) for eid in ids])
    assert host.resident_count == 5
    await host.submit(envelope(tenant_id, new_id("eng"), qualify()))  # rejected: not activated
    assert host.resident_count == 5


async def test_after_evict_all_the_lifecycle_continues_from_the_store(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    await host.submit_many(
        [envelope(tenant_id, eid, c) for c in (create(customer_id), qualify(), close_won())]
    )
    before = reloaded(store, tenant_id, eid)

    host.evict_all()
    assert host.resident_count == 0
    contracted = await host.submit(envelope(tenant_id, eid, approve_contract()))
    assert host.resident_count == 1
    activated = await host.submit(envelope(tenant_id, eid, activate()))

    assert before is not None and before.version == 3
    assert contracted.engagement is not None and contracted.engagement.version == 4
    assert activated.engagement is not None
    assert (activated.engagement.state, activated.engagement.version) == (EngagementState.ACTIVE, 5)
    assert activated.engagement == folded_journal(store, tenant_id, eid) == reloaded(store, tenant_id, eid)


async def test_a_new_host_activates_from_the_snapshot_row(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    [*_, last] = await host.submit_many(
        [
            envelope(tenant_id, eid, c)
            for c in (create(customer_id), qualify(), close_won(), approve_contract())
        ]
    )
    fresh = EngagementHost(store)
    try:
        activated = await fresh.submit(envelope(tenant_id, eid, activate()))
    finally:
        await fresh.close()
    assert last.engagement is not None and activated.engagement is not None
    assert activated.engagement.version == last.engagement.version + 1
    assert activated.engagement.contract == last.engagement.contract


async def test_events_appended_after_the_snapshot_are_folded_on_activation(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    await host.submit_many([envelope(tenant_id, eid, c) for c in (create(customer_id), qualify())])
    at = datetime.now(UTC)
    store.commit(
        WriteBatch(
            events=[
                EventRecord(
                    tenant_id=tenant_id,
                    stream_id=eid,
                    seq=3,
                    event_type="EngagementWon",
                    payload=event_to_payload(ev.EngagementWon(service_line="erp")),
                    principal="ops@example.com",
                    correlation_id="tail",
                    request_id=None,
                    occurred_at=at,
                )
            ]
        )
    )
    row, tail = store.load_stream(tenant_id, eid)
    assert row is not None and row.version == 2 and [e.seq for e in tail] == [3]

    host.evict_all()
    contracted = await host.submit(envelope(tenant_id, eid, approve_contract()))

    assert contracted.ok, contracted.error
    assert contracted.engagement is not None
    assert (contracted.engagement.state, contracted.engagement.version) == (EngagementState.CONTRACTED, 4)
    assert [e.seq for e in store.read_events(tenant_id, eid)] == [1, 2, 3, 4]
    assert contracted.engagement == folded_journal(store, tenant_id, eid)
    row = store.get_engagement(tenant_id, eid)
    assert row is not None and row.version == 4


async def test_a_stale_snapshot_row_never_overwrites_a_newer_one(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    [created, _, _] = await host.submit_many(
        [envelope(tenant_id, eid, c) for c in (create(customer_id), qualify(), cancel())]
    )
    assert created.engagement is not None
    store.commit(WriteBatch(engagements=[engagement_row(tenant_id, created.engagement)]))

    row = store.get_engagement(tenant_id, eid)
    assert row is not None and (row.version, row.state) == (3, EngagementState.CANCELLED.value)
    host.evict_all()
    refused = await host.submit(envelope(tenant_id, eid, qualify()))
    assert refused.error is not None and refused.error.metadata["state"] == "CANCELLED"
