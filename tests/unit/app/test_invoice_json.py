"""InvoiceJson: a changed invoice's JSON patched from the version before equals its whole dump."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from q2c_core.app.audit.canonical_json import JsonText
from q2c_core.app.read_models import InvoiceJson, snapshot_json
from q2c_core.domain.base import replaced
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.invoices import Invoice, InvoiceLine, InvoiceState, LineSource, Payment, TaxDetail
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod

NOW = datetime(2025, 4, 1, 12, tzinfo=UTC)


def _invoice() -> Invoice:
    usd = Money.of("165", "USD")
    line = InvoiceLine(
        line_id="L1",
        source=LineSource.TIME_ENTRY,
        source_id="t1",
        billing_line_id="tm",
        contract_revision=1,
        description="ada (engineer) 2025-03-03",
        quantity=Decimal("7.5"),
        unit_price=usd,
        amount=Money.of("1237.50", "USD"),
        rounding_rule="ROUND_HALF_UP_PER_LINE",
    )
    tax = TaxDetail(
        jurisdiction="US-NY", rate=Decimal(0), exempt=False, amount=Money.zero("USD"), rounding_rule="X"
    )
    total = Money.of("1237.50", "USD")
    return Invoice(
        invoice_id="e.inv.1",
        engagement_id="e",
        customer_id="c",
        period=BillingPeriod.month(2025, 3),
        currency="USD",
        lines=[line],
        subtotal=total,
        tax=tax,
        total=total,
        amount_paid=Money.zero("USD"),
        create_time=NOW,
        update_time=NOW,
    )


def test_an_issued_then_paid_invoice_is_patched_to_its_whole_dump() -> None:
    cache, draft = InvoiceJson(), _invoice()
    assert cache.dump(None, draft) == draft.model_dump(mode="json")
    issued = replaced(
        draft, {"state": InvoiceState.ISSUED, "issue_date": date(2025, 4, 1), "update_time": NOW}
    )
    payment = Payment(payment_id="p1", amount=draft.total, received_date=date(2025, 4, 2), record_time=NOW)
    paid = replaced(issued, {"state": InvoiceState.PAID, "amount_paid": draft.total, "payments": [payment]})

    for before, after in ((draft, issued), (issued, paid)):
        data = cache.dump(before, after)
        assert data == after.model_dump(mode="json")
        assert list(data) == list(after.model_dump(mode="json"))  # the same key order
        assert cache.of(after) is data


def test_another_object_of_the_same_invoice_is_dumped_whole() -> None:
    cache, draft = InvoiceJson(), _invoice()
    cache.remember(draft, {"stale": True})
    reloaded = Invoice.model_validate(draft.model_dump(mode="json"))  # equal, not the same object
    issued = replaced(reloaded, {"state": InvoiceState.ISSUED})
    assert cache.of(reloaded) is None
    assert cache.dump(reloaded, issued) == issued.model_dump(mode="json")


def test_the_least_recently_written_invoice_goes_first() -> None:
    cache = InvoiceJson(capacity=2)
    invoices = [replaced(_invoice(), {"invoice_id": f"e.inv.{n}"}) for n in range(3)]
    for invoice in invoices:
        cache.dump(None, invoice)
    assert cache.of(invoices[0]) is None
    assert cache.of(invoices[1]) is not None and cache.of(invoices[2]) is not None


def _engagement_with(*invoices: Invoice) -> Engagement:
    return Engagement.model_construct(
        engagement_id="e",
        customer_id="c",
        display_name="E",
        version=len(invoices) + 1,
        create_time=NOW,
        update_time=NOW,
        invoices={invoice.invoice_id: invoice for invoice in invoices},
    )


def test_a_snapshot_reuses_the_known_invoice_json_and_equals_the_whole_dump() -> None:
    cache, known = InvoiceJson(), _invoice()
    other = replaced(_invoice(), {"invoice_id": "e.inv.2"})
    state = _engagement_with(known, other)
    cached = cache.dump(None, known)

    snapshot = snapshot_json(state, cache)

    assert snapshot == state.model_dump(mode="json")
    assert snapshot["invoices"]["e.inv.1"] is cached
    assert isinstance(snapshot, JsonText)
    text = json.dumps(
        state.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert snapshot.text == text
    assert cached.text in snapshot.text
    assert Engagement.model_validate(snapshot) == Engagement.model_validate(state.model_dump(mode="json"))


def test_a_snapshot_without_known_invoices_is_the_plain_dump() -> None:
    state = _engagement_with(_invoice())
    assert type(snapshot_json(state, InvoiceJson())) is dict
    assert snapshot_json(state, None) == state.model_dump(mode="json")
