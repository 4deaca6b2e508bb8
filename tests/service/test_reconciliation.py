"""ReconciliationService through the real gateway: errors, a run's report, and its replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2

from q2c.v1 import exception_pb2, exception_pb2_grpc, reconciliation_pb2_grpc
from q2c.v1 import reconciliation_pb2 as pb
from q2c_core.adapters.erp.simulator_connectors import SimulatorErp, simulator_connectors
from q2c_core.adapters.store import Store
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import start_server
from simulator.client import SimulatorClient
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.integration.reconciliation_setup import posted_with_payment
from tests.service.client import CALL_TIMEOUT, error_info, field_paths, rich_error, unpack
from tests.simulator.conftest import RunningSimulator, launch, sim  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)


@dataclass
class Served:
    """A gateway over LocalRuntime and the stubs a test needs, bound to one tenant."""

    runtime: LocalRuntime
    reconciliation: reconciliation_pb2_grpc.ReconciliationServiceStub
    exceptions: exception_pb2_grpc.ExceptionServiceStub
    tenant_id: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The tenant's call metadata: a controller's token."""
        return credentials.bearer(self.tenant_id, "controller@example.com")

    async def run(self, request: pb.RunReconciliationRequest) -> pb.ReconciliationReport:
        """RunReconciliation as the tenant."""
        call = self.reconciliation.RunReconciliation(request, metadata=self.metadata, timeout=CALL_TIMEOUT)
        return await call  # type: ignore[no-any-return]


async def _serve(runtime: LocalRuntime) -> AsyncIterator[Served]:
    gateway = await start_server(runtime, security=credentials.security(runtime.store))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            yield Served(
                runtime,
                reconciliation_pb2_grpc.ReconciliationServiceStub(channel),
                exception_pb2_grpc.ExceptionServiceStub(channel),
                new_tenant_id(),
            )
    finally:
        await gateway.stop(grace=1.0)
        await runtime.close()


@pytest.fixture
async def without_erp(store: Store) -> AsyncIterator[Served]:
    """A gateway whose server has no ERP configured."""
    async for served in _serve(LocalRuntime(store)):
        yield served


@pytest.fixture
async def with_erp(store: Store, sim: RunningSimulator) -> AsyncIterator[Served]:  # noqa: F811
    """A gateway reconciling with the simulator (no delivery worker: tests post themselves)."""
    async for served in _serve(
        LocalRuntime(store, delivery=DeliveryConfig(erp_url=sim.url), connectors=simulator_connectors)
    ):
        yield served


async def test_without_an_erp_the_run_is_a_failed_precondition(without_erp: Served) -> None:
    code, status = await rich_error(without_erp.run(pb.RunReconciliationRequest(request_id="r1")))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "ERP_NOT_CONFIGURED"
    (failure,) = unpack(status, error_details_pb2.PreconditionFailure)
    assert [v.type for v in failure.violations] == ["ERP_NOT_CONFIGURED"]


@pytest.mark.parametrize(
    "grace",
    [Duration(seconds=-1), Duration(seconds=367 * 86400), Duration(seconds=1, nanos=-5)],
    ids=["negative", "over-366-days", "mixed-signs"],
)
async def test_a_bad_grace_period_is_invalid_with_a_field_violation(
    with_erp: Served, grace: Duration
) -> None:
    request = pb.RunReconciliationRequest(request_id="r1", grace_period=grace)
    code, status = await rich_error(with_erp.run(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(status).reason == "VALIDATION_FAILED"
    assert field_paths(status) == ["grace_period"]


async def test_a_run_reports_the_mismatch_raises_one_exception_and_replays(
    with_erp: Served,
    sim: RunningSimulator,  # noqa: F811
) -> None:
    erp = SimulatorErp(SimulatorClient(sim.url, timeout=5.0))
    billed = await posted_with_payment(with_erp.runtime, erp, with_erp.tenant_id)
    sim.client.tamper("invoice", billed.invoice_key, fields={"total": "131.20"})
    request = pb.RunReconciliationRequest(request_id="r1", grace_period=Duration(seconds=600))
    report = await with_erp.run(request)
    assert (report.invoices_checked, report.payments_checked, report.erp_documents_read) == (1, 1, 2)
    assert (report.tenant_id, report.grace_period.seconds, report.exceptions_raised) == (
        with_erp.tenant_id,
        600,
        1,
    )
    (mismatch,) = report.mismatches
    assert mismatch.kind == pb.RECONCILIATION_MISMATCH_KIND_AMOUNT_DIFFERS
    assert (mismatch.engagement_id, mismatch.invoice_id, mismatch.payment_id) == (
        billed.engagement_id,
        billed.invoice.invoice_id,
        "",
    )
    assert (mismatch.q2c_amount.amount, mismatch.q2c_amount.currency_code) == ("131.19", "USD")
    assert [(d.document_number, d.amount.amount) for d in mismatch.erp_documents] == [
        ("INV-000001", "131.20")
    ]
    assert report.start_time.ToDatetime() <= report.finish_time.ToDatetime()

    sim.client.tamper("invoice", billed.invoice_key, delete=True)
    assert await with_erp.run(request) == report  # the stored report: the ERP is not read again

    listed = await with_erp.exceptions.ListExceptions(
        exception_pb2.ListExceptionsRequest(engagement_id=billed.engagement_id),
        metadata=with_erp.metadata,
        timeout=CALL_TIMEOUT,
    )
    (exception,) = [x for x in listed.exceptions if x.check == "ERP_RECONCILIATION"]
    assert exception.exception_id == mismatch.exception_id
    assert exception.owner_queue == exception_pb2.OWNER_QUEUE_FINANCE_OPS
    assert exception.severity == exception_pb2.EXCEPTION_SEVERITY_REVIEW


async def test_the_same_request_id_with_another_grace_period_is_reused(with_erp: Served) -> None:
    await with_erp.run(pb.RunReconciliationRequest(request_id="r1"))
    code, status = await rich_error(
        with_erp.run(pb.RunReconciliationRequest(request_id="r1", grace_period=Duration(seconds=1)))
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(status).reason == "REQUEST_ID_REUSED"


async def test_an_unreadable_erp_is_unavailable(with_erp: Served, sim: RunningSimulator) -> None:  # noqa: F811
    sim.client.set_faults({"maintenance_seconds": 30})
    code, status = await rich_error(with_erp.run(pb.RunReconciliationRequest(request_id="r1")))
    assert code == grpc.StatusCode.UNAVAILABLE
    info = error_info(status)
    assert (info.reason, info.metadata["http_status"], info.metadata["failure_kind"]) == (
        "ERP_UNAVAILABLE",
        "503",
        "RETRYABLE",
    )
