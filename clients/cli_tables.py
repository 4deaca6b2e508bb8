"""Table views of q2c resources: one function per list or detail view, message -> renderables."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import RenderableType

from clients.cli_render import (
    Column,
    day,
    details,
    enum_label,
    moment,
    money,
    moneys,
    more_caption,
    period,
    table,
)
from q2c.v1 import billing_pb2, common_pb2, customer_pb2, engagement_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as epb

Views = list[RenderableType]


def _state(value: int) -> str:
    return enum_label(epb.EngagementState, value, "ENGAGEMENT_STATE_")


def _invoice_state(value: int) -> str:
    return enum_label(billing_pb2.InvoiceState, value, "INVOICE_STATE_")


def _run_state(value: int) -> str:
    return enum_label(billing_pb2.BillRunState, value, "BILL_RUN_STATE_")


def _step(value: int) -> str:
    return enum_label(common_pb2.GatedStep, value, "GATED_STEP_")


def _tax(profile: customer_pb2.TaxProfile) -> str:
    if profile.exempt:
        return f"exempt {profile.jurisdiction}".strip()
    return f"{profile.jurisdiction} @ {profile.rate}" if profile.rate else "none"


CUSTOMER_COLUMNS: list[Column] = [
    ("customer", lambda c: c.customer_id),
    ("name", lambda c: c.display_name),
    ("legal entity", lambda c: c.legal_entity),
    ("currency", lambda c: c.billing_currency),
    ("tax", lambda c: _tax(c.tax_profile)),
    ("terms", lambda c: f"{c.payment_terms_days}d" if c.payment_terms_days else ""),
    ("PO", lambda c: "required" if c.po_required else ""),
    ("status", lambda c: enum_label(customer_pb2.CustomerStatus, c.status, "CUSTOMER_STATUS_")),
]


def customers(response: Any) -> Views:
    """ListCustomersResponse."""
    return [table("customers", CUSTOMER_COLUMNS, response.customers, more_caption(response.next_page_token))]


def customer(c: customer_pb2.Customer) -> Views:
    """One customer."""
    rows = [(header, render(c)) for header, render in CUSTOMER_COLUMNS]
    rows += [("service line", c.service_line), ("created", moment(c.create_time)), ("etag", c.etag)]
    return [details(f"customer {c.customer_id}", rows)]


RATE_CARD_COLUMNS: list[Column] = [
    ("rate card", lambda r: r.rate_card_id),
    ("rev", lambda r: str(r.revision)),
    ("name", lambda r: r.display_name),
    ("from", lambda r: day(r.effective_from)),
    ("to", lambda r: day(r.effective_to) or "open"),
    ("rates", lambda r: ", ".join(f"{x.role} {money(x.hourly_rate)}" for x in r.rates)),
]


def rate_cards(response: Any) -> Views:
    """ListRateCardsResponse."""
    caption = more_caption(response.next_page_token)
    return [table("rate cards", RATE_CARD_COLUMNS, response.rate_cards, caption)]


ENGAGEMENT_COLUMNS: list[Column] = [
    ("engagement", lambda e: e.engagement_id),
    ("name", lambda e: e.display_name),
    ("customer", lambda e: e.customer_id),
    ("state", lambda e: _state(e.state)),
    ("currency", lambda e: e.contract.currency_code),
    ("start", lambda e: day(e.start_date)),
    ("open exc.", lambda e: str(len(e.open_exception_ids))),
    ("invoices", lambda e: str(len(e.invoice_ids))),
]


COUNTED = ("open exc.", "invoices")
"""List columns that are counts; the detail view lists the ids instead."""


def engagements(response: Any) -> Views:
    """ListEngagementsResponse."""
    caption = more_caption(response.next_page_token)
    return [table("engagements", ENGAGEMENT_COLUMNS, response.engagements, caption)]


def _tally(items: Any, enum: Any, prefix: str) -> str:
    counts = Counter(enum_label(enum, i.status, prefix) for i in items)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def engagement(e: engagement_pb2.Engagement) -> Views:
    """One engagement: summary, contract lines, work captured."""
    rows = [(header, render(e)) for header, render in ENGAGEMENT_COLUMNS if header not in COUNTED]
    rows += [
        ("held from", f"{_state(e.held_from_state)} at {_step(e.held_step)}" if e.held_from_state else ""),
        ("opportunity", e.opportunity_ref),
        (
            "contract",
            f"rev {e.contract.revision}, {day(e.contract.start_date)}..{day(e.contract.end_date)}"
            if e.contract.revision
            else "",
        ),
        ("PO", e.contract.po_reference),
        ("time entries", _tally(e.time_entries, epb.TimeEntryStatus, "TIME_ENTRY_STATUS_")),
        ("expenses", _tally(e.expenses, epb.ExpenseStatus, "EXPENSE_STATUS_")),
        ("milestones", _tally(e.milestones, epb.MilestoneStatus, "MILESTONE_STATUS_")),
        ("open exceptions", ", ".join(e.open_exception_ids)),
        ("invoices", ", ".join(e.invoice_ids)),
        ("version", str(e.version)),
    ]
    lines: list[Column] = [
        ("line", lambda b: b.line_id),
        ("model", lambda b: enum_label(epb.BillingModel, b.billing_model, "BILLING_MODEL_")),
        ("description", lambda b: b.description),
    ]
    return [
        details(f"engagement {e.engagement_id}", rows),
        table("billing lines", lines, e.contract.billing_lines),
    ]


INVOICE_COLUMNS: list[Column] = [
    ("invoice", lambda i: i.invoice_id),
    ("engagement", lambda i: i.engagement_id),
    ("period", lambda i: period(i.period)),
    ("state", lambda i: _invoice_state(i.state)),
    ("total", lambda i: money(i.total)),
    ("balance due", lambda i: money(i.balance_due)),
    ("issued", lambda i: day(i.issue_date)),
    ("bill run", lambda i: i.bill_run_id),
]


def invoices(response: Any) -> Views:
    """ListInvoicesResponse."""
    return [table("invoices", INVOICE_COLUMNS, response.invoices, more_caption(response.next_page_token))]


def invoice(i: billing_pb2.Invoice) -> Views:
    """One invoice: header, lines with exact amounts, totals."""
    rows = [(header, render(i)) for header, render in INVOICE_COLUMNS]
    rows += [
        ("customer", i.customer_id),
        ("PO", i.po_reference),
        ("due", day(i.due_date)),
        ("subtotal", money(i.subtotal)),
        ("tax", f"{money(i.tax.amount)} ({_tax_detail(i.tax)})"),
        ("paid", money(i.amount_paid)),
        ("credit note", money(i.credit_note.amount)),
    ]
    lines: list[Column] = [
        ("line", lambda x: x.line_id),
        ("source", lambda x: enum_label(billing_pb2.InvoiceLineSource, x.source, "INVOICE_LINE_SOURCE_")),
        ("item", lambda x: x.source_id),
        ("description", lambda x: x.description),
        ("qty", lambda x: x.quantity),
        ("unit price", lambda x: money(x.unit_price)),
        ("amount", lambda x: money(x.amount)),
    ]
    return [details(f"invoice {i.invoice_id}", rows), table("lines", lines, i.lines)]


def _tax_detail(tax: billing_pb2.TaxDetail) -> str:
    return f"exempt {tax.jurisdiction}".strip() if tax.exempt else f"{tax.jurisdiction} @ {tax.rate}"


def _age(x: exception_pb2.BusinessException) -> str:
    """`3d 4h`, `2h 5m`, `7m`, `12s`: the two largest units of the exception's age."""
    seconds = x.age.seconds
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _sla(x: exception_pb2.BusinessException) -> str:
    """The SLA due time to the minute, `LATE` once breached; `-` without an SLA."""
    if not x.HasField("sla_due_time"):
        return "-"
    due = str(x.sla_due_time.ToDatetime().strftime("%Y-%m-%d %H:%MZ"))
    return f"{due} LATE" if x.sla_breached else due


