"""A flood of refusals writes at most burst + rate x elapsed rows; the next row counts what was dropped."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import grpc
import pytest

from q2c.v1 import customer_pb2, customer_pb2_grpc
from q2c_core.adapters.store import Store
from q2c_core.app.records import SecurityEventRow
from q2c_core.edge.auth import security_log
from q2c_core.edge.auth.security_log import SecurityLog
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.security.probes import security_events
from tests.security.servers import serving

FLOOD = 300


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every SecurityLog built in the test runs its token bucket on a fake clock."""
    fake = FakeClock()
    monkeypatch.setattr(security_log, "monotonic", fake)
    return fake


async def _refuse(log: SecurityLog, tenant_id: str, n: int) -> None:
    await log.refused(
        method="/q2c.v1.CustomerService/GetCustomer",
        code="UNAUTHENTICATED",
        reason="TOKEN_INVALID",
        message="the token is malformed",
        peer="ipv4:192.0.2.1:1",
        correlation_id=f"flood-{n}",
        tenant_id=tenant_id,
    )


async def test_a_flood_at_one_instant_writes_the_burst_and_the_next_row_counts_the_rest(
    store: Store, clock: FakeClock
) -> None:
    tenant_id = new_tenant_id()
    log = SecurityLog(store, rate=10.0, burst=5)
    for n in range(FLOOD):
        await _refuse(log, tenant_id, n)
    written = security_events(store, tenant_id)
    assert len(written) == 5
    assert [e.suppressed_before for e in written] == [0] * 5
    clock.now += 0.1  # one token at 10 per second
    await _refuse(log, tenant_id, FLOOD)
    newest = security_events(store, tenant_id)[0]
    assert (newest.correlation_id, newest.suppressed_before) == (f"flood-{FLOOD}", FLOOD - 5)


async def test_rows_over_time_never_exceed_burst_plus_rate_times_elapsed(
    store: Store, clock: FakeClock
) -> None:
    tenant_id = new_tenant_id()
    rate, burst = 20.0, 10
    log = SecurityLog(store, rate=rate, burst=burst)
    for n in range(FLOOD):
        clock.now += 0.01  # 300 refusals over 3 seconds
        await _refuse(log, tenant_id, n)
    written = security_events(store, tenant_id)
    assert len(written) <= burst + rate * 3.0
    assert len(written) >= rate * 3.0  # the limit admits its rate, it does not go silent
    assert len(written) + sum(e.suppressed_before for e in written) <= FLOOD


class FailingOnce:
    """A store whose first security-event write fails."""

    def __init__(self, store: Store) -> None:
        self.store, self.failed = store, False

    def record_security_event(self, row: SecurityEventRow) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("disk full")
        self.store.record_security_event(row)


async def test_a_refusal_the_store_could_not_take_is_counted_on_the_next_row(
    store: Store, clock: FakeClock
) -> None:
    tenant_id = new_tenant_id()
    log = SecurityLog(FailingOnce(store), rate=10.0, burst=5)  # type: ignore[arg-type]
    await _refuse(log, tenant_id, 0)  # never raises
    await _refuse(log, tenant_id, 1)
    [written] = security_events(store, tenant_id)
    assert (written.correlation_id, written.suppressed_before) == ("flood-1", 1)


async def _flood(port: int, prefix: str) -> list[grpc.StatusCode]:
    """FLOOD calls without credentials, 50 at a time; the code each one got."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        customers = customer_pb2_grpc.CustomerServiceStub(channel)

        async def bad_call(n: int) -> grpc.StatusCode:
            metadata = (("x-correlation-id", f"{prefix}{n}"),)
            try:
                await customers.ListCustomers(
                    customer_pb2.ListCustomersRequest(), metadata=metadata, timeout=10
                )
            except grpc.aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

        codes: list[grpc.StatusCode] = []
        for chunk in range(0, FLOOD, 50):
            codes += await asyncio.gather(*(bad_call(n) for n in range(chunk, chunk + 50)))
        return codes


async def test_a_real_server_flooded_with_bad_calls_keeps_within_the_bound(store: Store) -> None:
    rate, burst = 5.0, 10
    security = dataclasses.replace(
        credentials.security(store), security_log=SecurityLog(store, rate=rate, burst=burst)
    )
    prefix = f"flood-{new_tenant_id()}-"
    async with serving(store, security) as gateway:
        started = time.monotonic()
        codes = await _flood(gateway.port, prefix)
        elapsed = time.monotonic() - started
    assert set(codes) == {grpc.StatusCode.UNAUTHENTICATED}
    written = [e for e in security_events(store, "") if e.correlation_id.startswith(prefix)]
    assert 1 <= len(written) <= burst + rate * elapsed
    assert burst + rate * elapsed < FLOOD, "the flood was too slow to test the limit"
