"""Idempotency (AIP-155): a request_id replays its first response, or is refused if reused."""

from __future__ import annotations

import asyncio

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import (
    audit_of,
    cancel,
    close_won,
    create,
    envelope,
    new_id,
    qualify,
    submit_on_new_host,
)


async def test_the_same_request_replays_the_original_response_without_writing(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    first = await host.submit(envelope(tenant_id, eid, create(customer_id), rid))
    events_before = store.read_events(tenant_id, eid)
    audit_before = audit_of(store, tenant_id, eid)

    again = await host.submit(envelope(tenant_id, eid, create(customer_id), rid))

    assert first.ok and not first.replayed
    assert again.ok and again.replayed
    assert again.engagement == first.engagement
    assert again.event_ids == first.event_ids
    assert store.read_events(tenant_id, eid) == events_before
    assert audit_of(store, tenant_id, eid) == audit_before


async def test_a_replay_survives_eviction_and_a_new_host(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    first = await host.submit(envelope(tenant_id, eid, qualify("go"), rid))
    assert (await host.submit(envelope(tenant_id, eid, close_won()))).ok

    again = await submit_on_new_host(store, envelope(tenant_id, eid, qualify("go"), rid))

    assert again.replayed and again.engagement == first.engagement
    assert again.engagement is not None and again.engagement.version == 2
    assert len(store.read_events(tenant_id, eid)) == 3


async def test_a_rejection_is_replayed_too(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    first = await host.submit(envelope(tenant_id, eid, close_won(), rid))
    assert (await host.submit(envelope(tenant_id, eid, qualify()))).ok

    again = await host.submit(envelope(tenant_id, eid, close_won(), rid))

    assert first.error is not None and first.error.reason == "INVALID_STATE"
    assert again.replayed and again.error == first.error
    assert len(store.read_events(tenant_id, eid)) == 2


async def test_the_same_request_id_with_another_payload_is_refused(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    assert (await host.submit(envelope(tenant_id, eid, qualify("first"), rid))).ok

    reused = await host.submit(envelope(tenant_id, eid, qualify("second"), rid))

    assert reused.error is not None
    assert (reused.error.kind, reused.error.reason) == (ErrorKind.REQUEST_ID_REUSED, "REQUEST_ID_REUSED")
    assert reused.error.metadata == {"request_id": rid}
    assert len(store.read_events(tenant_id, eid)) == 2
    assert [(a.outcome, a.rejection_reason) for a in audit_of(store, tenant_id, eid)][-1] == (
        "REJECTED",
        "REQUEST_ID_REUSED",
    )


async def test_the_same_request_id_for_another_engagement_is_refused(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    first_id, second_id, rid = new_id("eng"), new_id("eng"), new_id("req")
    await host.submit_many(
        [
            envelope(tenant_id, first_id, create(customer_id)),
            envelope(tenant_id, second_id, create(customer_id)),
        ]
    )
    assert (await host.submit(envelope(tenant_id, first_id, cancel(), rid))).ok

    elsewhere = await host.submit(envelope(tenant_id, second_id, cancel(), rid))

    assert elsewhere.error is not None and elsewhere.error.kind is ErrorKind.REQUEST_ID_REUSED
    assert not elsewhere.replayed
    assert len(store.read_events(tenant_id, second_id)) == 1


async def test_the_same_request_twice_in_one_batch_has_one_effect(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    before = host.batches_committed

    first, second = await asyncio.gather(
        host.submit(envelope(tenant_id, eid, qualify("go"), rid)),
        host.submit(envelope(tenant_id, eid, qualify("go"), rid)),
    )

    assert host.batches_committed == before + 1
    assert first.ok and not first.replayed
    assert second.ok and second.replayed
    assert second.engagement == first.engagement
    assert [e.seq for e in store.read_events(tenant_id, eid)] == [1, 2]
    assert [a.command_type for a in audit_of(store, tenant_id, eid)] == [
        "CreateEngagement",
        "QualifyEngagement",
    ]


async def test_a_reused_request_id_inside_one_batch_is_refused_and_changes_nothing(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok

    first, second = await asyncio.gather(
        host.submit(envelope(tenant_id, eid, qualify("go"), rid)),
        host.submit(envelope(tenant_id, eid, cancel(), rid)),
    )

    assert first.ok
    assert second.error is not None and second.error.kind is ErrorKind.REQUEST_ID_REUSED
    assert [e.event_type for e in store.read_events(tenant_id, eid)] == [
        "EngagementCreated",
        "EngagementQualified",
    ]
    assert [(a.outcome, a.rejection_reason) for a in audit_of(store, tenant_id, eid)] == [
        ("ACCEPTED", None),
        ("ACCEPTED", None),
        ("REJECTED", "REQUEST_ID_REUSED"),
    ]


async def test_a_create_retried_concurrently_on_two_hosts_creates_once(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    one, two = EngagementHost(store), EngagementHost(store)
    try:
        results = await asyncio.gather(
            one.submit(envelope(tenant_id, eid, create(customer_id), rid)),
            two.submit(envelope(tenant_id, eid, create(customer_id), rid)),
        )
    finally:
        await asyncio.gather(one.close(), two.close())

    assert all(r.ok for r in results), [r.error for r in results]
    assert results[0].engagement == results[1].engagement
    assert len(store.read_events(tenant_id, eid)) == 1
    assert len(audit_of(store, tenant_id, eid)) == 1
