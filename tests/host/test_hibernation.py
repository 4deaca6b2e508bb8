"""Hibernation: idle engagements are kept compacted in memory and thawed without the store;
engagements a bill run only passes through are not kept at all."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text

from q2c_core.adapters.store import Store
from q2c_core.app.commands import SNAPSHOT_EVERY
from q2c_core.app.host import EngagementHost
from q2c_core.app.residency import freeze, thaw
from q2c_core.domain.entities import EngagementState
from tests.host.helpers import (
    activate,
    approve_contract,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
    reloaded,
    submit_expense,
)


async def _contracted(host: EngagementHost, tenant_id: str, customer_id: str) -> str:
    eid = new_id("eng")
    results = await host.submit_many(
        [
            envelope(tenant_id, eid, c)
            for c in (create(customer_id), qualify(), close_won(), approve_contract())
        ]
    )
    assert all(r.ok for r in results), [r.error for r in results]
    return eid


async def test_an_idle_engagement_hibernates_and_thaws_without_the_store(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, hibernate_seconds=0)
    try:
        eid = await _contracted(host, tenant_id, customer_id)
        assert host.resident_count == 0 and host.residency.hibernating_count == 1
        activations = host.telemetry.activations

        activated = await host.submit(envelope(tenant_id, eid, activate()))

        assert activated.engagement is not None
        assert (activated.engagement.state, activated.engagement.version) == (EngagementState.ACTIVE, 5)
        assert activated.engagement == folded_journal(store, tenant_id, eid)
        assert host.telemetry.activations == activations  # thawed, not loaded
        assert host.residency.thaws == 1
        assert host.residency.hibernating_count == 1  # and hibernated again after its commit
        assert host.residency.hibernating_bytes() == len(freeze(activated.engagement))
    finally:
        await host.close()


async def test_over_max_resident_the_least_recently_used_hibernate_instead_of_leaving(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, max_resident=1)
    try:
        ids = [await _contracted(host, tenant_id, customer_id) for _ in range(3)]
        assert host.resident_count == 1 and host.residency.hibernating_count == 2
        activations = host.telemetry.activations

        results = await host.submit_many([envelope(tenant_id, eid, activate()) for eid in ids])

        assert all(r.engagement is not None and r.engagement.version == 5 for r in results)
        assert host.telemetry.activations == activations  # every one came back from memory
        assert host.resident_count == 1 and host.residency.hibernating_count == 2
    finally:
        await host.close()


async def test_a_sweep_hibernates_engagements_that_went_idle_without_another_commit(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, hibernate_seconds=3600)
    try:
        eid = await _contracted(host, tenant_id, customer_id)
        await host.sweep()
        assert host.resident_count == 1  # not idle long enough

        host.residency.limits = host.residency.limits.__class__(hibernate_seconds=0)
        await host.sweep()

        assert host.resident_count == 0 and host.residency.hibernating_count == 1
        assert host.residency.hibernating_bytes() > 0
        again = await host.submit(envelope(tenant_id, eid, activate()))
        assert again.engagement == folded_journal(store, tenant_id, eid)
    finally:
        await host.close()


async def test_a_state_that_does_not_thaw_is_activated_from_the_store(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, hibernate_seconds=0)
    try:
        eid = await _contracted(host, tenant_id, customer_id)
        cold = host.residency._cold
        cold[(tenant_id, eid)] = (b"not zlib", cold[(tenant_id, eid)][1])
        activations = host.telemetry.activations

        activated = await host.submit(envelope(tenant_id, eid, activate()))

        assert activated.engagement == folded_journal(store, tenant_id, eid)
        assert activated.engagement is not None and activated.engagement.version == 5
        assert host.telemetry.activations == activations + 1
    finally:
        await host.close()


async def test_commands_passing_through_do_not_keep_the_engagements_they_loaded(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store)
    try:
        kept = await _contracted(host, tenant_id, customer_id)
        passed = await _contracted(host, tenant_id, customer_id)
        host.residency.forget((tenant_id, passed))
        assert host.resident_count == 1

        results = await host.submit_many(
            [envelope(tenant_id, eid, activate()) for eid in (kept, passed)], passing=True
        )

        assert all(r.engagement is not None and r.engagement.version == 5 for r in results)
        assert host.residency.holds((tenant_id, kept))  # it was in memory before: it stays
        assert not host.residency.holds((tenant_id, passed))
        assert results[1].engagement == folded_journal(store, tenant_id, passed)
    finally:
        await host.close()


async def test_activate_loads_engagements_ahead_of_their_commands(
    host: EngagementHost, tenant_id: str, customer_id: str
) -> None:
    ids = [await _contracted(host, tenant_id, customer_id) for _ in range(3)]
    host.evict_all()
    activations = host.telemetry.activations

    live = await host.activate([(tenant_id, eid) for eid in [*ids, new_id("eng")]])

    assert live == 3 and host.telemetry.activations == activations + 4  # the unknown one too
    await host.submit(envelope(tenant_id, ids[0], activate()))
    assert host.telemetry.activations == activations + 4


async def test_a_frozen_state_thaws_equal_and_much_smaller(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = await _contracted(host, tenant_id, customer_id)
    state = folded_journal(store, tenant_id, eid)
    assert state is not None

    frozen = freeze(state)

    assert thaw(frozen) == state
    assert len(frozen) < len(state.model_dump_json()) / 2


def _stored_snapshot_at(store: Store, tenant_id: str, eid: str) -> tuple[int, int]:
    row, _ = store.load_stream(tenant_id, eid)
    assert row is not None
    return row.version, row.snapshot_at


async def test_snapshot_bookkeeping_survives_hibernation_and_passing_evictions(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, hibernate_seconds=0, max_batch=1)  # every commit hibernates
    try:
        eid = await _contracted(host, tenant_id, customer_id)
        assert (await host.submit(envelope(tenant_id, eid, activate()))).ok
        for n in range(1, 21):  # one batch each: passing and normal alternate, queued together
            if n % 3 == 0:
                host.evict_all()  # the passing batch loads it from the store, then drops it
            passing, normal = await asyncio.gather(
                host.submit_many([envelope(tenant_id, eid, submit_expense(f"x{n}b"))], passing=True),
                host.submit(envelope(tenant_id, eid, submit_expense(f"x{n}a"))),
            )
            results = [*passing, normal]
            assert all(r.ok for r in results), [r.error for r in results]
            version, snapshot_at = _stored_snapshot_at(store, tenant_id, eid)
            assert version == 5 + 2 * n
            assert version - snapshot_at < SNAPSHOT_EVERY  # no snapshot write was skipped
            if host.residency.holds((tenant_id, eid)):
                assert host.residency.snapshot_at[(tenant_id, eid)] == snapshot_at
        assert host.residency.get((tenant_id, eid)) in (None, folded_journal(store, tenant_id, eid))
        assert reloaded(store, tenant_id, eid) == folded_journal(store, tenant_id, eid)
        assert host.residency.thaws > 0 and host.telemetry.activations > 6  # both paths were taken
        assert host.residency.evictions == 6  # evict_all's: a passing batch never held its loads
    finally:
        await host.close()


async def test_a_passing_command_keeps_an_engagement_a_normal_one_in_its_batch_uses(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store)
    try:
        eid = await _contracted(host, tenant_id, customer_id)
        host.evict_all()

        passed, used = await asyncio.gather(
            host.submit_many([envelope(tenant_id, eid, activate())], passing=True),
            host.submit(envelope(tenant_id, eid, submit_expense("x1"))),
        )

        assert passed[0].ok and used.ok and host.batches_committed == 2  # one batch for both
        assert host.residency.get((tenant_id, eid)) == folded_journal(store, tenant_id, eid)
    finally:
        await host.close()


async def test_commands_passing_through_do_not_push_the_engagements_in_use_out_of_live_memory(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, max_resident=2)
    try:
        passed = [await _contracted(host, tenant_id, customer_id) for _ in range(2)]
        in_use = [await _contracted(host, tenant_id, customer_id) for _ in range(2)]
        for eid in passed:
            host.residency.forget((tenant_id, eid))
        assert [host.resident_count, host.residency.hibernating_count] == [2, 0]
        hibernations = host.residency.hibernations

        results = await host.submit_many(
            [envelope(tenant_id, eid, activate()) for eid in passed], passing=True
        )

        assert all(r.engagement is not None and r.engagement.version == 5 for r in results)
        assert [host.resident_count, host.residency.hibernating_count] == [2, 0]
        assert host.residency.hibernations == hibernations  # nobody in use was frozen for them
        assert all(host.residency.get((tenant_id, eid)) is not None for eid in in_use)
        assert not any(host.residency.holds((tenant_id, eid)) for eid in passed)
    finally:
        await host.close()


async def test_a_passing_batch_with_an_unreadable_engagement_still_keeps_none_it_loaded(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store)
    try:
        bad, passed = [await _contracted(host, tenant_id, customer_id) for _ in range(2)]
        with store.engine.begin() as conn:  # neither its snapshot nor its journal decodes now
            conn.execute(
                text("UPDATE engagements SET snapshot = :snap WHERE tenant_id = :t AND engagement_id = :e"),
                {"snap": json.dumps({"bogus": 1}), "t": tenant_id, "e": bad},
            )
            conn.execute(
                text("UPDATE events SET payload = :p WHERE tenant_id = :t AND stream_id = :s AND seq = 2"),
                {"p": json.dumps({"type": "EngagementQualified", "x": 1}), "t": tenant_id, "s": bad},
            )
        host.evict_all()

        refused, done = await host.submit_many(
            [envelope(tenant_id, eid, activate()) for eid in (bad, passed)], passing=True
        )

        assert refused.error is not None and done.engagement is not None
        assert done.engagement.version == 5
        assert host.resident_count == 0 and host.residency.hibernating_count == 0
        assert host.residency.snapshot_at == {}
    finally:
        await host.close()
