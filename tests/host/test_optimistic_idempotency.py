"""The optimistic idempotency path: a batch is decided without looking its request ids up, and
decided again with the lookup only when the store refuses one as stored (DuplicateRequestId)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app import commands
from q2c_core.app.host import EngagementHost
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import audit_of, cancel, create, envelope, new_id, qualify, submit_on_new_host


def _recorded(store: Store, monkeypatch: pytest.MonkeyPatch, method: str) -> list[list[str]]:
    """The ids (sorted) of every `store.<method>(tenant_id, ids)` call from now on."""
    asked: list[list[str]] = []
    real = getattr(store, method)

    def spy(tenant_id: str, ids: Sequence[str]) -> Any:
        asked.append(sorted(ids))
        return real(tenant_id, ids)

    monkeypatch.setattr(store, method, spy)
    return asked


@pytest.fixture
def lookups(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The request ids of every idempotency lookup the store is asked for."""
    return _recorded(store, monkeypatch, "find_idempotency")


@pytest.fixture
def loads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The engagement ids of every stream load (activation) the store is asked for."""
    return _recorded(store, monkeypatch, "load_streams")


async def test_new_request_ids_are_committed_without_a_lookup(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str, lookups: list[list[str]]
) -> None:
    first, second = new_id("eng"), new_id("eng")

    results = await host.submit_many(
        [
            envelope(tenant_id, first, create(customer_id), new_id("req")),
            envelope(tenant_id, second, create(customer_id), new_id("req")),
        ]
    )

    assert all(r.ok and not r.replayed for r in results)
    assert lookups == []
    assert len(store.read_events(tenant_id, first)) == len(store.read_events(tenant_id, second)) == 1


async def test_a_stored_request_id_makes_the_batch_decide_again_with_one_lookup(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str, lookups: list[list[str]]
) -> None:
    eid, other, rid, fresh = new_id("eng"), new_id("eng"), new_id("req"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    first = await host.submit(envelope(tenant_id, eid, qualify("go"), rid))
    committed = host.batches_committed

    again, created = await host.submit_many(
        [
            envelope(tenant_id, eid, qualify("go"), rid),
            envelope(tenant_id, other, create(customer_id), fresh),
        ]
    )

    assert again.ok and again.replayed and again.engagement == first.engagement
    assert created.ok and not created.replayed
    assert lookups == [sorted([rid, fresh])]  # the whole batch at once, not one by one
    assert host.batches_committed == committed + 1
    assert [e.seq for e in store.read_events(tenant_id, eid)] == [1, 2]
    assert len(store.read_events(tenant_id, other)) == 1
    assert [a.command_type for a in audit_of(store, tenant_id, eid)] == [
        "CreateEngagement",
        "QualifyEngagement",
    ]


async def test_reused_ids_in_a_fallback_batch_are_still_refused(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    assert (await host.submit(envelope(tenant_id, eid, qualify("first"), rid))).ok

    reused, replayed = await host.submit_many(
        [
            envelope(tenant_id, eid, qualify("second"), rid),
            envelope(tenant_id, eid, qualify("first"), rid),
        ]
    )

    assert reused.error is not None and reused.error.kind is ErrorKind.REQUEST_ID_REUSED
    assert replayed.ok and replayed.replayed
    assert len(store.read_events(tenant_id, eid)) == 2


async def test_a_stored_request_whose_fresh_decision_is_not_remembered_is_replayed(
    host: EngagementHost,
    store: Store,
    tenant_id: str,
    customer_id: str,
    lookups: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An internal error is not remembered (no idempotency record, so no unique key to trip
    at commit): the request id is looked up before the commit, and the stored reply wins."""
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    first = await host.submit(envelope(tenant_id, eid, cancel(), rid))

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in decide")

    monkeypatch.setattr(commands, "decide", broken)
    again = await host.submit(envelope(tenant_id, eid, cancel(), rid))

    assert first.ok and again.ok and again.replayed
    assert again.engagement == first.engagement
    assert lookups == [[rid]]
    assert len(audit_of(store, tenant_id, eid)) == 2


async def test_after_a_batch_of_stored_requests_the_next_batch_looks_up_first(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str, lookups: list[list[str]]
) -> None:
    """A re-run (every request id stored) does not decide every batch twice: once one batch
    found stored requests, the next is looked up before deciding, until a lookup finds none."""
    eids, rids = [new_id("eng") for _ in range(3)], [new_id("req") for _ in range(3)]
    for eid, rid in zip(eids, rids, strict=True):
        assert (await host.submit(envelope(tenant_id, eid, create(customer_id), rid))).ok
    replays = [
        await host.submit(envelope(tenant_id, eid, create(customer_id), rid))
        for eid, rid in zip(eids, rids, strict=True)
    ]
    fresh = await host.submit(envelope(tenant_id, new_id("eng"), create(customer_id), new_id("req")))
    last = await host.submit(envelope(tenant_id, new_id("eng"), create(customer_id), new_id("req")))

    assert all(r.ok and r.replayed for r in replays) and fresh.ok and last.ok
    # the first replay: decided optimistically, refused at commit, looked up; the next two and
    # the fresh request: looked up first; the last: optimistic again (the fresh one found none)
    assert len(lookups) == 4


async def test_an_engagement_a_command_creates_is_not_looked_for(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str, loads: list[list[str]]
) -> None:
    first, second = new_id("eng"), new_id("eng")

    results = await host.submit_many(
        [
            envelope(tenant_id, first, create(customer_id), new_id("req")),
            envelope(tenant_id, second, create(customer_id)),
            envelope(tenant_id, second, qualify("at once")),
        ]
    )

    assert all(r.ok and not r.replayed for r in results)
    assert loads == []
    assert [e.seq for e in store.read_events(tenant_id, second)] == [1, 2]


async def test_a_create_retried_on_a_host_that_does_not_hold_it_replays_and_writes_nothing(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    first = await host.submit(envelope(tenant_id, eid, create(customer_id), rid))
    events, audit = store.read_events(tenant_id, eid), audit_of(store, tenant_id, eid)

    again = await submit_on_new_host(store, envelope(tenant_id, eid, create(customer_id), rid))

    assert first.ok and again.ok and again.replayed
    assert again.engagement == first.engagement
    assert store.read_events(tenant_id, eid) == events
    assert audit_of(store, tenant_id, eid) == audit


async def test_creating_a_stored_engagement_on_a_host_that_does_not_hold_it_is_refused_as_on_one_that_does(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = new_id("eng")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id), new_id("req")))).ok
    again = create(customer_id, "again")
    held = await host.submit(envelope(tenant_id, eid, again, new_id("req")))

    unheld = await submit_on_new_host(store, envelope(tenant_id, eid, again, new_id("req")))

    assert held.error is not None and unheld.error is not None
    assert (unheld.error.kind, unheld.error.reason) == (held.error.kind, held.error.reason)
    assert [e.seq for e in store.read_events(tenant_id, eid)] == [1]
    assert [a.outcome for a in audit_of(store, tenant_id, eid)] == ["ACCEPTED", "REJECTED", "REJECTED"]
