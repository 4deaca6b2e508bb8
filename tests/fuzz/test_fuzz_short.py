"""The short fuzz run for CI: ~1,000 hostile requests across every RPC, on SQLite and PostgreSQL.

Replay a failure with its seed: Q2C_FUZZ_SEED=<seed> pytest tests/fuzz/test_fuzz_short.py.
The long run (>= 10,000 requests against server.py) is bench/fuzz.py.
"""

from __future__ import annotations

import os

import grpc

from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.fuzz.catalog import all_rpcs
from tests.fuzz.fuzzer import FuzzConfig, describe, fuzz

SEED = int(os.environ.get("Q2C_FUZZ_SEED", "20261122"))
REQUESTS = int(os.environ.get("Q2C_FUZZ_REQUESTS", "1000"))


async def test_hostile_requests_leave_no_internal_error_and_every_entity_readable(
    channel: grpc.aio.Channel, database_url: str
) -> None:
    tenant = new_tenant_id()
    config = FuzzConfig(seed=SEED, requests=REQUESTS, database_url=database_url, tenant_id=tenant)
    report = await fuzz(channel, lambda principal: credentials.bearer(tenant, principal), config)
    print(describe(report))
    assert report.requests == REQUESTS
    assert report.ok, describe(report)


def test_the_fuzzer_covers_every_rpc_of_every_service() -> None:
    names = {rpc.path for rpc in all_rpcs()}
    assert len(names) >= 50
    assert {"/q2c.v1.EventService/SubscribeEvents", "/q2c.v1.BillingService/WatchBillRun"} <= names
