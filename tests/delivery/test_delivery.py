"""The delivery worker against a real simulator process: every item delivered exactly once.

The simulator's own store is the witness: each test counts the documents it holds for the
test's invoices, and compares their numbers with the POSTED invoices in q2c.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from q2c_core.adapters.erp.simulator_connectors import simulator_connectors
from q2c_core.adapters.store import Store
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.billing.runs import BillRunSpec
from q2c_core.app.delivery.model import DeliveryStatus, Operation
from q2c_core.app.delivery.planner import invoice_key, job_key, project_key
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import commands as cmd
from q2c_core.domain.invoices import InvoiceState
from q2c_core.domain.money import Money
from tests.delivery.conftest import (
    MARCH,
    active_engagements,
    billed,
    eventually,
    fast_config,
    issue_all,
    run_ok,
)
from tests.host.helpers import caller
from tests.simulator.conftest import RunningSimulator


def erp_invoices(sim: RunningSimulator, invoice_ids: list[str]) -> list[dict[str, Any]]:
    """The simulator's invoice documents naming these q2c invoices."""
    wanted = set(invoice_ids)
    documents = sim.client.request("GET", "/erp/invoices")["documents"]
    return [d for d in documents if d["payload"]["invoice_id"] in wanted]


def posted(rt: LocalRuntime, tenant: str, invoice_ids: list[str]) -> bool:
    """Whether q2c records every invoice as acknowledged by the ERP."""
    return all(rt.queries.get_invoice(tenant, i).erp_document_number for i in invoice_ids)


def items(store: Store, tenant: str, **filters: Any) -> list[Any]:
    """The tenant's delivery items (first page is enough here)."""
    return DeliveryStore(store.engine).list_items(tenant, page_size=1000, **filters).items


def assert_posted_exactly_once(
    rt: LocalRuntime, sim: RunningSimulator, tenant: str, invoice_ids: list[str]
) -> None:
    """One ERP document per invoice, its number the one q2c holds; none lost, none doubled."""
    documents = erp_invoices(sim, invoice_ids)
    by_invoice = {d["payload"]["invoice_id"]: d for d in documents}
    assert len(documents) == len(invoice_ids) == len(by_invoice)
    for invoice_id in invoice_ids:
        invoice = rt.queries.get_invoice(tenant, invoice_id)
        assert invoice.erp_document_number == by_invoice[invoice_id]["document_number"]
        assert by_invoice[invoice_id]["key"] == invoice_key(invoice_id)


async def test_activation_provisions_and_every_issued_invoice_and_payment_is_delivered(
    runtime: LocalRuntime, store: Store, sim: RunningSimulator
) -> None:
    bill = await billed(runtime, store, 3)
    first = runtime.queries.get_invoice(bill.tenant_id, bill.invoice_ids[0])
    pay = cmd.RecordPayment(invoice_id=first.invoice_id, amount=first.total, received_date=date(2025, 4, 2))
    await run_ok(runtime, bill.tenant_id, [bill.engagement_ids[0]], pay)

    await runtime.start_delivery()
    await eventually(lambda: posted(runtime, bill.tenant_id, bill.invoice_ids), what="invoices posted")
    await eventually(
        lambda: all(i.status is DeliveryStatus.DELIVERED for i in items(store, bill.tenant_id)),
        what="every item delivered",
    )

    assert_posted_exactly_once(runtime, sim, bill.tenant_id, bill.invoice_ids)
    states = [runtime.queries.get_invoice(bill.tenant_id, i).state for i in bill.invoice_ids]
    assert states == [InvoiceState.PAID, InvoiceState.POSTED, InvoiceState.POSTED]
    for eid in bill.engagement_ids:
        assert sim.client.request("GET", f"/erp/jobs/{job_key(eid)}")["payload"]["engagement_id"] == eid
        assert (
            sim.client.request("GET", f"/psa/projects/{project_key(eid)}")["payload"]["engagement_id"] == eid
        )
    payments = sim.client.request("GET", "/erp/payments")["documents"]
    assert [p["payload"]["invoice_number"] for p in payments] == [
        first_number(runtime, bill.tenant_id, first.invoice_id)
    ]
    kinds = sorted(i.operation for i in items(store, bill.tenant_id))
    assert kinds.count(Operation.CREATE_JOB) == 3 and kinds.count(Operation.PROVISION_PROJECT) == 3
    assert kinds.count(Operation.POST_INVOICE) == 3 and kinds.count(Operation.RECORD_PAYMENT) == 1
    events = store.read_all_events(bill.tenant_id, event_types=["InvoicePosted"])
    assert sorted(e.payload["invoice_id"] for e in events) == sorted(bill.invoice_ids)


