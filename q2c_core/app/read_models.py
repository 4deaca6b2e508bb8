"""Read-model rows made from engagement state: engagements, business exceptions, invoices."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from q2c_core.app.audit.canonical_json import JsonText
from q2c_core.app.messages import CommandResult
from q2c_core.app.records import EngagementRow, ExceptionRow, InvoiceRow
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException
from q2c_core.domain.invoices import Invoice


def exception_row(
    tenant_id: str, engagement_id: str, exception: BusinessException, data: dict[str, Any] | None = None
) -> ExceptionRow:
    """The read-model row of a business exception (`data`: its JSON, when already serialized)."""
    return ExceptionRow(
        tenant_id=tenant_id,
        exception_id=exception.exception_id,
        engagement_id=engagement_id,
        customer_id=exception.customer_id,
        step=exception.step.value,
        check_name=exception.check,
        severity=exception.severity.value,
        state=exception.state.value,
        data=data if data is not None else exception.model_dump(mode="json"),
        raise_time=exception.raise_time,
        resolve_time=exception.resolve_time,
        owner_queue=exception.owner_queue.value,
        sla_due_time=exception.sla_due_time,
    )


def engagement_row(
    tenant_id: str, state: Engagement, *, with_snapshot: bool = True, invoices: InvoiceJson | None = None
) -> EngagementRow:
    """The read-model row of an engagement state, with or without a full snapshot (whose invoices
    reuse the JSON `invoices` holds for them, when it does)."""
    return EngagementRow(
        tenant_id=tenant_id,
        engagement_id=state.engagement_id,
        customer_id=state.customer_id,
        display_name=state.display_name,
        state=state.state.value,
        version=state.version,
        snapshot=snapshot_json(state, invoices) if with_snapshot else None,
        create_time=state.create_time,
        update_time=state.update_time,
        currency=state.contract.currency if state.contract else None,
    )


_INVOICES = {"invoices"}


def snapshot_json(state: Engagement, invoices: InvoiceJson | None = None) -> dict[str, Any]:
    """`state.model_dump(mode="json")`; when `invoices` knows the JSON of some of its invoices
    (the ones this host wrote last), a JsonText that reuses it (and its text) instead of dumping
    and encoding those invoices again. Only the key order differs (invoices last)."""
    known = {i: invoices.of(invoice) for i, invoice in state.invoices.items()} if invoices else {}
    if not any(data is not None for data in known.values()):
        return state.model_dump(mode="json")
    dumped = JsonText(state.model_dump(mode="json", exclude=_INVOICES))
    dumped["invoices"] = JsonText(  # a JsonText itself, so that the snapshot's text splices it
        {
            i: data if data is not None else JsonText(state.invoices[i].model_dump(mode="json"))
            for i, data in known.items()
        }
    )
    return dumped


def invoice_row(tenant_id: str, invoice: Invoice, data: dict[str, Any] | None = None) -> InvoiceRow:
    """The read-model row of an invoice (`data`: its JSON, when already serialized)."""
    return InvoiceRow(
        tenant_id=tenant_id,
        invoice_id=invoice.invoice_id,
        engagement_id=invoice.engagement_id,
        customer_id=invoice.customer_id,
        state=invoice.state.value,
        period_key=invoice.period.key,
        bill_run_id=invoice.bill_run_id,
        currency=invoice.currency,
        total=str(invoice.total.amount),
        data=data if data is not None else invoice.model_dump(mode="json"),
        create_time=invoice.create_time,
        update_time=invoice.update_time,
    )


class InvoiceJson:
    """The JSON of the invoices a host wrote last, so that a changed invoice is not dumped whole.

    Issuing or paying changes a few header fields; dumping the invoice again (every line) was
    most of those commands. Entries are keyed by invoice id and hold the exact object they
    describe: evolve replaces only what an event touches, so a field whose value is the same
    object as in the described version has the same JSON, and only the other fields are dumped
    again. Bounded (least recently written first out); a miss just dumps the whole invoice.
    The JSON is a JsonText: the records that carry one invoice version (its row, the reply
    stored for idempotency, the event that generated it) share one encoding of it.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._known: OrderedDict[str, tuple[Invoice, JsonText]] = OrderedDict()

    def of(self, invoice: Invoice) -> JsonText | None:
        """The JSON made for exactly this invoice object, if any."""
        known = self._known.get(invoice.invoice_id)
        return known[1] if known is not None and known[0] is invoice else None

    def remember(self, invoice: Invoice, data: JsonText) -> None:
        """`data` is the JSON of `invoice` (the newest version of it this host wrote)."""
        self._known[invoice.invoice_id] = (invoice, data)
        self._known.move_to_end(invoice.invoice_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def dump(self, before: Invoice | None, after: Invoice) -> JsonText:
        """The JSON of `after`: known, patched from `before`'s known JSON, or dumped whole."""
        data = self.of(after)
        if data is None:
            earlier = self.of(before) if before is not None else None
            if earlier is None:
                data = JsonText(after.model_dump(mode="json"))
            else:
                old, new = before.__dict__, after.__dict__
                changed = {name for name, value in new.items() if old.get(name) is not value}
                data = JsonText({**earlier, **after.model_dump(mode="json", include=changed)})
            self.remember(after, data)
        return data


RESPONSE_FIELDS = ("engagement", "error", "event_ids", "replayed", "version", "invoice", "exception")
"""The CommandResult fields a stored reply holds (`reply_json`; a test pins them)."""


def reply_json(result: CommandResult, invoices: InvoiceJson) -> JsonText:
    """The reply stored for idempotency: `result.model_dump(mode="json")` slim (the engagement
    is rebuilt on replay; the summary is not kept), built field by field: only the error, the
    invoice and the exception are models, and the invoice's JSON is usually at hand already."""
    error, invoice, exception = result.error, result.invoice, result.exception
    data = None if invoice is None else invoices.of(invoice) or JsonText(invoice.model_dump(mode="json"))
    return JsonText(
        {
            "engagement": None,
            "error": None if error is None else error.model_dump(mode="json"),
            "event_ids": list(result.event_ids),
            "replayed": result.replayed,
            "version": result.version,
            "invoice": data,
            "exception": None if exception is None else exception.model_dump(mode="json"),
        }
    )
