"""A posted invoice on the wire: INVOICE_STATE_POSTED, the ERP document number, the post time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from q2c.v1 import billing_pb2
from q2c_core.domain.invoices import Invoice, InvoiceState, TaxDetail
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from q2c_core.edge.converters import convert
from q2c_core.edge.converters.convert_invoices import invoice_state_in, invoice_state_out

NOW = datetime(2026, 2, 1, 9, tzinfo=UTC)
POSTED_AT = datetime(2026, 2, 2, 14, 30, tzinfo=UTC)


def issued() -> Invoice:
    """An ISSUED 100.00 USD invoice without lines (enough for conversion)."""
    usd = Money.of("100.00", "USD")
    return Invoice(
        invoice_id="e-1.inv.1",
        engagement_id="e-1",
        customer_id="c-1",
        period=BillingPeriod.month(2026, 1),
        state=InvoiceState.ISSUED,
        currency="USD",
        lines=[],
        subtotal=usd,
        tax=TaxDetail(
            jurisdiction="US", rate=Decimal(0), exempt=True, amount=Money.zero("USD"), rounding_rule="R"
        ),
        total=usd,
        amount_paid=Money.zero("USD"),
        issue_date=date(2026, 2, 1),
        due_date=date(2026, 3, 3),
        create_time=NOW,
        update_time=NOW,
    )


def test_a_posted_invoice_carries_its_state_erp_number_and_post_time() -> None:
    before = issued()
    posted = before.model_copy(
        update={"state": InvoiceState.POSTED, "erp_document_number": "SAP-4711", "post_time": POSTED_AT}
    )
    wire = convert.invoice_out(posted)
    assert wire.state == billing_pb2.INVOICE_STATE_POSTED
    assert wire.erp_document_number == "SAP-4711"
    assert wire.post_time.ToDatetime(tzinfo=UTC) == POSTED_AT
    assert wire.balance_due.amount == "100.00"
    assert wire.etag != convert.invoice_out(before).etag


def test_an_unposted_invoice_has_no_erp_number_and_no_post_time() -> None:
    wire = convert.invoice_out(issued())
    assert wire.erp_document_number == "" and not wire.HasField("post_time")


@pytest.mark.parametrize("state", list(InvoiceState))
def test_every_invoice_state_round_trips_through_the_wire_enum(state: InvoiceState) -> None:
    number = invoice_state_out(state)
    assert billing_pb2.InvoiceState.Name(number) == f"INVOICE_STATE_{state.value}"
    assert invoice_state_in(number) is state
