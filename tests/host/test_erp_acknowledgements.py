"""The ERP's acknowledgements and reconciliation findings through the host, into the read models."""

from __future__ import annotations

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.app.reads import Queries
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import ExceptionState, OwnerQueue, Severity
from q2c_core.domain.events import event_from_payload
from q2c_core.domain.invoices import InvoiceState, ReconciliationMismatch
from tests.host.billing_setup import build_portfolio
from tests.host.helpers import envelope, folded_journal, new_id


async def issued_invoice(host: EngagementHost, store: Store, tenant_id: str) -> tuple[str, str]:
    """(engagement id, invoice id) of an ACTIVE engagement with one ISSUED invoice."""
    p = await build_portfolio(
        host.submit_many, store, tenant_id, billable=0, nothing=0, missing_po=0, invoiced=1
    )
    eid = p.invoiced[0]
    [invoice] = Queries(store).list_invoices(tenant_id, eid, None, None, None, 10, "").items
    issued = await host.submit(envelope(tenant_id, eid, cmd.IssueInvoice(invoice_id=invoice.invoice_id)))
    assert issued.ok, issued.error
    return eid, invoice.invoice_id


async def test_a_posting_shows_on_the_invoice_read_model_and_in_the_event_stream(
    host: EngagementHost, store: Store, tenant_id: str
) -> None:
    eid, invoice_id = await issued_invoice(host, store, tenant_id)
    posting = cmd.RecordInvoicePosting(
        engagement_id=eid, invoice_id=invoice_id, erp_document_number="SAP-4711"
    )
    result = await host.submit(envelope(tenant_id, eid, posting, request_id=new_id("req")))
    assert result.ok, result.error
    assert len(result.event_ids) == 1
    invoice = Queries(store).get_invoice(tenant_id, invoice_id)
    assert invoice.state is InvoiceState.POSTED
    assert invoice.erp_document_number == "SAP-4711" and invoice.post_time is not None
    [stored] = store.read_all_events(tenant_id, event_types=["InvoicePosted"], stream_id=eid)
    assert stored.event_id == result.event_ids[0]
    assert stored.payload["invoice_id"] == invoice_id
    assert stored.payload["erp_document_number"] == "SAP-4711"
    assert folded_journal(store, tenant_id, eid) == Queries(store).get_engagement(tenant_id, eid)


async def test_a_repeated_posting_is_accepted_without_events_and_another_number_is_refused(
    host: EngagementHost, store: Store, tenant_id: str
) -> None:
    eid, invoice_id = await issued_invoice(host, store, tenant_id)
    first = cmd.RecordInvoicePosting(engagement_id=eid, invoice_id=invoice_id, erp_document_number="SAP-1")
    assert (await host.submit(envelope(tenant_id, eid, first))).ok
    version = Queries(store).get_engagement(tenant_id, eid).version
    again = await host.submit(envelope(tenant_id, eid, first, request_id=new_id("req")))
    assert again.ok and again.event_ids == [] and again.version == version
    other = cmd.RecordInvoicePosting(engagement_id=eid, invoice_id=invoice_id, erp_document_number="SAP-2")
    refused = await host.submit(envelope(tenant_id, eid, other))
    assert refused.error is not None and refused.error.reason == "INVOICE_ALREADY_POSTED"
    assert refused.error.metadata == {"invoice_id": invoice_id, "erp_document_number": "SAP-1"}
    assert len(store.read_all_events(tenant_id, event_types=["InvoicePosted"], stream_id=eid)) == 1
    assert Queries(store).get_engagement(tenant_id, eid).version == version


async def test_a_reconciliation_mismatch_queues_one_review_exception_for_finance(
    host: EngagementHost, store: Store, tenant_id: str
) -> None:
    eid, invoice_id = await issued_invoice(host, store, tenant_id)
    found = cmd.RaiseReconciliationMismatch(
        engagement_id=eid,
        invoice_id=invoice_id,
        mismatch=ReconciliationMismatch.AMOUNT_DIFFERS,
        detail="q2c total 131.19 USD, ERP 130.00",
        reconciliation_id="rec-2025-03",
    )
    assert (await host.submit(envelope(tenant_id, eid, found))).ok
    again = await host.submit(envelope(tenant_id, eid, found))
    assert again.ok and again.event_ids == []
    queue = Queries(store).list_exceptions(
        tenant_id, ExceptionState.OPEN, None, eid, 10, "", owner_queue=OwnerQueue.FINANCE_OPS
    )
    [exception] = [x for x in queue.items if x.check == "ERP_RECONCILIATION"]
    assert exception.severity is Severity.REVIEW
    assert "AMOUNT_DIFFERS" in exception.message and "ERP 130.00" in exception.message
    engagement = Queries(store).get_engagement(tenant_id, eid)
    assert engagement.state.value == "ACTIVE"
    raised = store.read_all_events(tenant_id, event_types=["BusinessExceptionRaised"], stream_id=eid)
    assert event_from_payload(raised[-1].payload).exception.exception_id == exception.exception_id  # type: ignore[union-attr]
