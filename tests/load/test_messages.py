"""The load tool's requests ask for the cheap views: it goes on with the ids and amounts it has."""

from __future__ import annotations

from datetime import date

from clients.load import messages
from clients.load.plan import Command
from q2c.v1 import billing_pb2


def test_invoice_commands_ask_for_the_invoice_without_its_lines() -> None:
    issue = messages.issue_request(Command("IssueInvoice", "r1"), "e.inv.1")
    pay = messages.payment_request(
        Command("RecordPayment", "r2"), "e.inv.1", "10.00", "USD", date(2026, 2, 1)
    )
    assert issue.view == pay.view == billing_pb2.INVOICE_VIEW_BASIC
    assert (issue.invoice_id, pay.amount.amount, pay.request_id) == ("e.inv.1", "10.00", "r2")