def first_number(rt: LocalRuntime, tenant: str, invoice_id: str) -> str:
    """The ERP number q2c holds for an invoice."""
    return rt.queries.get_invoice(tenant, invoice_id).erp_document_number


async def test_erp_maintenance_during_a_bill_run_and_issue_loses_and_doubles_nothing(
    runtime: LocalRuntime, store: Store, sim: RunningSimulator
) -> None:
    tenant, _ = await active_engagements(runtime, store, 12)
    sim.client.request("POST", "/faults", {"path_prefix": "/erp", "maintenance_seconds": 3})
    await runtime.start_delivery()
    run = await runtime.start_bill_run(caller(tenant), None, BillRunSpec(period=MARCH))
    await runtime.bill_run_tasks[run.bill_run_id]
    invoices = runtime.queries.list_invoices(tenant, None, None, None, None, 100, "").items
    assert len(invoices) == 12
    await issue_all(runtime, tenant, {i.engagement_id: i.invoice_id for i in invoices})  # the ERP is down
    invoice_ids = [i.invoice_id for i in invoices]

    await eventually(
        lambda: posted(runtime, tenant, invoice_ids), what="every invoice posted after the window"
    )
    assert_posted_exactly_once(runtime, sim, tenant, invoice_ids)
    deliveries = DeliveryStore(store.engine)
    refused = [
        a
        for item in items(store, tenant, operation=Operation.CREATE_JOB)
        for a in deliveries.attempts(item.delivery_id)
        if a.http_status == 503
    ]
    assert refused and all(a.outcome == "RETRYABLE" for a in refused)
    assert not items(store, tenant, status=DeliveryStatus.DEAD)


async def test_crash_after_commit_before_reply_makes_no_duplicate_document(
    runtime: LocalRuntime, store: Store, sim: RunningSimulator
) -> None:
    sim.client.request(
        "POST", "/faults", {"path_prefix": "/erp/invoices", "crash_after_commit": {"count": 1}}
    )
    bill = await billed(runtime, store, 1)
    await runtime.start_delivery()
    await eventually(lambda: posted(runtime, bill.tenant_id, bill.invoice_ids), what="invoice posted")

    assert_posted_exactly_once(runtime, sim, bill.tenant_id, bill.invoice_ids)
    (item,) = items(store, bill.tenant_id, operation=Operation.POST_INVOICE)
    # the invoice can read POSTED before the recorder has written the delivering attempt's row
    recorded = DeliveryStore(store.engine)
    await eventually(lambda: len(recorded.attempts(item.delivery_id)) == 2, what="both attempts recorded")
    outcomes = [a.outcome for a in recorded.attempts(item.delivery_id)]
    assert outcomes == ["UNKNOWN_OUTCOME", "DELIVERED"]


async def test_a_failure_that_persists_ends_in_the_dead_letter_queue_and_retry_delivers_it(
    store: Store, sim: RunningSimulator
) -> None:
    runtime = LocalRuntime(
        store, delivery=fast_config(sim.url, max_attempts=3), connectors=simulator_connectors
    )
    try:
        sim.client.request(
            "POST", "/faults", {"path_prefix": "/erp/invoices", "error": {"count": 1000, "status": 500}}
        )
        bill = await billed(runtime, store, 2)
        await runtime.start_delivery()
        dead = lambda: items(store, bill.tenant_id, status=DeliveryStatus.DEAD)  # noqa: E731
        await eventually(lambda: len(dead()) == 2, what="both invoices dead-lettered")
        assert all(
            i.attempts == 3 and i.failure_kind == "RETRYABLE" and i.last_http_status == 500 for i in dead()
        )
        assert all(
            runtime.queries.get_invoice(bill.tenant_id, i).state is InvoiceState.ISSUED
            for i in bill.invoice_ids
        )
        jobs = items(store, bill.tenant_id, operation=Operation.CREATE_JOB)
        assert all(j.status is DeliveryStatus.DELIVERED for j in jobs)  # other operations unaffected

        sim.client.request("DELETE", "/faults")
        assert erp_invoices(sim, bill.invoice_ids) == []
        deliveries = DeliveryStore(store.engine)
        first = dead()[0]
        assert deliveries.retry_dead(bill.tenant_id, datetime.now(UTC), delivery_id=first.delivery_id) == [
            first.delivery_id
        ]
        runtime.wake_delivery()
        await eventually(
            lambda: posted(runtime, bill.tenant_id, [first.subject_id]), what="the retried one posted"
        )
        assert [i.subject_id for i in dead()] != [first.subject_id] and len(dead()) == 1
        assert len(deliveries.retry_dead(bill.tenant_id, datetime.now(UTC))) == 1
        await eventually(lambda: posted(runtime, bill.tenant_id, bill.invoice_ids), what="all posted")
        assert_posted_exactly_once(runtime, sim, bill.tenant_id, bill.invoice_ids)
        history = [a.outcome for a in deliveries.attempts(first.delivery_id)]
        assert history == ["RETRYABLE"] * 3 + ["DELIVERED"]
    finally:
        await runtime.close()


