"""Ports: what the app and the edge need from the outside world, as protocols.

Adapters implement them (the SQLAlchemy store, the commit notifier); the app and the edge
depend on these and on app types only, never on an adapter module. `Store` and `DeliveryStore`
list exactly what app code calls; `q2c_core.adapters.store.Store` satisfies them structurally.
Page sizes <= 0 mean 50 and are capped at 1000; a bad page token raises ValueError('page_token').
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from q2c_core.app.audit.anchor import Checkpoint, Sign
from q2c_core.app.audit.chain import ChainCursor, VerifyResult
from q2c_core.app.delivery.model import (
    DeliveryAttempt,
    DeliveryItem,
    DeliveryStatus,
    Destination,
    DestinationStats,
    Operation,
    Outcome,
    PlannedDelivery,
    RetryFilter,
    RetryOutcome,
)
from q2c_core.app.records import (
    AuditRecord,
    BillRunLease,
    BillRunRow,
    CustomerRow,
    EngagementRow,
    ExceptionRow,
    IdempotencyRecord,
    InvoiceRow,
    Page,
    RateCardRow,
    SecurityEventRow,
    StoredEvent,
    StreamState,
    WriteBatch,
)


class SecurityEventSink(Protocol):
    """Where refused calls are kept (the store's security_events table)."""

    def record_security_event(self, row: SecurityEventRow) -> None:
        """Append one refusal."""
        ...


class CommitNotifier(Protocol):
    """Tells event followers that a tenant's events moved (per-process, or via LISTEN/NOTIFY)."""

    def version(self, tenant_id: str) -> int:
        """A counter that grows with every commit of the tenant's events."""
        ...

    async def wait(self, tenant_id: str, seen: int, timeout: float) -> bool:
        """Wait until the counter passes `seen` (True) or `timeout` seconds pass (False)."""
        ...


class IdempotencyRecords(Protocol):
    """Where the remembered replies of mutating requests are read (AIP-155)."""

    def find_idempotency(self, tenant_id: str, request_ids: Sequence[str]) -> dict[str, IdempotencyRecord]:
        """Stored idempotency records by request id."""
        ...


class DeliveryStore(IdempotencyRecords, Protocol):
    """The outbox cursor, delivery items and their attempts; each method is one transaction."""

    def cursor(self, consumer: str) -> int:
        """The last event position `consumer` has planned (0 before the first)."""
        ...

    def read_outbox(self, after_position: int, limit: int, event_types: Sequence[str]) -> list[StoredEvent]:
        """Events of every tenant after a position, in position order, only of `event_types`."""
        ...

    def last_position(self) -> int:
        """The highest event position written so far (0 when there is none)."""
        ...

    def enqueue(
        self,
        consumer: str,
        from_position: int,
        to_position: int,
        planned: Sequence[PlannedDelivery],
        now: datetime,
    ) -> int:
        """Insert new items and move the cursor atomically; ConcurrencyConflict if it moved."""
        ...

    def due(
        self, destination: Destination, now: datetime, limit: int, busy: Sequence[int] = ()
    ) -> list[DeliveryItem]:
        """PENDING items due by `now`, each the first undelivered of its engagement, not `busy`."""
        ...

    def record(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record attempts' outcomes on their items and in the attempt history."""
        ...

    def document_number(self, tenant_id: str, destination: Destination, key: str) -> str | None:
        """The document number a delivered item of this key got (None if not delivered)."""
        ...

    def get(self, tenant_id: str, delivery_id: int) -> DeliveryItem | None:
        """One item of the tenant, or None."""
        ...

    def attempts(self, delivery_id: int) -> list[DeliveryAttempt]:
        """Every recorded attempt of an item, oldest first."""
        ...

    def list_items(
        self,
        tenant_id: str,
        *,
        status: DeliveryStatus | None = None,
        destination: Destination | None = None,
        operation: Operation | None = None,
        engagement_id: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[DeliveryItem]:
        """The tenant's items by delivery_id, filtered."""
        ...

    def retry_dead_audited(
        self,
        tenant_id: str,
        wanted: RetryFilter,
        now: datetime,
        audit: Callable[[list[int]], WriteBatch],
    ) -> RetryOutcome:
        """Wanted dead letters back to PENDING, committed with `audit(moved_ids)` in one transaction."""
        ...

    def stats(self, tenant_id: str | None, now: datetime) -> list[DestinationStats]:
        """Per destination counts (`tenant_id` None: every tenant)."""
        ...


class Store(IdempotencyRecords, Protocol):
    """The journal, audit log, read models, checkpoints and security log; synchronous."""

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        """Write the batch in one transaction; ConcurrencyConflict / DuplicateRequestId / StoreUnavailable."""
        ...

    def event_notifier(self) -> CommitNotifier:
        """What event followers wait on (woken by commits)."""
        ...

    @property
    def follow_fallback_seconds(self) -> float:
        """How long a follower waits for a notification before reading anyway."""
        ...

    def load_stream(self, tenant_id: str, engagement_id: str) -> StreamState:
        """Snapshot row (or None) plus the events after it."""
        ...

    def load_streams(self, tenant_id: str, ids: Sequence[str]) -> dict[str, StreamState]:
        """load_stream for many engagements at once; every id is a key."""
        ...

    def read_events(self, tenant_id: str, stream_id: str, after_seq: int = 0) -> list[StoredEvent]:
        """Events of one stream with seq > after_seq."""
        ...

    def read_all_events(
        self,
        tenant_id: str,
        after_position: int = 0,
        limit: int = 1000,
        *,
        event_types: Sequence[str] = (),
        stream_id: str | None = None,
    ) -> list[StoredEvent]:
        """The tenant's events after a global position in position order (optionally filtered)."""
        ...

    def list_engagements(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        customer_id: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[EngagementRow]:
        """Engagements by (create_time, engagement_id)."""
        ...

    def get_exception(self, tenant_id: str, exception_id: str) -> ExceptionRow | None:
        """One business exception or None."""
        ...

    def list_exceptions(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        severity: str | None = None,
        engagement_id: str | None = None,
        owner_queue: str | None = None,
        order_by: str = "oldest_first",
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[ExceptionRow]:
        """Exceptions by raise time ("oldest_first" or "newest_first"), filtered."""
        ...

    def get_customer(self, tenant_id: str, customer_id: str) -> CustomerRow | None:
        """One customer or None."""
        ...

    def list_customers(
        self, tenant_id: str, *, status: str | None = None, page_size: int = 50, page_token: str = ""
    ) -> Page[CustomerRow]:
        """Customers by (create_time, customer_id)."""
        ...

    def get_rate_card(
        self, tenant_id: str, rate_card_id: str, revision: int | None = None
    ) -> RateCardRow | None:
        """One revision of a rate card (None = latest) or None."""
        ...

    def list_rate_cards(
        self, tenant_id: str, *, currency_code: str | None = None, page_size: int = 50, page_token: str = ""
    ) -> Page[RateCardRow]:
        """Latest revision of each rate card by rate_card_id."""
        ...

    def get_rate_card_revisions(self, tenant_id: str, rate_card_id: str) -> list[RateCardRow]:
        """Every revision of one rate card, ascending."""
        ...

    def get_rate_cards(self, tenant_id: str, ids: Sequence[str]) -> dict[str, list[RateCardRow]]:
        """All revisions of several rate cards; unknown ids are absent."""
        ...

    def reference_versions(self, tenant_ids: Sequence[str]) -> dict[str, int]:
        """Each tenant's reference version, moved by every write of its customers or rate cards."""
        ...

    def get_invoice(self, tenant_id: str, invoice_id: str) -> InvoiceRow | None:
        """One invoice row or None."""
        ...

    def list_invoices(
        self,
        tenant_id: str,
        *,
        engagement_id: str | None = None,
        customer_id: str | None = None,
        state: str | None = None,
        bill_run_id: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[InvoiceRow]:
        """Invoices by (create_time, invoice_id), filtered."""
        ...

    def get_bill_run(self, tenant_id: str, bill_run_id: str) -> BillRunRow | None:
        """One bill run row or None."""
        ...

    def list_bill_runs(self, tenant_id: str, page_size: int = 50, page_token: str = "") -> Page[BillRunRow]:
        """Bill runs newest first."""
        ...

    def save_bill_run(self, row: BillRunRow) -> None:
        """Insert (version 1) or update from version n-1; ConcurrencyConflict otherwise."""
        ...

    def list_billable_engagements(
        self, tenant_id: str, *, customer_ids: Sequence[str] = (), currency: str | None = None
    ) -> list[str]:
        """Ids of ACTIVE / COMPLETED engagements in scope, sorted."""
        ...

    def get_bill_run_lease(self, tenant_id: str, bill_run_id: str) -> BillRunLease | None:
        """The run's lease (launches 0, no owner, when never taken); None for an unknown run."""
        ...

    def take_bill_run_lease(
        self, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
    ) -> BillRunLease | None:
        """Compare-and-set: an unfinished run's free or expired lease to `owner` (launches + 1,
        the run's version bumped), or None; of racing takers exactly one wins."""
        ...

    def renew_bill_run_lease(
        self, tenant_id: str, bill_run_id: str, owner: str, now: datetime, until: datetime
    ) -> bool:
        """Extend `owner`'s lease to `until`; False when `owner` no longer holds it."""
        ...

    def release_bill_run_lease(self, tenant_id: str, bill_run_id: str, owner: str, now: datetime) -> bool:
        """Free `owner`'s lease (the run is sweepable at once); False when not held."""
        ...

    def list_abandoned_bill_runs(
        self, now: datetime, unleased_before: datetime, limit: int = 100
    ) -> list[BillRunLease]:
        """Unfinished runs of every tenant whose lease expired or was released, or never
        leased and created before `unleased_before`; oldest first."""
        ...

    def tenants_with_invoices(self) -> list[str]:
        """Every tenant that has at least one invoice, sorted."""
        ...

    def owned_engagements(self, tenant_id: str, engagement_ids: Iterable[str]) -> set[str]:
        """The subset of `engagement_ids` that are engagements of `tenant_id`."""
        ...

    def deliveries(self) -> DeliveryStore:
        """The delivery tables of the same database."""
        ...

    def list_audit(
        self, tenant_id: str, stream_id: str, page_size: int = 50, page_token: str = ""
    ) -> Page[AuditRecord]:
        """Audit records of one stream in seq order."""
        ...

    def verify_audit(
        self, tenant_id: str, stream_id: str | None = None, checkpoint: Checkpoint | None = None
    ) -> VerifyResult:
        """Verify one stream's chain (None: all the tenant's), then the heads against `checkpoint`."""
        ...

    def verify_audit_page(
        self,
        tenant_id: str,
        stream_id: str | None,
        checkpoint: Checkpoint | None,
        start: ChainCursor | None,
        max_records: int,
        seconds: float | None = None,
    ) -> VerifyResult:
        """One bounded page of `verify_audit`, continuing after `start`."""
        ...

    def create_audit_checkpoint(
        self, tenant_id: str, sign: Sign, request_id: str | None = None, *, if_changed: bool = False
    ) -> Checkpoint:
        """Sign and store the tenant's current stream heads as its next checkpoint."""
        ...

    def get_audit_checkpoint(self, tenant_id: str, sequence: int | None = None) -> Checkpoint | None:
        """One checkpoint by sequence (None = the latest), or None."""
        ...

    def list_audit_checkpoints(
        self, tenant_id: str, page_size: int = 50, page_token: str = ""
    ) -> Page[Checkpoint]:
        """The tenant's checkpoints newest first."""
        ...

    def audit_tenants(self) -> list[str]:
        """Every tenant with audit records."""
        ...

    def list_security_events(
        self, tenant_ids: Sequence[str], page_size: int = 50, page_token: str = ""
    ) -> Page[SecurityEventRow]:
        """Refusals of the given tenants ("" = no verified tenant), newest first."""
        ...
