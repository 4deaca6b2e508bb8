"""Group commit: concurrent commands share transactions; each is accepted or rejected alone."""

from __future__ import annotations

import asyncio

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import audit_of, close_won, create, envelope, new_id, qualify


async def test_two_hundred_concurrent_creates_all_succeed_in_far_fewer_commits(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    ids = [new_id("eng") for _ in range(200)]
    results = await asyncio.gather(
        *(host.submit(envelope(tenant_id, eid, create(customer_id, f"E{n}"))) for n, eid in enumerate(ids))
    )
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert [r.engagement.engagement_id for r in results if r.engagement] == ids
    assert all(r.engagement is not None and r.engagement.version == 1 for r in results)
    assert host.batches_committed <= 10
    assert len(store.list_engagements(tenant_id, page_size=1000).items) == 200
    assert all(len(store.read_events(tenant_id, eid)) == 1 for eid in ids[:20])


async def test_a_batch_submitted_together_is_committed_in_one_transaction(
    host: EngagementHost, tenant_id: str, customer_id: str
) -> None:
    envelopes = [envelope(tenant_id, new_id("eng"), create(customer_id)) for _ in range(30)]
    results = await host.submit_many(envelopes)
    assert all(r.ok for r in results)
    assert host.batches_committed == 1


async def test_a_rejected_command_never_spoils_its_batch(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    drafted = new_id("eng")
    assert (await host.submit(envelope(tenant_id, drafted, create(customer_id)))).ok
    fresh, unknown = new_id("eng"), new_id("eng")
    committed_before = host.batches_committed

    created, qualify_unknown, won_in_draft = await asyncio.gather(
        host.submit(envelope(tenant_id, fresh, create(customer_id))),
        host.submit(envelope(tenant_id, unknown, qualify())),
        host.submit(envelope(tenant_id, drafted, close_won())),
    )

    assert host.batches_committed == committed_before + 1
    assert created.ok and created.engagement is not None and created.engagement.version == 1
    assert qualify_unknown.error is not None
    assert (qualify_unknown.error.kind, qualify_unknown.error.reason) == (
        ErrorKind.NOT_FOUND,
        "ENGAGEMENT_NOT_FOUND",
    )
    assert won_in_draft.error is not None
    assert (won_in_draft.error.kind, won_in_draft.error.reason) == (ErrorKind.PRECONDITION, "INVALID_STATE")

    assert [(a.outcome, a.rejection_reason) for a in audit_of(store, tenant_id, unknown)] == [
        ("REJECTED", "ENGAGEMENT_NOT_FOUND")
    ]
    assert [(a.command_type, a.outcome, a.rejection_reason) for a in audit_of(store, tenant_id, drafted)] == [
        ("CreateEngagement", "ACCEPTED", None),
        ("CloseWonEngagement", "REJECTED", "INVALID_STATE"),
    ]
    assert audit_of(store, tenant_id, fresh)[0].outcome == "ACCEPTED"


async def test_a_rejected_command_changes_nothing_but_the_audit_log(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    drafted, unknown = new_id("eng"), new_id("eng")
    assert (await host.submit(envelope(tenant_id, drafted, create(customer_id)))).ok

    await asyncio.gather(
        host.submit(envelope(tenant_id, unknown, qualify())),
        host.submit(envelope(tenant_id, drafted, close_won())),
    )

    row = store.get_engagement(tenant_id, drafted)
    assert row is not None and (row.version, row.state) == (1, EngagementState.DRAFT.value)
    assert len(store.read_events(tenant_id, drafted)) == 1
    assert store.get_engagement(tenant_id, unknown) is None
    assert store.read_events(tenant_id, unknown) == []
    assert store.list_exceptions(tenant_id).items == []
    assert store.verify_audit(tenant_id).ok


async def test_accepted_commands_record_their_event_ids_in_the_audit_log(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    created = await host.submit(envelope(tenant_id, eid, create(customer_id)))
    [record] = audit_of(store, tenant_id, eid)
    assert list(record.event_ids) == created.event_ids == [f"{eid}:1"]
