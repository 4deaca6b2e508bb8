"""ERP reconciliation against a real simulator process, over LocalRuntime (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from q2c_core.adapters.erp.simulator_connectors import SimulatorErp
from q2c_core.adapters.erp.simulator_payloads import invoice_json
from q2c_core.adapters.store import Store
from q2c_core.app.messages import Caller
from q2c_core.app.reads import Queries
from q2c_core.app.reconciliation.requests import AUDIT_STREAM, run_requested
from q2c_core.app.reconciliation.service import (
    PRINCIPAL,
    Reconciler,
    ReconciliationReport,
    reconcile_periodically,
)
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import ExceptionState, OwnerQueue, Severity
from q2c_core.domain.errors import RequestIdReusedError, UnavailableError
from q2c_core.domain.invoices import ReconciliationMismatch as M
from q2c_core.domain.reconciliation import RECONCILIATION_CHECK
from tests.host.helpers import audit_of, new_id
from tests.integration.reconciliation_setup import (
    Billed,
    issued_invoice,
    post_invoice,
    posted_with_payment,
    run,
)
from tests.simulator.conftest import RunningSimulator

pytestmark = pytest.mark.timeout(120)
Make = Callable[..., Reconciler]


@pytest.fixture
async def runtime(store: Store) -> AsyncIterator[LocalRuntime]:
    """An in-process runtime over the module's database (no delivery worker)."""
    rt = LocalRuntime(store)
    yield rt
    await rt.close()


@pytest.fixture
def make(store: Store, erp: SimulatorErp, runtime: LocalRuntime) -> Make:
    """A Reconciler over the simulator, its clock `ahead` of the wall clock."""

    def build(ahead: timedelta = timedelta(0)) -> Reconciler:
        return Reconciler(store, erp, runtime.execute, clock=lambda: datetime.now(UTC) + ahead)

    return build


def ops(tenant_id: str) -> Caller:
    """The caller a reconciliation runs for."""
    return Caller(tenant_id=tenant_id, principal="ops@example.com", correlation_id=new_id("corr"))


async def reconcile(reconciler: Reconciler, tenant_id: str) -> ReconciliationReport:
    """One run under a fresh reconciliation id."""
    return await reconciler.run(ops(tenant_id), new_id("rec"))


def kinds(report: ReconciliationReport) -> list[tuple[M, str]]:
    """(mismatch, payment id) of every mismatch reported."""
    return [(m.mismatch, m.payment_id) for m in report.mismatches]


def open_reconciliation_exceptions(store: Store, billed: Billed) -> list[tuple[str, list[str]]]:
    """(exception id, item ids) of the engagement's open reconciliation exceptions."""
    page = Queries(store).list_exceptions(
        billed.tenant_id, ExceptionState.OPEN, None, billed.engagement_id, 100, ""
    )
    found = [x for x in page.items if x.check == RECONCILIATION_CHECK]
    assert all((x.severity, x.owner_queue) == (Severity.REVIEW, OwnerQueue.FINANCE_OPS) for x in found)
    return [(x.exception_id, x.item_ids) for x in found]