EXCEPTION_COLUMNS: list[Column] = [
    ("exception", lambda x: x.exception_id),  # <engagement id>.x<version>.<n>
    ("check", lambda x: x.check),
    ("severity", lambda x: enum_label(exception_pb2.ExceptionSeverity, x.severity, "EXCEPTION_SEVERITY_")),
    ("state", lambda x: enum_label(exception_pb2.ExceptionState, x.state, "EXCEPTION_STATE_")),
    ("queue", lambda x: enum_label(exception_pb2.OwnerQueue, x.owner_queue, "OWNER_QUEUE_")),
    ("age", _age),
    ("SLA due", _sla),
    ("message", lambda x: x.message),
]
"""The list view (engagement and step are in the detail view)."""


def exceptions(response: Any) -> Views:
    """ListExceptionsResponse."""
    caption = more_caption(response.next_page_token)
    return [table("business exceptions", EXCEPTION_COLUMNS, response.exceptions, caption)]


def exception(x: exception_pb2.BusinessException) -> Views:
    """One business exception."""
    rows = [(header, render(x)) for header, render in EXCEPTION_COLUMNS]
    rows += [
        ("engagement", x.engagement_id),
        ("step", _step(x.step)),
        ("SLA breached", "yes" if x.sla_breached else "no"),
        ("customer", x.customer_id),
        ("correction", x.correction),
        ("raised", moment(x.raise_time)),
        ("resolution", x.resolution_note),
        ("resolved by", x.resolved_by),
        ("resolved", moment(x.resolve_time)),
    ]
    return [details(f"exception {x.exception_id}", rows)]


BILL_RUN_COLUMNS: list[Column] = [
    ("bill run", lambda r: r.bill_run_id),
    ("period", lambda r: period(r.period)),
    ("state", lambda r: _run_state(r.state)),
    ("processed", lambda r: f"{r.engagements_processed}/{r.engagements_total}"),
    ("invoiced", lambda r: str(r.invoices_created)),
    ("already", lambda r: str(r.engagements_already_invoiced)),
    ("skipped", lambda r: str(r.engagements_skipped)),
    ("failed", lambda r: str(r.engagements_failed)),
    ("totals", lambda r: moneys(r.invoiced_totals)),
    ("started", lambda r: moment(r.create_time)),
]


def bill_runs(response: Any) -> Views:
    """ListBillRunsResponse."""
    return [table("bill runs", BILL_RUN_COLUMNS, response.bill_runs, more_caption(response.next_page_token))]


def bill_run(r: billing_pb2.BillRun) -> Views:
    """One bill run: counters, scope, and the engagements it skipped."""
    rows = [(header, render(r)) for header, render in BILL_RUN_COLUMNS]
    rows += [
        ("shards", f"{r.shards_done}/{r.shards_total}" if r.shards_total else ""),
        ("customers", ", ".join(r.customer_ids)),
        ("currency", r.currency_code),
        ("finished", moment(r.finish_time)),
        ("failure", r.failure_message),
    ]
    views: Views = [details(f"bill run {r.bill_run_id}", rows)]
    if r.skips:
        skips: list[Column] = [
            ("engagement", lambda s: s.engagement_id),
            ("reason", lambda s: s.reason),
            ("message", lambda s: s.message),
        ]
        views.append(table("skipped or failed", skips, r.skips))
    return views
