"""Billing reads over the read models the pipeline stages: invoices and readiness."""

from __future__ import annotations

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.app.reads import Queries
from q2c_core.domain import commands as cmd
from q2c_core.domain.errors import NotFoundError, ValidationError
from q2c_core.domain.invoices import InvoiceState
from tests.host.billing_setup import MARCH, build_portfolio
from tests.host.helpers import envelope, new_id


async def test_invoice_rows_follow_the_engagement(host: EngagementHost, store: Store, tenant_id: str) -> None:
    p = await build_portfolio(
        host.submit_many, store, tenant_id, billable=0, nothing=0, missing_po=0, invoiced=2
    )
    queries = Queries(store)
    eid = p.invoiced[0]
    [invoice] = queries.list_invoices(tenant_id, eid, None, None, None, 10, "").items
    assert invoice == queries.get_invoice(tenant_id, invoice.invoice_id)
    assert invoice == queries.get_engagement(tenant_id, eid).invoices[invoice.invoice_id]
    assert store.get_engagement(tenant_id, eid).currency == "USD"  # type: ignore[union-attr]
    issued = await host.submit(envelope(tenant_id, eid, cmd.IssueInvoice(invoice_id=invoice.invoice_id)))
    assert issued.ok, issued.error
    assert queries.get_invoice(tenant_id, invoice.invoice_id).state is InvoiceState.ISSUED
    by_state = queries.list_invoices(tenant_id, None, invoice.customer_id, InvoiceState.ISSUED, None, 10, "")
    assert [i.invoice_id for i in by_state.items] == [invoice.invoice_id]
    assert len(queries.list_invoices(tenant_id, None, None, InvoiceState.DRAFT, None, 10, "").items) == 1
    with pytest.raises(NotFoundError) as raised:
        queries.get_invoice(tenant_id, "nope")
    assert raised.value.reason == "INVOICE_NOT_FOUND"
    with pytest.raises(ValidationError):
        queries.list_invoices(tenant_id, None, None, None, None, -1, "")


async def test_invoice_readiness(host: EngagementHost, store: Store, tenant_id: str) -> None:
    p = await build_portfolio(
        host.submit_many, store, tenant_id, billable=1, nothing=1, missing_po=1, invoiced=1
    )
    queries = Queries(store)
    ready = queries.invoice_readiness(tenant_id, p.billable[0], MARCH)
    assert ready.ready and [line.source_id for line in ready.lines] == ["x1"]
    assert str(ready.total.amount) == "131.19"
    kinds = {
        eid: [b.kind for b in queries.invoice_readiness(tenant_id, eid, MARCH).blockers if b.stops]
        for eid in (p.nothing[0], p.missing_po[0], p.invoiced[0])
    }
    assert kinds == {
        p.nothing[0]: ["NOTHING_TO_BILL"],
        p.missing_po[0]: ["MISSING_PO_REFERENCE"],
        p.invoiced[0]: ["PERIOD_ALREADY_INVOICED"],
    }
    draft_only = [b.kind for b in queries.invoice_readiness(tenant_id, p.draft[0], MARCH).blockers]
    assert draft_only == ["NOTHING_TO_BILL"]  # no contract yet
    with pytest.raises(NotFoundError):
        queries.invoice_readiness(tenant_id, new_id("eng"), MARCH)
