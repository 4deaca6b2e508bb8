"""The month's bill run with --bill-run-retries: a run that ends with failed engagements is
followed by a new run for the period (its own request id), and the invoices of every run are
issued; a clean run is not repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from clients.load import messages
from clients.load.billrun import Billing, month_end_billing
from clients.load.connect import Connection, Settings
from clients.load.plan import Plan
from clients.load.record import Recorder
from q2c.v1 import billing_pb2, common_pb2

PLAN = Plan("tag", "2026-03", date(2026, 3, 1), date(2026, 3, 31), (), (), ())
IDS = messages.Ids(customers={"C1": "c-1"}, rate_cards={})
SUCCEEDED = billing_pb2.BILL_RUN_STATE_SUCCEEDED


class _Billing:
    """BillingService stand-in: run n fails `failed[n]` engagements and invoices `invoiced[n]`."""

    def __init__(self, failed: list[int], invoiced: list[list[str]]) -> None:
        self.failed, self.invoiced = failed, invoiced
        self.starts: list[billing_pb2.StartBillRunRequest] = []

    def _run(self, n: int) -> billing_pb2.BillRun:
        return billing_pb2.BillRun(
            bill_run_id=f"run-{n}",
            state=SUCCEEDED,
            shards_total=2,
            engagements_total=3,
            engagements_processed=3,
            invoices_created=len(self.invoiced[n]),
            engagements_failed=self.failed[n],
        )

    async def StartBillRun(self, request: Any, **_: Any) -> billing_pb2.BillRun:
        self.starts.append(request)
        return self._run(len(self.starts) - 1)

    def WatchBillRun(self, request: Any, **_: Any) -> AsyncIterator[billing_pb2.BillRun]:
        async def stream() -> AsyncIterator[billing_pb2.BillRun]:
            yield self._run(int(request.bill_run_id.split("-")[1]))

        return stream()

    async def ListInvoices(self, request: Any, **_: Any) -> billing_pb2.ListInvoicesResponse:
        n = int(request.bill_run_id.split("-")[1])
        invoices = [
            billing_pb2.Invoice(
                invoice_id=f"{e}.inv.1",
                engagement_id=e,
                currency_code="USD",
                total=common_pb2.Money(currency_code="USD", amount="10.00"),
            )
            for e in self.invoiced[n]
        ]
        return billing_pb2.ListInvoicesResponse(invoices=invoices)


def _bill(fake: _Billing, retries: int) -> Billing:
    async def go() -> Billing:
        conn = Connection(Settings("127.0.0.1:1", token="t", approver_token="a"), Recorder(0.0))
        conn.billing = fake  # type: ignore[assignment]
        try:
            by_id = {"e-1": "E1", "e-2": "E2", "e-3": "E3"}
            return await month_end_billing(conn, PLAN, IDS, by_id, retries)
        finally:
            await conn.close()

    return asyncio.run(go())


def test_failed_engagements_get_a_new_run_and_every_runs_invoices_are_issued() -> None:
    fake = _Billing(failed=[1, 0, 0], invoiced=[["e-1", "e-2"], ["e-3"], []])
    billing = _bill(fake, retries=2)
    assert [r.request_id for r in fake.starts] == ["tag.billrun", "tag.billrun.1"]
    assert sorted(billing.invoices) == ["E1", "E2", "E3"]
    assert billing.result.bill_run_id == "run-0" and billing.result.invoices == 2
    assert billing.server["bill_run_retries"] == ["run-1 SUCCEEDED: 1 invoices, 0 failed"]


def test_without_retries_a_failed_engagement_is_left_to_the_check() -> None:
    fake = _Billing(failed=[1], invoiced=[["e-1"]])
    billing = _bill(fake, retries=0)
    assert len(fake.starts) == 1
    assert billing.server["bill_run_failed"] == 1
    assert "bill_run_retries" not in billing.server
