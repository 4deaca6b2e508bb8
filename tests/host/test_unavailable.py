"""Store outages reach callers as UNAVAILABLE results, never as exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from q2c_core.adapters.store import Store, StoreUnavailable, WriteBatch, make_engine
from q2c_core.app.host import EngagementHost
from q2c_core.app.records import AuditRecord
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import audit_of, create, envelope, new_id, qualify


class FlakyStore(Store):
    """A Store whose commits fail as unavailable while `down` is set."""

    down = False

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        if self.down:
            raise StoreUnavailable("connection refused")
        return super().commit(batch)


@pytest.fixture
def missing_database(database_url: str, tmp_path: Path) -> Iterator[Store]:
    """A Store whose URL names a database that does not exist (nothing is migrated)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'q2c.db'}"
    else:
        url = (
            make_url(database_url)
            .set(database=f"q2c_missing_{new_id('db')}")
            .render_as_string(hide_password=False)
        )
    store = Store(make_engine(url))
    yield store
    store.close()


async def test_a_missing_database_yields_unavailable_results(missing_database: Store, tenant_id: str) -> None:
    host = EngagementHost(missing_database)
    try:
        results = await asyncio.gather(
            host.submit(envelope(tenant_id, new_id("eng"), create("c-1"))),
            host.submit(envelope(tenant_id, new_id("eng"), qualify(), new_id("req"))),
        )
    finally:
        await host.close()
    for result in results:
        assert result.error is not None
        assert (result.error.kind, result.error.reason) == (ErrorKind.UNAVAILABLE, "STORE_UNAVAILABLE")
        assert not result.replayed and result.engagement is None
    assert host.batches_committed == 0 and host.resident_count == 0


async def test_the_local_runtime_reports_a_missing_database_as_unavailable(
    missing_database: Store, tenant_id: str
) -> None:
    runtime = LocalRuntime(missing_database)
    try:
        result = await runtime.execute(envelope(tenant_id, new_id("eng"), create("c-1")))
        assert result.error is not None and result.error.kind is ErrorKind.UNAVAILABLE
        assert await runtime.healthy()
    finally:
        await runtime.close()
    assert not await runtime.healthy()


async def test_an_outage_at_commit_writes_nothing_and_the_next_command_sees_the_truth(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    flaky = FlakyStore(store.engine)
    host = EngagementHost(flaky)
    try:
        eid = new_id("eng")
        assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
        flaky.down = True
        failed = await host.submit(envelope(tenant_id, eid, qualify(), new_id("req")))
        assert failed.error is not None and failed.error.kind is ErrorKind.UNAVAILABLE
        assert host.resident_count == 0
        assert len(store.read_events(tenant_id, eid)) == 1
        assert len(audit_of(store, tenant_id, eid)) == 1

        flaky.down = False
        retried = await host.submit(envelope(tenant_id, eid, qualify()))
        assert retried.engagement is not None and retried.engagement.version == 2
    finally:
        await host.close()


async def test_a_retry_with_the_same_request_id_after_an_outage_is_not_a_replay(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    flaky = FlakyStore(store.engine)
    host = EngagementHost(flaky)
    try:
        eid, rid = new_id("eng"), new_id("req")
        flaky.down = True
        assert (await host.submit(envelope(tenant_id, eid, create(customer_id), rid))).error is not None
        flaky.down = False
        retried = await host.submit(envelope(tenant_id, eid, create(customer_id), rid))
        assert retried.ok and not retried.replayed
    finally:
        await host.close()


async def test_a_host_keeps_working_after_its_engine_pool_is_disposed(
    host: EngagementHost, store: Store, database_url: str, tenant_id: str, customer_id: str
) -> None:
    own = Store.open(database_url, migrate=False)
    other = EngagementHost(own)
    try:
        eid = new_id("eng")
        assert (await other.submit(envelope(tenant_id, eid, create(customer_id)))).ok
        own.close()  # dispose() drops pooled connections; the engine reconnects on demand
        other.evict_all()
        qualified = await other.submit(envelope(tenant_id, eid, qualify()))
        assert qualified.engagement is not None and qualified.engagement.version == 2
    finally:
        await other.close()
        own.close()


async def test_a_closed_host_refuses_new_commands_without_raising(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store)
    await host.close()
    result = await host.submit(envelope(tenant_id, new_id("eng"), create(customer_id)))
    assert result.error is not None
    assert (result.error.kind, result.error.reason) == (ErrorKind.UNAVAILABLE, "HOST_CLOSED")


async def test_close_finishes_the_work_already_queued(store: Store, tenant_id: str, customer_id: str) -> None:
    host = EngagementHost(store)
    *results, _ = await asyncio.gather(
        *(host.submit(envelope(tenant_id, new_id("eng"), create(customer_id))) for _ in range(5)),
        host.close(),  # scheduled after the submissions: they are queued when it starts
    )
    assert all(r is not None and r.ok for r in results)
    assert len(store.list_engagements(tenant_id).items) == 5
    assert host.closed
