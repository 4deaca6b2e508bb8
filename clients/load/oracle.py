"""The correctness check: every invoice recomputed from the plan, compared to the server's.

Per engagement, the invoice the bill run must have made (clients.load.expect, from the plan
cut to what the server acknowledged) against the server's live invoices of the period, to the
minor unit; per currency, the sums. Then four counts that must be 0: items on more than one
live invoice, approved items of the period on none, acknowledged commands whose effect the
server does not show, and planned commands the server refused (the plan sends only valid ones;
a rate limit's RESOURCE_EXHAUSTED and a conflict's ABORTED are not refusals). A live invoice
of the run's customers for an engagement the run did not create is a mismatch too. Engagements
whose last command's outcome is unknown (it failed with UNAVAILABLE or DEADLINE_EXCEEDED after
retries) are left out and counted in `uncertain`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from clients.load.acknowledged import as_acknowledged, lost_commands
from clients.load.expect import ExpectedInvoice, expected_invoice, to_minor
from clients.load.plan import EngagementPlan, Plan
from clients.load.report import Correctness
from clients.load.workers import InvoiceRef, Progress, payment_amount
from q2c.v1 import billing_pb2, engagement_pb2

MAX_MISMATCHES = 50
NOT_A_REFUSAL = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "UNKNOWN", "RESOURCE_EXHAUSTED", "ABORTED"})
"""Failures that do not fail the check: outcome unknown (left out), the server's rate limit, or
CONCURRENT_MODIFICATION (not applied; docs/api.md: retry the call)."""
VOID = billing_pb2.INVOICE_STATE_VOID


@dataclass
class ServerView:
    """What the server shows of the run's engagements (read back after the run)."""

    invoices: list[billing_pb2.Invoice]
    engagements: Mapping[str, engagement_pb2.Engagement | None]
    """Plan key -> the engagement (FULL view), None when unknown to the server."""


@dataclass
class Verdict:
    """The check's result, and what it left out."""

    correctness: Correctness
    uncertain: int = 0
    expected: dict[str, ExpectedInvoice] = field(default_factory=dict)


def _source(source_id: str) -> str:
    """Retainer and subscription sources are keyed `<line>:<period>`; the plan names the line."""
    return source_id.split(":", 1)[0]


def _describe(
    plan: EngagementPlan, engagement_id: str, expected: ExpectedInvoice, live: list[billing_pb2.Invoice]
) -> str:
    """`E00012: expected 1234.50 EUR, server 1200.00 EUR (first differing line ...) [model, id]`."""
    currency = plan.currency
    if len(live) > 1:
        return (
            f"{plan.key}: {len(live)} live invoices for the period ({', '.join(i.invoice_id for i in live)})"
        )
    server = Decimal(live[0].total.amount) if live else None
    shown = f"{server} {live[0].currency_code}" if live else "no invoice"
    wanted = f"{expected.total} {currency}" if expected.exists else "no invoice"
    detail = ""
    if live:
        lines = {_source(line.source_id): Decimal(line.amount.amount) for line in live[0].lines}
        differing = sorted(
            k for k in set(lines) | set(expected.lines) if lines.get(k) != expected.lines.get(k)
        )
        if differing:
            k = differing[0]
            detail = f" (first differing line {k}: expected {expected.lines.get(k)}, server {lines.get(k)})"
    return f"{plan.key}: expected {wanted}, server {shown}{detail} [{plan.model}, engagement {engagement_id}]"


def _amount(money: object) -> Decimal:
    text = getattr(money, "amount", "")
    return Decimal(text) if text else Decimal(0)


def _agrees(expected: ExpectedInvoice, invoice: billing_pb2.Invoice) -> bool:
    """The invoice is the expected one: its currency, every line (by source, to the minor
    unit, none missing or extra), subtotal, tax and total."""
    lines = sorted((_source(line.source_id), _amount(line.amount)) for line in invoice.lines)
    return (
        expected.exists
        and invoice.currency_code == expected.currency
        and lines == sorted(expected.lines.items())
        and _amount(invoice.subtotal) == expected.subtotal
        and _amount(invoice.tax.amount) == expected.tax
        and _amount(invoice.total) == expected.total
    )


def _approved_unbilled(
    plan: EngagementPlan, engagement: engagement_pb2.Engagement, period_end: date, on_invoice: set[str]
) -> int:
    """Approved items of the period on no live invoice: still APPROVED (late entries excepted),
    or recorded as billed though no live invoice of the engagement carries them."""
    late = {e.entry_id for e in plan.time_entries if e.late}
    count = 0
    for entry in engagement.time_entries:
        day = date(entry.work_date.year, entry.work_date.month, entry.work_date.day)
        if (
            entry.status == engagement_pb2.TIME_ENTRY_STATUS_APPROVED
            and entry.entry_id not in late
            and day <= period_end
        ):
            count += 1
        count += entry.status == engagement_pb2.TIME_ENTRY_STATUS_BILLED and entry.entry_id not in on_invoice
    for expense in engagement.expenses:
        count += expense.status == engagement_pb2.EXPENSE_STATUS_APPROVED
        count += (
            expense.status == engagement_pb2.EXPENSE_STATUS_BILLED and expense.expense_id not in on_invoice
        )
    for milestone in engagement.milestones:
        if milestone.status == engagement_pb2.MILESTONE_STATUS_ACCEPTED:
            count += not milestone.invoice_id or milestone.milestone_id not in on_invoice
    return count


