"""`q2c reconcile` against a real server, with and without an ERP (the simulator, its own process)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from clients.cli import main
from q2c_core.adapters.erp.simulator_connectors import SimulatorErp, simulator_connectors
from q2c_core.adapters.store import Store
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.runtime import LocalRuntime
from simulator.client import SimulatorClient
from tests import credentials
from tests.cli.conftest import Cli, Run, ThreadedServer
from tests.conftest_db import new_tenant_id
from tests.integration.reconciliation_setup import Billed, posted_with_payment
from tests.simulator.conftest import RunningSimulator, launch, sim  # noqa: F401  (fixtures)


class ErpServer(ThreadedServer):
    """The CLI test server, reconciling with the simulator at `erp_url`."""

    def __init__(self, database_url: str, erp_url: str) -> None:
        super().__init__(database_url)
        self.erp_url = erp_url

    async def runtime(self, store: Store) -> LocalRuntime:
        """LocalRuntime delivering to (and reconciling with) the simulator's ERP."""
        return LocalRuntime(
            store, delivery=DeliveryConfig(erp_url=self.erp_url), connectors=simulator_connectors
        )


@pytest.fixture
def erp_target(database_url: str, sim: RunningSimulator) -> Iterator[str]:  # noqa: F811
    """A server with an ERP, for one test."""
    running = ErpServer(database_url, sim.url).start()
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.stop()


def billed_in_erp(database_url: str, sim: RunningSimulator, tenant_id: str) -> Billed:  # noqa: F811
    """An issued, partly paid invoice posted with its payment (built beside the server)."""

    async def build() -> Billed:
        store = Store.open(database_url)
        runtime = LocalRuntime(store)
        try:
            erp = SimulatorErp(SimulatorClient(sim.url, timeout=5.0))
            return await posted_with_payment(runtime, erp, tenant_id)
        finally:
            await runtime.close()
            store.close()

    return asyncio.run(build())


def reconcile(capsys: pytest.CaptureFixture[str], target: str, tenant_id: str, *args: str) -> Run:
    """`q2c --target T --token <token for tenant X> reconcile ARGS...`."""
    code = main(["--target", target, "--token", credentials.token(tenant_id), "reconcile", *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def test_reconcile_without_an_erp_fails_with_its_reason(cli: Cli) -> None:
    run = cli("reconcile")
    assert run.code == 5
    assert "ERP_NOT_CONFIGURED" in run.err


def test_reconcile_prints_that_the_books_agree_and_exits_0(
    erp_target: str,
    database_url: str,
    sim: RunningSimulator,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant_id = new_tenant_id()
    billed_in_erp(database_url, sim, tenant_id)
    run = reconcile(capsys, erp_target, tenant_id)
    assert run.code == 0, run.err
    assert "agree" in run.out and "invoices checked" in run.out


def test_reconcile_json_reports_mismatches_and_exits_9(
    erp_target: str,
    database_url: str,
    sim: RunningSimulator,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant_id = new_tenant_id()
    billed = billed_in_erp(database_url, sim, tenant_id)
    sim.client.tamper("payment", billed.payment_key, fields={"amount": "49.99"})
    run = reconcile(capsys, erp_target, tenant_id, "--json", "--grace-seconds", "0")
    assert run.code == 9, run.err
    report = run.json()
    assert report["grace_period"] == "0s"
    (mismatch,) = report["mismatches"]
    assert mismatch["kind"] == "RECONCILIATION_MISMATCH_KIND_PAYMENT_AMOUNT_DIFFERS"
    assert mismatch["payment_id"] == billed.payment.payment_id
    assert mismatch["exception_id"] and report["exceptions_raised"] == 1
    table = reconcile(capsys, erp_target, tenant_id)
    assert table.code == 9 and "PAYMENT_AMOUNT_DIFFERS" in table.out and "(already open)" in table.out


def test_reconcile_with_a_negative_grace_is_invalid(
    erp_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = reconcile(capsys, erp_target, new_tenant_id(), "--grace-seconds", "-5")
    assert run.code == 3
    assert "grace_period" in run.err