async def test_a_permanent_refusal_is_a_dead_letter_at_once(
    runtime: LocalRuntime, store: Store, sim: RunningSimulator
) -> None:
    bill = await billed(runtime, store, 1)
    (invoice_id,) = bill.invoice_ids
    other = {"invoice_id": invoice_id, "total": "1.00"}  # someone else used q2c's key
    sim.client.request("POST", "/erp/invoices", other, {"Idempotency-Key": invoice_key(invoice_id)})
    await runtime.start_delivery()
    await eventually(
        lambda: bool(items(store, bill.tenant_id, status=DeliveryStatus.DEAD)), what="dead letter"
    )
    (item,) = items(store, bill.tenant_id, status=DeliveryStatus.DEAD)
    assert (item.attempts, item.failure_kind, item.last_http_status) == (1, "PERMANENT", 409)
    assert runtime.queries.get_invoice(bill.tenant_id, invoice_id).state is InvoiceState.ISSUED


async def test_a_malformed_reply_is_recorded_with_its_payload_and_the_item_still_delivered(
    runtime: LocalRuntime, store: Store, sim: RunningSimulator
) -> None:
    sim.client.request("POST", "/faults", {"path_prefix": "/erp/invoices", "malformed": {"count": 1}})
    bill = await billed(runtime, store, 1)
    await runtime.start_delivery()
    await eventually(lambda: posted(runtime, bill.tenant_id, bill.invoice_ids), what="invoice posted")
    (item,) = items(store, bill.tenant_id, operation=Operation.POST_INVOICE)
    # the invoice can read POSTED before the recorder has written the delivering attempt's row
    recorded = DeliveryStore(store.engine)
    await eventually(lambda: len(recorded.attempts(item.delivery_id)) == 2, what="both attempts recorded")
    first, last = recorded.attempts(item.delivery_id)
    assert (
        first.outcome == "MALFORMED"
        and first.payload is not None
        and first.payload.startswith('{"document_number"')
    )
    assert last.outcome == "DELIVERED"
    assert_posted_exactly_once(runtime, sim, bill.tenant_id, bill.invoice_ids)


async def test_commands_never_wait_for_an_erp_that_is_down(store: Store, sim: RunningSimulator) -> None:
    runtime = LocalRuntime(store, delivery=fast_config(sim.url), connectors=simulator_connectors)
    try:
        assert sim.stop() == 0  # nothing listens at the URL any more
        await runtime.start_delivery()
        bill = await billed(runtime, store, 2)
        money = Money.of("1.00", "USD")
        await run_ok(
            runtime,
            bill.tenant_id,
            [bill.engagement_ids[0]],
            cmd.RecordPayment(invoice_id=bill.invoice_ids[0], amount=money, received_date=date(2025, 4, 1)),
        )
        wanted = {Operation.POST_INVOICE, Operation.RECORD_PAYMENT}

        def tried_and_waiting() -> bool:
            found = items(store, bill.tenant_id)
            return any(i.attempts for i in found) and wanted <= {i.operation for i in found}

        await eventually(tried_and_waiting, what="attempts against the dead ERP, the postings planned")
        waiting = items(store, bill.tenant_id, status=DeliveryStatus.PENDING)
        assert wanted <= {i.operation for i in waiting}
        stats = {
            s.destination: s for s in DeliveryStore(store.engine).stats(bill.tenant_id, datetime.now(UTC))
        }
        assert stats["ERP"].pending >= 5 and stats["ERP"].delivered == 0
        assert all(i.failure_kind in (None, "UNKNOWN_OUTCOME") for i in waiting)
    finally:
        await runtime.close()