def check(
    plan: Plan,
    before: Mapping[str, Progress],
    after: Mapping[str, Progress],
    server: ServerView,
) -> Verdict:
    """Compare the server's invoices and engagements with the plan; the verdict."""
    customers = {c.key: c for c in plan.customers}
    cards = {c.key: c for c in plan.rate_cards}
    period = (plan.period_start, plan.period_end)
    by_engagement: dict[str, list[billing_pb2.Invoice]] = {}
    for invoice in server.invoices:
        if invoice.state != VOID:
            by_engagement.setdefault(invoice.engagement_id, []).append(invoice)
    expected_minor: Counter[str] = Counter()
    server_minor: Counter[str] = Counter()
    mismatches: list[str] = []
    verdict = Verdict(
        Correctness(
            passed=False,
            invoices_checked=0,
            expected_minor={},
            server_minor={},
            mismatches=[],
            billed_twice=0,
            approved_unbilled=0,
            lost_commands=0,
        )
    )
    counts = Counter[str]()
    for engagement_plan in plan.engagements:
        progress = before.get(engagement_plan.key) or Progress(engagement_plan.key)
        done_after = after.get(engagement_plan.key)
        for phase, commands in ((progress, engagement_plan.commands), (done_after, engagement_plan.after)):
            if phase is not None and phase.failed and phase.failed not in NOT_A_REFUSAL:
                counts["refused"] += 1
                rpc = commands[phase.done + phase.skipped].rpc
                mismatches.append(
                    f"{engagement_plan.key}: {rpc} refused with {phase.failed} (a valid command)"
                )
        if progress.uncertain or (done_after is not None and done_after.uncertain):
            verdict.uncertain += 1
            continue
        acked = as_acknowledged(engagement_plan, progress.done)
        customer = customers[engagement_plan.customer]
        expected = (
            expected_invoice(acked, customer, cards, period)
            if acked
            else ExpectedInvoice(engagement_plan.key, engagement_plan.currency)
        )
        verdict.expected[engagement_plan.key] = expected
        live = by_engagement.get(progress.engagement_id, []) if progress.engagement_id else []
        currency = engagement_plan.currency
        if expected.exists:
            expected_minor[currency] += to_minor(expected.total, currency)
        for invoice in live:
            server_minor[invoice.currency_code] += to_minor(
                Decimal(invoice.total.amount), invoice.currency_code
            )
        if expected.exists or live:
            counts["checked"] += 1
        if (expected.exists or live) and not (len(live) == 1 and _agrees(expected, live[0])):
            mismatches.append(_describe(engagement_plan, progress.engagement_id, expected, live))
        sources = Counter(line.source_id for invoice in live for line in invoice.lines)
        counts["twice"] += sum(1 for n in sources.values() if n > 1)
        engagement = server.engagements.get(engagement_plan.key) if progress.engagement_id else None
        if engagement is not None:
            on_invoice = {_source(line.source_id) for invoice in live for line in invoice.lines}
            counts["unbilled"] += _approved_unbilled(engagement_plan, engagement, plan.period_end, on_invoice)
        sole = live[0] if len(live) == 1 else None
        paid = None
        if sole is not None and engagement_plan.payment != "none":
            ref = InvoiceRef(sole.invoice_id, sole.total.amount, sole.currency_code)
            paid = Decimal(payment_amount(ref, engagement_plan.payment))
        if progress.done:
            done = (progress.done, done_after.done if done_after else 0)
            counts["lost"] += sum(1 for _ in lost_commands(engagement_plan, done, engagement, sole, paid))
    known = {p.engagement_id for p in before.values() if p.engagement_id}
    for invoice in server.invoices:
        if invoice.state != VOID and invoice.engagement_id not in known:
            server_minor[invoice.currency_code] += to_minor(_amount(invoice.total), invoice.currency_code)
            mismatches.append(
                f"invoice {invoice.invoice_id} ({invoice.total.amount} {invoice.currency_code}) is for"
                f" engagement {invoice.engagement_id or '(none)'}, which the run did not create"
            )
    correct = verdict.correctness
    correct.invoices_checked = counts["checked"]
    correct.expected_minor = dict(sorted(expected_minor.items()))
    correct.server_minor = dict(sorted(server_minor.items()))
    correct.mismatches = mismatches[:MAX_MISMATCHES]
    correct.billed_twice = counts["twice"]
    correct.approved_unbilled = counts["unbilled"]
    correct.lost_commands = counts["lost"]
    correct.refused_commands = counts["refused"]
    correct.uncertain = verdict.uncertain
    correct.passed = (
        not mismatches
        and not counts["twice"]
        and not counts["unbilled"]
        and not counts["lost"]
        and not counts["refused"]
        and correct.expected_minor == correct.server_minor
    )
    return verdict
