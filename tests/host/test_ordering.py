"""Order: commands for one engagement apply strictly in submission order, even in one batch."""

from __future__ import annotations

import asyncio

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import (
    approve_contract,
    audit_of,
    cancel,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
)


async def test_commands_gathered_together_apply_in_submission_order(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    commands = [create(customer_id), qualify(), close_won(), approve_contract(), cancel()]

    results = await asyncio.gather(*(host.submit(envelope(tenant_id, eid, c)) for c in commands))

    assert all(r.ok for r in results), [r.error for r in results]
    states = [r.engagement.state for r in results if r.engagement]
    assert states == [
        EngagementState.DRAFT,
        EngagementState.QUALIFIED,
        EngagementState.WON,
        EngagementState.CONTRACTED,
        EngagementState.CANCELLED,
    ]
    assert [r.engagement.version for r in results if r.engagement] == [1, 2, 3, 4, 5]
    assert host.batches_committed == 1
    events = store.read_events(tenant_id, eid)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.event_type for e in events] == [
        "EngagementCreated",
        "EngagementQualified",
        "EngagementWon",
        "ContractApproved",
        "EngagementCancelled",
    ]
    assert [a.command_type for a in audit_of(store, tenant_id, eid)] == [
        "CreateEngagement",
        "QualifyEngagement",
        "CloseWonEngagement",
        "ApproveContract",
        "CancelEngagement",
    ]
    assert folded_journal(store, tenant_id, eid) == results[-1].engagement


async def test_an_out_of_order_command_is_rejected_against_the_state_its_predecessors_left(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    commands = [create(customer_id), close_won(), qualify(), cancel(), qualify()]

    results = await asyncio.gather(*(host.submit(envelope(tenant_id, eid, c)) for c in commands))

    assert [r.ok for r in results] == [True, False, True, True, False]
    assert [r.engagement.version for r in results if r.engagement] == [1, 2, 3]
    assert {r.error.reason for r in results if r.error} == {"INVALID_STATE"}
    assert all(r.error.kind is ErrorKind.PRECONDITION for r in results if r.error)
    assert [(a.command_type, a.outcome) for a in audit_of(store, tenant_id, eid)] == [
        ("CreateEngagement", "ACCEPTED"),
        ("CloseWonEngagement", "REJECTED"),
        ("QualifyEngagement", "ACCEPTED"),
        ("CancelEngagement", "ACCEPTED"),
        ("QualifyEngagement", "REJECTED"),
    ]
    row = store.get_engagement(tenant_id, eid)
    assert row is not None and (row.state, row.version) == (EngagementState.CANCELLED.value, 3)


async def test_interleaved_engagements_each_keep_their_own_order(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    ids = [new_id("eng") for _ in range(10)]
    steps = [create(customer_id), qualify(), close_won(), cancel()]
    submissions = [host.submit(envelope(tenant_id, eid, step)) for step in steps for eid in ids]

    results = await asyncio.gather(*submissions)

    assert all(r.ok for r in results)
    for eid in ids:
        mine = [r.engagement for r in results if r.engagement and r.engagement.engagement_id == eid]
        assert [e.version for e in mine] == [1, 2, 3, 4]
        assert mine[-1].state is EngagementState.CANCELLED
        assert [e.seq for e in store.read_events(tenant_id, eid)] == [1, 2, 3, 4]


async def test_batches_split_by_max_batch_still_apply_in_order(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, max_batch=2)
    try:
        eid = new_id("eng")
        commands = [create(customer_id), qualify("a"), close_won(), approve_contract(), cancel()]
        results = await asyncio.gather(*(host.submit(envelope(tenant_id, eid, c)) for c in commands))
        assert [r.engagement.version for r in results if r.engagement] == [1, 2, 3, 4, 5]
        assert host.batches_committed == 3
    finally:
        await host.close()
