"""Deadlines checked again before expensive work: a caller with too little time left gets
DEADLINE_EXCEEDED (DEADLINE_TOO_SHORT) and nothing is started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from sqlalchemy import func, select

from q2c.v1 import audit_pb2, audit_pb2_grpc, billing_pb2, billing_pb2_grpc, common_pb2
from q2c_core.adapters.store import Store
from q2c_core.adapters.store import schema as s
from q2c_core.domain.errors import DeadlineExceededError
from q2c_core.edge import deadlines
from q2c_core.edge.app import GatewayServer
from q2c_core.edge.limits import ServerLimits
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.limits.conftest import serving
from tests.security.probes import row_counts
from tests.service.client import error_info, rich_error, rid


def test_require_time_passes_without_a_deadline_or_with_enough_time() -> None:
    async def check() -> None:
        deadlines.set_deadline(None)
        deadlines.require_time("anything", 3600.0)
        deadlines.set_deadline(10.0)
        deadlines.require_time("a bill run start", deadlines.START_BILL_RUN_SECONDS)

    asyncio.run(check())


def test_require_time_refuses_work_that_cannot_finish_in_time() -> None:
    async def check() -> None:
        deadlines.set_deadline(0.2)
        with pytest.raises(DeadlineExceededError) as refused:
            deadlines.require_time("a bill run start", 1.0)
        error = refused.value
        assert error.reason == "DEADLINE_TOO_SHORT"
        assert error.metadata["work"] == "a bill run start" and error.metadata["needed_ms"] == "1000"
        assert 0 <= int(error.metadata["remaining_ms"]) <= 200

    asyncio.run(check())


@pytest.fixture(scope="module")
async def gateway(store: Store) -> AsyncIterator[tuple[GatewayServer, aio.Channel]]:
    async with serving(store, ServerLimits()) as served:
        yield served


def bill_runs(store: Store, tenant: str) -> int:
    with store.engine.connect() as conn:
        query = select(func.count()).select_from(s.bill_runs).where(s.bill_runs.c.tenant_id == tenant)
        return int(conn.execute(query).scalar_one())


async def test_a_bill_run_is_not_started_for_a_caller_about_to_give_up(
    gateway: tuple[GatewayServer, aio.Channel], store: Store
) -> None:
    tenant = new_tenant_id()
    billing = billing_pb2_grpc.BillingServiceStub(gateway[1])
    request = billing_pb2.StartBillRunRequest(
        request_id=rid(), period=common_pb2.BillingPeriod(month="2025-03")
    )
    before = row_counts(store, tenant)

    code, status = await rich_error(
        billing.StartBillRun(request, metadata=credentials.bearer(tenant), timeout=0.5)
    )

    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    info = error_info(status)
    assert info.reason == "DEADLINE_TOO_SHORT" and info.metadata["work"] == "a bill run start"
    assert bill_runs(store, tenant) == 0
    assert row_counts(store, tenant) == before  # no audit record either: nothing happened
    started = await billing.StartBillRun(request, metadata=credentials.bearer(tenant), timeout=20)
    assert started.bill_run_id and bill_runs(store, tenant) == 1


@pytest.mark.parametrize("method", ["VerifyAuditLog", "CreateAuditCheckpoint"])
async def test_audit_work_is_not_started_for_a_caller_about_to_give_up(
    gateway: tuple[GatewayServer, aio.Channel], method: str
) -> None:
    audit = audit_pb2_grpc.AuditServiceStub(gateway[1])
    request = (
        audit_pb2.VerifyAuditLogRequest()
        if method == "VerifyAuditLog"
        else audit_pb2.CreateAuditCheckpointRequest(request_id=rid())
    )
    call = getattr(audit, method)(request, metadata=credentials.bearer(new_tenant_id()), timeout=0.1)
    code, status = await rich_error(call)
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(status).reason == "DEADLINE_TOO_SHORT"
