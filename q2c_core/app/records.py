"""Plain records the store reads and writes; payloads are JSON-able dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")
Outcome = Literal["ACCEPTED", "REJECTED"]
JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """One event to append to a stream (engagement); seq is 1-based per stream."""

    tenant_id: str
    stream_id: str
    seq: int
    event_type: str
    payload: JsonDict
    principal: str
    correlation_id: str
    request_id: str | None
    occurred_at: datetime

    @property
    def event_id(self) -> str:
        """Stable event id `"{stream_id}:{seq}"`."""
        return f"{self.stream_id}:{self.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent(EventRecord):
    """An appended event with its global journal position."""

    position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One command attempt to audit; the store assigns seq, prev_hash and hash."""

    tenant_id: str
    stream_id: str
    principal: str
    command_type: str
    request_id: str | None
    correlation_id: str
    payload_digest: str
    outcome: Outcome
    rejection_reason: str | None = None
    comment: str | None = None
    event_ids: tuple[str, ...] = ()
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord(AuditEntry):
    """A stored, hash-chained audit record."""

    record_id: int
    seq: int
    prev_hash: str
    hash: str
    events_digest: str | None = None  # chain version 2: sha256 over the events it produced
    chain_version: int = 1  # 1: written before migration 0007 (events not covered); 2: since


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    """The remembered response of a mutating request (AIP-155)."""

    tenant_id: str
    request_id: str
    stream_id: str
    command_type: str
    payload_digest: str
    response: JsonDict
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EngagementRow:
    """Engagement read-model columns at `version`, and a state snapshot at `snapshot_version`.

    Snapshots are written every few versions: a row with `snapshot=None` updates the columns
    and keeps the stored snapshot; loading folds the events after `snapshot_version` onto it.
    """

    tenant_id: str
    engagement_id: str
    customer_id: str
    display_name: str
    state: str
    version: int
    snapshot: JsonDict | None
    create_time: datetime
    update_time: datetime
    currency: str | None = None
    snapshot_version: int | None = None  # None with a snapshot: the snapshot is at `version`

    @property
    def snapshot_at(self) -> int:
        """The version the snapshot holds."""
        return self.version if self.snapshot_version is None else self.snapshot_version


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionRow:
    """Business-exception read-model row; `data` is the full serialized exception."""

    tenant_id: str
    exception_id: str
    engagement_id: str
    customer_id: str
    step: str
    check_name: str
    severity: str
    state: str
    data: JsonDict
    raise_time: datetime
    resolve_time: datetime | None = None
    owner_queue: str = ""
    sla_due_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRow:
    """Customer row; version 1 inserts, version n>1 updates only a row at version n-1."""

    tenant_id: str
    customer_id: str
    display_name: str
    status: str
    version: int
    data: JsonDict
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RateCardRow:
    """One immutable revision of a rate card."""

    tenant_id: str
    rate_card_id: str
    revision: int
    currency_code: str
    data: JsonDict
    create_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRow:
    """Invoice read-model row; `data` is the full serialized invoice, `total` exact decimal text."""

    tenant_id: str
    invoice_id: str
    engagement_id: str
    customer_id: str
    state: str
    period_key: str
    bill_run_id: str
    currency: str
    total: str
    data: JsonDict
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BillRunRow:
    """A bill run; version 1 inserts, version n>1 updates only a row at version n-1."""

    tenant_id: str
    bill_run_id: str
    period_key: str
    state: str
    version: int
    data: JsonDict
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BillRunLease:
    """Who coordinates an unfinished bill run, until when, and how many coordinators it had.

    `owner` is None (and `lease_until` None) when nobody holds it: never taken, or released by a
    coordinator that stopped without finishing the run. `launches` counts the coordinators
    started for the run (each successful take), so a sweeper knows how often it was lost.
    """

    tenant_id: str
    bill_run_id: str
    owner: str | None
    lease_until: datetime | None
    launches: int
    create_time: datetime  # the run's, so a sweeper can give a fresh, unleased run time to start


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEventRow:
    """One refused call: who claimed what, which RPC, why it was refused, from where."""

    tenant_id: str  # the verified token's tenant; "" when no credential was verified
    principal: str
    method: str
    code: str
    reason: str
    message: str
    peer: str
    correlation_id: str
    suppressed_before: int  # refusals the rate limit dropped since the previous event
    occurred_at: datetime
    event_id: int = 0  # assigned by the store


@dataclass(slots=True, kw_only=True)
class WriteBatch:
    """Everything one transaction writes (a command or a group-committed batch of them)."""

    events: list[EventRecord] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    idempotency: list[IdempotencyRecord] = field(default_factory=list)
    engagements: list[EngagementRow] = field(default_factory=list)
    exceptions: list[ExceptionRow] = field(default_factory=list)
    customers: list[CustomerRow] = field(default_factory=list)
    rate_cards: list[RateCardRow] = field(default_factory=list)
    invoices: list[InvoiceRow] = field(default_factory=list)
    bill_runs: list[BillRunRow] = field(default_factory=list)
    version_guards: dict[tuple[str, str], int] = field(default_factory=dict)
    """(tenant, engagement) -> the version a decision without events was based on (0: absent).

    A rejection appends no event, so the journal's unique key cannot catch a stale decision;
    the commit fails with ConcurrencyConflict when the engagement has moved past this version.
    """
    reference_guards: dict[str, int] = field(default_factory=dict)
    """tenant -> the reference version (see `customers`, `rate_cards`) the decisions' customers
    and rate cards were read at: the commit fails with ReferenceDataChanged when the tenant's
    version has moved since. Every batch writing customers or rate cards moves their tenants'
    versions, in its own transaction."""

    def is_empty(self) -> bool:
        """True when the batch writes nothing."""
        return not (
            self.events
            or self.audit
            or self.idempotency
            or self.engagements
            or self.exceptions
            or self.customers
            or self.rate_cards
            or self.invoices
            or self.bill_runs
        )


StreamState = tuple[EngagementRow | None, list[StoredEvent]]
"""An engagement's snapshot row (None before its first) and its events after the snapshot."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; empty next_page_token means the last page."""

    items: list[T]
    next_page_token: str = ""
