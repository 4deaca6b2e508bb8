"""Read side: engagements, exceptions, invoices, bill runs and the audit log, from the read models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from q2c_core.app.audit.anchor import CheckpointSigner
from q2c_core.app.audit.chain import VerifyResult
from q2c_core.app.audit.ledger import AuditLedger
from q2c_core.app.billing.runs import BillRun, bill_run_from_row
from q2c_core.app.decoding import UnreadableEngagementError, rebuild
from q2c_core.app.paging import paged
from q2c_core.app.ports import CommitNotifier, Store
from q2c_core.app.records import AuditRecord, EngagementRow, ExceptionRow, InvoiceRow, Page, StoredEvent
from q2c_core.app.reference_data import ReferenceData
from q2c_core.domain import commands as cmd
from q2c_core.domain.billing import BillingDraft, draft_invoice
from q2c_core.domain.decide import reference_needs
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BusinessException,
    EngagementState,
    ExceptionState,
    OwnerQueue,
    Severity,
)
from q2c_core.domain.errors import NotFoundError
from q2c_core.domain.invoices import Invoice, InvoiceState
from q2c_core.domain.periods import BillingPeriod

log = logging.getLogger(__name__)


def engagement_from_row(
    row: EngagementRow,
    tail: Sequence[StoredEvent] = (),
    journal: Callable[[], Sequence[StoredEvent]] | None = None,
) -> Engagement:
    """The engagement: its row's snapshot with the events recorded after it folded on (a snapshot
    that does not decode: the whole `journal()` folded instead); UnreadableEngagementError names
    the stored event that does not decode."""
    state = rebuild(row, tail, journal or (lambda: ()), row.engagement_id)
    if state is None:
        raise NotFoundError("engagement", row.engagement_id)
    return state


def exception_from_row(row: ExceptionRow) -> BusinessException:
    """The business exception stored in its read-model row."""
    return BusinessException.model_validate(row.data)


def invoice_from_row(row: InvoiceRow) -> Invoice:
    """The invoice stored in its read-model row."""
    return Invoice.model_validate(row.data)


class Queries:
    """Tenant-scoped reads; every method is sync (callers run it in a thread)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get_engagement(self, tenant_id: str, engagement_id: str) -> Engagement:
        """One engagement, as of its last committed command."""
        row, tail = self._store.load_stream(tenant_id, engagement_id)
        if row is None:
            raise NotFoundError("engagement", engagement_id)
        return engagement_from_row(row, tail, self._journal(tenant_id, engagement_id))

    def _journal(self, tenant_id: str, engagement_id: str) -> Callable[[], list[StoredEvent]]:
        return lambda: self._store.read_events(tenant_id, engagement_id)

    def list_engagements(
        self,
        tenant_id: str,
        state: EngagementState | None,
        customer_id: str | None,
        page_size: int,
        page_token: str,
    ) -> Page[Engagement]:
        """Engagements in creation order, optionally filtered by state and customer."""
        page = paged(
            lambda size: self._store.list_engagements(
                tenant_id,
                state=state.value if state else None,
                customer_id=customer_id or None,
                page_size=size,
                page_token=page_token,
            ),
            page_size,
            lambda row: row,
        )
        stale = [row.engagement_id for row in page.items if row.snapshot_at < row.version]
        current = self._store.load_streams(tenant_id, stale) if stale else {}
        items = []
        for row in page.items:
            fresh, tail = current.get(row.engagement_id, (row, []))
            try:
                items.append(
                    engagement_from_row(fresh or row, tail, self._journal(tenant_id, row.engagement_id))
                )
            except UnreadableEngagementError as bad:  # one unreadable engagement must not hide the rest
                log.error("list_engagements skips it: %s", bad.message)
        return Page(items=items, next_page_token=page.next_page_token)

    def get_exception(self, tenant_id: str, exception_id: str) -> BusinessException:
        """One business exception."""
        row = self._store.get_exception(tenant_id, exception_id)
        if row is None:
            raise NotFoundError("exception", exception_id)
        return exception_from_row(row)

    def list_exceptions(
        self,
        tenant_id: str,
        state: ExceptionState | None,
        severity: Severity | None,
        engagement_id: str | None,
        page_size: int,
        page_token: str,
        owner_queue: OwnerQueue | None = None,
        newest_first: bool = False,
    ) -> Page[BusinessException]:
        """The exception queue, filtered by state, severity, engagement and owner queue; oldest
        raise_time (the greatest age) first, or newest first."""
        return paged(
            lambda size: self._store.list_exceptions(
                tenant_id,
                state=state.value if state else None,
                severity=severity.value if severity else None,
                engagement_id=engagement_id or None,
                owner_queue=owner_queue.value if owner_queue else None,
                order_by="newest_first" if newest_first else "oldest_first",
                page_size=size,
                page_token=page_token,
            ),
            page_size,
            exception_from_row,
        )

    def list_audit(
        self, tenant_id: str, stream_id: str, page_size: int, page_token: str
    ) -> Page[AuditRecord]:
        """One stream's audit chain in sequence order."""
        return paged(
            lambda size: self._store.list_audit(tenant_id, stream_id, size, page_token),
            page_size,
            lambda record: record,
        )

    def verify_audit(self, tenant_id: str, stream_id: str | None) -> VerifyResult:
        """Recompute the hash chain of one stream (or all of the tenant's)."""
        return self._store.verify_audit(tenant_id, stream_id or None)

    def event_notifier(self) -> CommitNotifier:
        """What event followers wait on (woken by commits; the store adapter implements it)."""
        return self._store.event_notifier()

    @property
    def follow_fallback_seconds(self) -> float:
        """How long a follower waits without a notification before reading anyway."""
        return self._store.follow_fallback_seconds

    def audit_ledger(self, signer: CheckpointSigner | None) -> AuditLedger:
        """Signed checkpoints and verification of the audit log (signer None: cannot sign)."""
        return AuditLedger(self._store, signer)

    # -- billing ---------------------------------------------------------------------------

    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice:
        """One invoice, as of its engagement's last committed command."""
        row = self._store.get_invoice(tenant_id, invoice_id)
        if row is None:
            raise NotFoundError("invoice", invoice_id)
        return invoice_from_row(row)

    def list_invoices(
        self,
        tenant_id: str,
        engagement_id: str | None,
        customer_id: str | None,
        state: InvoiceState | None,
        bill_run_id: str | None,
        page_size: int,
        page_token: str,
    ) -> Page[Invoice]:
        """Invoices in creation order, filtered by engagement, customer, state and bill run."""
        return paged(
            lambda size: self._store.list_invoices(
                tenant_id,
                engagement_id=engagement_id or None,
                customer_id=customer_id or None,
                state=state.value if state else None,
                bill_run_id=bill_run_id or None,
                page_size=size,
                page_token=page_token,
            ),
            page_size,
            invoice_from_row,
        )

    def get_bill_run(self, tenant_id: str, bill_run_id: str) -> BillRun:
        """One bill run with its current progress."""
        row = self._store.get_bill_run(tenant_id, bill_run_id)
        if row is None:
            raise NotFoundError("bill_run", bill_run_id)
        return bill_run_from_row(row)

    def list_bill_runs(self, tenant_id: str, page_size: int, page_token: str) -> Page[BillRun]:
        """Bill runs, newest first."""
        return paged(
            lambda size: self._store.list_bill_runs(tenant_id, size, page_token),
            page_size,
            bill_run_from_row,
        )

    def invoice_readiness(self, tenant_id: str, engagement_id: str, period: BillingPeriod) -> BillingDraft:
        """What GenerateInvoice would bill for the period now, and what stands in the way."""
        state = self.get_engagement(tenant_id, engagement_id)
        needs = reference_needs(state, cmd.GenerateInvoice(period=period))
        reference = ReferenceData(self._store)
        customer = reference.customer(tenant_id, needs.customer_id) if needs.customer_id else None
        cards = reference.rate_cards(tenant_id, needs.rate_card_ids)
        return draft_invoice(state, period, cards, customer)

    # -- event stream ----------------------------------------------------------------------

    def read_events(
        self,
        tenant_id: str,
        after_position: int,
        limit: int,
        event_types: Sequence[str] = (),
        engagement_id: str | None = None,
    ) -> list[StoredEvent]:
        """Up to `limit` of the tenant's events after a global position, in position order,
        optionally only of some types and of one engagement (the event stream's page)."""
        return self._store.read_all_events(
            tenant_id, after_position, limit, event_types=event_types, stream_id=engagement_id
        )
