"""Reading the simulated ERP back through SimulatorErp (the ErpLedger): pages, exact amounts, failures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from q2c_core.adapters.erp import simulator_connectors
from q2c_core.adapters.erp.simulator_connectors import SimulatorErp
from q2c_core.app.connectors import ErpReadError, FailureKind, invoice_key, payment_key
from tests.integration.builders import invoice, payment
from tests.simulator.conftest import RunningSimulator


def test_every_page_is_read_with_exact_amounts(
    erp: SimulatorErp, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator_connectors, "LIST_PAGE_SIZE", 2)
    for n in range(5):
        erp.post_invoice(invoice(f"inv-{n}"), key=invoice_key(invoice(f"inv-{n}")))
    sim.client.post_invoice("odd", {"invoice_id": "inv-x", "total": 0.1, "currency": "EUR"})
    documents = erp.list_invoices()
    assert [d.invoice_id for d in documents] == ["inv-0", "inv-1", "inv-2", "inv-3", "inv-4", "inv-x"]
    assert documents[0].amount == Decimal("1190.00") and documents[0].engagement_id == "eng-1"
    assert documents[-1].amount == Decimal("0.1")  # a JSON number, still exact
    assert (documents[0].number, documents[0].key, documents[0].payment_id) == (
        "INV-000001",
        "q2c:invoice:inv-0",
        "",
    )


def test_payments_name_their_invoice_and_payment(erp: SimulatorErp) -> None:
    inv, pay = invoice(), payment(amount="100.00")
    erp.post_invoice(inv, key=invoice_key(inv))
    erp.record_payment(inv, pay, invoice_number="INV-000001", key=payment_key(inv, pay))
    (document,) = erp.list_payments()
    assert (document.invoice_id, document.payment_id, document.amount, document.currency) == (
        "inv-1",
        "pay-1",
        Decimal("100.00"),
        "EUR",
    )


def test_an_amount_that_is_not_a_decimal_is_kept_raw(erp: SimulatorErp, sim: RunningSimulator) -> None:
    sim.client.post_invoice("k", {"invoice_id": "inv-1", "total": "twelve", "currency": "EUR"})
    (document,) = erp.list_invoices()
    assert (document.amount, document.raw_amount) == (None, "twelve")


@pytest.mark.parametrize(
    ("plan", "kind"),
    [
        ({"error": {"count": 1, "status": 500}}, FailureKind.RETRYABLE),
        ({"malformed": 1}, FailureKind.MALFORMED),
        ({"timeout": {"count": 1, "hold_seconds": 3}}, FailureKind.UNKNOWN_OUTCOME),
    ],
    ids=["server-error", "malformed", "no-reply"],
)
def test_a_failed_read_raises_with_its_classification(
    erp: SimulatorErp, sim: RunningSimulator, plan: dict[str, object], kind: FailureKind
) -> None:
    sim.client.set_faults({"path_prefix": "/erp/payments", **plan})
    with pytest.raises(ErpReadError) as caught:
        erp.list_payments()
    assert caught.value.failure.kind is kind
    assert caught.value.failure.operation == "list_payments"