async def test_books_that_agree_report_no_mismatch(
    runtime: LocalRuntime, erp: SimulatorErp, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    report = await reconcile(make(), tenant_id)
    assert report.mismatches == []
    assert (report.invoices_checked, report.payments_checked, report.erp_documents_read) == (1, 1, 2)
    assert report.tenant_id == tenant_id and report.start_time <= report.finish_time
    assert open_reconciliation_exceptions(runtime.store, billed) == []


async def test_a_changed_total_raises_one_amount_exception_and_a_second_run_none(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.tamper("invoice", billed.invoice_key, fields={"total": "131.20"})
    first = await reconcile(make(), tenant_id)
    assert kinds(first) == [(M.AMOUNT_DIFFERS, "")]
    mismatch = first.mismatches[0]
    assert mismatch.q2c_amount is not None and str(mismatch.q2c_amount.amount) == "131.19"
    assert [(d.document_number, d.amount, d.currency) for d in mismatch.erp_documents] == [
        ("INV-000001", "131.20", "USD")
    ]
    opened = open_reconciliation_exceptions(runtime.store, billed)
    assert [(x, ids[:2]) for x, ids in opened] == [
        (mismatch.exception_id, [billed.invoice.invoice_id, "AMOUNT_DIFFERS"])
    ]
    second = await reconcile(make(), tenant_id)
    assert kinds(second) == [(M.AMOUNT_DIFFERS, "")]
    assert second.mismatches[0].exception_id == ""  # finance already has it
    assert len(open_reconciliation_exceptions(runtime.store, billed)) == 1


async def test_a_second_document_naming_the_invoice_is_a_duplicate(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.post_invoice("another-key", invoice_json(billed.invoice))
    report = await reconcile(make(), tenant_id)
    assert kinds(report) == [(M.DUPLICATE_IN_ERP, "")]
    numbers = [d.document_number for d in report.mismatches[0].erp_documents]
    assert numbers == ["INV-000001", "INV-000002"]
    assert report.mismatches[0].exception_id
    assert len(open_reconciliation_exceptions(runtime.store, billed)) == 1


async def test_a_deleted_posted_invoice_is_missing_at_once(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.tamper("invoice", billed.invoice_key, delete=True)
    report = await reconcile(make(), tenant_id)
    assert kinds(report) == [(M.MISSING_IN_ERP, "")]
    assert "INV-000001" in report.mismatches[0].detail
    assert report.mismatches[0].exception_id


async def test_a_tampered_payment_amount_differs(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.tamper("payment", billed.payment_key, fields={"amount": "5.00"})
    report = await reconcile(make(), tenant_id)
    assert kinds(report) == [(M.PAYMENT_AMOUNT_DIFFERS, billed.payment.payment_id)]
    assert [d.amount for d in report.mismatches[0].erp_documents] == ["5.00"]
    assert open_reconciliation_exceptions(runtime.store, billed)[0][1][:2] == [
        billed.invoice.invoice_id,
        "PAYMENT_AMOUNT_DIFFERS",
    ]


async def test_an_unposted_invoice_is_in_flight_until_the_grace_period_ends(
    runtime: LocalRuntime, make: Make, tenant_id: str
) -> None:
    await issued_invoice(runtime, tenant_id, paid=None)
    assert (await reconcile(make(), tenant_id)).mismatches == []
    late = await reconcile(make(ahead=timedelta(hours=2)), tenant_id)
    assert kinds(late) == [(M.MISSING_IN_ERP, "")]
    assert "grace" in late.mismatches[0].detail


async def test_a_payment_never_posted_is_missing_after_the_grace_period(
    runtime: LocalRuntime, erp: SimulatorErp, make: Make, tenant_id: str
) -> None:
    billed = await issued_invoice(runtime, tenant_id)
    await post_invoice(runtime, erp, billed)
    assert (await reconcile(make(), tenant_id)).mismatches == []
    late = await reconcile(make(ahead=timedelta(hours=2)), tenant_id)
    assert kinds(late) == [(M.PAYMENT_MISSING_IN_ERP, billed.payment.payment_id)]


async def test_payments_of_an_invoice_missing_in_the_erp_are_not_reported_twice(
    runtime: LocalRuntime, make: Make, tenant_id: str
) -> None:
    await issued_invoice(runtime, tenant_id)
    late = await reconcile(make(ahead=timedelta(hours=2)), tenant_id)
    assert kinds(late) == [(M.MISSING_IN_ERP, "")]


async def test_documents_of_the_tenants_engagements_that_q2c_lacks_are_unknown(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    stray = f"{billed.engagement_id}.inv.9"
    sim.client.post_invoice(
        "stray", {"invoice_id": stray, "engagement_id": billed.engagement_id, "total": "1"}
    )
    sim.client.post_invoice("foreign", {"invoice_id": "other-eng.inv.1", "engagement_id": "other-eng"})
    sim.client.post_payment("p-stray", {"invoice_id": billed.invoice.invoice_id, "payment_id": "pay-x"})
    report = await reconcile(make(), tenant_id)
    assert sorted(kinds(report)) == [(M.UNKNOWN_IN_Q2C, ""), (M.UNKNOWN_IN_Q2C, "pay-x")]
    assert {m.invoice_id for m in report.mismatches} == {stray, billed.invoice.invoice_id}
    assert all(m.engagement_id == billed.engagement_id for m in report.mismatches)
    raised = [m.exception_id for m in report.mismatches]
    assert all(raised)  # one per invoice: the stray invoice's and the stray payment's


async def test_void_invoices_and_their_documents_are_skipped(
    runtime: LocalRuntime, erp: SimulatorErp, make: Make, tenant_id: str
) -> None:
    billed = await issued_invoice(runtime, tenant_id, paid=None)
    await post_invoice(runtime, erp, billed)
    void = cmd.VoidInvoice(invoice_id=billed.invoice.invoice_id, reason="wrong customer")
    await run(runtime, tenant_id, billed.engagement_id, void)
    report = await reconcile(make(ahead=timedelta(hours=2)), tenant_id)
    assert (report.mismatches, report.invoices_checked) == ([], 0)


async def test_rerunning_the_same_reconciliation_replays_and_still_names_its_exceptions(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.tamper("invoice", billed.invoice_key, delete=True)
    reconciler, caller = make(), ops(tenant_id)
    first = await reconciler.run(caller, "rec-same")
    again = await reconciler.run(caller, "rec-same")
    assert [m.exception_id for m in again.mismatches] == [m.exception_id for m in first.mismatches]
    assert first.mismatches[0].exception_id
    assert len(open_reconciliation_exceptions(runtime.store, billed)) == 1
    events = runtime.store.read_events(tenant_id, billed.engagement_id)
    raised = [e for e in events if e.event_type == "BusinessExceptionRaised" and e.principal == PRINCIPAL]
    assert len(raised) == 1 and raised[0].request_id == (
        f"reconcile:rec-same:{billed.invoice.invoice_id}:MISSING_IN_ERP"
    )


async def test_an_unreadable_erp_is_unavailable_and_raises_nothing(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await issued_invoice(runtime, tenant_id)
    sim.client.set_faults({"maintenance_seconds": 30})
    with pytest.raises(UnavailableError) as caught:
        await reconcile(make(ahead=timedelta(hours=2)), tenant_id)
    assert caught.value.reason == "ERP_UNAVAILABLE"
    assert caught.value.metadata == {
        "failure_kind": "RETRYABLE",
        "operation": "list_invoices",
        "http_status": "503",
    }
    assert open_reconciliation_exceptions(runtime.store, billed) == []


async def test_a_requested_run_is_idempotent_and_audited(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.tamper("invoice", billed.invoice_key, fields={"currency": "EUR"})
    reconciler, caller = make(), ops(tenant_id)
    first = await run_requested(reconciler, caller, "req-1", timedelta(minutes=5))
    sim.client.tamper("invoice", billed.invoice_key, delete=True)  # a replay does not look again
    assert await run_requested(reconciler, caller, "req-1", timedelta(minutes=5)) == first
    assert kinds(first) == [(M.AMOUNT_DIFFERS, "")] and first.grace_period == timedelta(minutes=5)
    with pytest.raises(RequestIdReusedError):
        await run_requested(reconciler, caller, "req-1", timedelta(minutes=6))
    (record,) = audit_of(runtime.store, tenant_id, AUDIT_STREAM)
    assert (record.command_type, record.request_id, record.outcome) == (
        "RunReconciliation",
        "req-1",
        "ACCEPTED",
    )
    assert record.principal == "ops@example.com"


async def test_periodic_reconciliation_raises_for_every_tenant_until_stopped(
    runtime: LocalRuntime, erp: SimulatorErp, sim: RunningSimulator, make: Make, tenant_id: str
) -> None:
    billed = await posted_with_payment(runtime, erp, tenant_id)
    sim.client.tamper("payment", billed.payment_key, delete=True)
    reconciler, stop = make(ahead=timedelta(hours=2)), asyncio.Event()
    assert tenant_id in reconciler.tenants()
    task = asyncio.create_task(reconcile_periodically(reconciler, lambda: [tenant_id], 0.05, stop))
    deadline = asyncio.get_running_loop().time() + 30
    while not open_reconciliation_exceptions(runtime.store, billed):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    (opened,) = open_reconciliation_exceptions(runtime.store, billed)
    assert opened[1][:2] == [billed.invoice.invoice_id, "PAYMENT_MISSING_IN_ERP"]
