"""SQLAlchemy Core tables, and beside each the record class it stores (`RowMap`); every table
carries tenant_id and every query filters on it."""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    UniqueConstraint,
)

from q2c_core.app.records import (
    AuditEntry,
    AuditRecord,
    BillRunRow,
    CustomerRow,
    EngagementRow,
    EventRecord,
    ExceptionRow,
    IdempotencyRecord,
    InvoiceRow,
    RateCardRow,
    StoredEvent,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: Autoincrementing 64-bit id that is still an INTEGER PRIMARY KEY (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")

Params = dict[str, Any]
W = TypeVar("W")
R = TypeVar("R")
W_contra = TypeVar("W_contra", contravariant=True)


def _ts(name: str, nullable: bool = False) -> Column[object]:
    """A timezone-aware timestamp column (stored as UTC)."""
    return Column(name, DateTime(timezone=True), nullable=nullable)


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """Aware UTC datetime; naive input (as SQLite returns) is taken to be UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _ParamsOf(Protocol[W_contra]):
    def __call__(self, record: W_contra, /, **columns: Any) -> Params: ...


class RowMap(Generic[W, R]):
    """How one record class is written to one table and read back from it.

    `params(record, **columns)` holds every column but the database-assigned key: the written
    class's attribute of that name (a field, or a property such as EventRecord.event_id), or
    the one `write_from` names, else the keyword argument of that name, which is then required
    (AuditEntry has no `hash`). `record(row)` (`from_values(dict)`) builds the read class, the
    written one unless `read`, from the columns named like its fields, converted by `read_as`.
    DateTime columns are written as UTC and read back aware UTC. The functions are generated
    once per table, so they cost what hand-written ones would.
    """

    @overload
    def __init__(
        self: RowMap[R, R],
        record: type[R],
        table: Table,
        *,
        write_from: Mapping[str, str] | None = ...,
        read_as: Mapping[str, Callable[[Any], Any]] | None = ...,
    ) -> None: ...
    @overload
    def __init__(
        self,
        record: type[W],
        table: Table,
        *,
        read: type[R],
        write_from: Mapping[str, str] | None = ...,
        read_as: Mapping[str, Callable[[Any], Any]] | None = ...,
    ) -> None: ...
    def __init__(
        self,
        record: type[Any],
        table: Table,
        *,
        read: type[Any] | None = None,
        write_from: Mapping[str, str] | None = None,
        read_as: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        read, write_from, read_as = read or record, write_from or {}, read_as or {}
        names = [f.name for f in fields(read) if f.init]
        if missing := [n for n in names if n not in table.c]:
            raise TypeError(f"{read.__name__} fields without a column in {table.name}: {missing}")
        self.table = table
        self.source = _source(record, table, write_from, names, read_as)
        env: dict[str, Any] = {"utc": utc, "cls": read}
        env.update({f"read_{n}": f for n, f in read_as.items()})
        exec(self.source, env)  # like dataclasses' __init__: compiled once, as fast as hand-written
        self.params: _ParamsOf[W] = env["params"]
        self.record: Callable[[Row[Any]], R] = env["record"]
        self.from_values: Callable[[Mapping[str, Any]], R] = env["from_values"]


def _source(
    record: type[Any],
    table: Table,
    write_from: Mapping[str, str],
    read: list[str],
    read_as: Mapping[str, Any],
) -> str:
    """Python source of RowMap's `params(o, /, *, <columns o lacks>)`, `record` and `from_values`."""
    times = {c.name for c in table.columns if isinstance(c.type, DateTime)}
    columns = [c.name for c in table.columns if c is not table.autoincrement_column]
    assert all(n.isidentifier() and not keyword.iskeyword(n) for n in columns), columns
    lacking = [n for n in columns if n not in write_from and not hasattr(record, n)]
    items = []
    for n in columns:
        value = n if n in lacking else f"o.{write_from.get(n, n)}"
        items.append(f"{n!r}: utc({value})" if n in times else f"{n!r}: {value}")
    kwargs = []
    for n in read:
        value = f"read_{n}(m[{n!r}])" if n in read_as else f"m[{n!r}]"
        kwargs.append(f"{n}=utc({value})" if n in times else f"{n}={value}")
    keywords = f", *, {', '.join(lacking)}" if lacking else ""
    return (
        f"def params(o, /{keywords}):\n    return {{{', '.join(items)}}}\n\n"
        f"def record(row, /):\n    m = row._mapping\n    return cls({', '.join(kwargs)})\n\n"
        f"def from_values(m, /):\n    return cls({', '.join(kwargs)})\n"
    )


events = Table(
    "events",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String, nullable=False),
    Column("stream_id", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event_id", String, nullable=False),
    Column("event_type", String, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("principal", String, nullable=False),
    Column("correlation_id", String, nullable=False),
    Column("request_id", String, nullable=True),
    _ts("occurred_at"),
    # The optimistic-concurrency key; also serves as the (tenant_id, stream_id, seq) index.
    UniqueConstraint("tenant_id", "stream_id", "seq"),
    Index(None, "tenant_id", "position"),
    sqlite_autoincrement=True,
)
EVENTS = RowMap(EventRecord, events, read=StoredEvent)  # event_id: the record's derived property

audit_records = Table(
    "audit_records",
    metadata,
    Column("record_id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String, nullable=False),
    Column("stream_id", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("principal", String, nullable=False),
    Column("command_type", String, nullable=False),
    Column("request_id", String, nullable=True),
    Column("correlation_id", String, nullable=False),
    Column("payload_digest", String, nullable=False),
    Column("outcome", String, nullable=False),
    Column("rejection_reason", String, nullable=True),
    Column("comment", String, nullable=True),
    Column("event_ids", JSON, nullable=False),
    _ts("recorded_at"),
    Column("prev_hash", String, nullable=False),
    Column("hash", String, nullable=False),
    Column("events_digest", String, nullable=True),  # chain version 2: digest of its events
    Column("chain_version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("tenant_id", "stream_id", "seq"),
    sqlite_autoincrement=True,
)
AUDIT = RowMap(AuditEntry, audit_records, read=AuditRecord, read_as={"event_ids": tuple})
"""params() takes seq, prev_hash, hash, events_digest and chain_version: the store chains them."""

idempotency = Table(
    "idempotency",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("request_id", String, nullable=False),
    Column("stream_id", String, nullable=False),
    Column("command_type", String, nullable=False),
    Column("payload_digest", String, nullable=False),
    Column("response", JSON, nullable=False),
    _ts("created_at"),
    PrimaryKeyConstraint("tenant_id", "request_id"),
)
IDEMPOTENCY = RowMap(IdempotencyRecord, idempotency)

engagements = Table(
    "engagements",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("engagement_id", String, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("display_name", String, nullable=False),
    Column("state", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSON, nullable=False),
    _ts("create_time"),
    _ts("update_time"),
    Column("currency", String, nullable=True),  # the contract currency (none before a contract)
    Column("snapshot_version", Integer, nullable=False, server_default="0"),  # version `snapshot` holds
    PrimaryKeyConstraint("tenant_id", "engagement_id"),
    Index(None, "tenant_id", "state"),
    Index(None, "tenant_id", "customer_id"),
    Index(None, "tenant_id", "create_time", "engagement_id"),
)
ENGAGEMENTS = RowMap(EngagementRow, engagements, write_from={"snapshot_version": "snapshot_at"})
"""A row without a snapshot updates only the read-model columns (_write.py)."""

exceptions = Table(
    "exceptions",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("exception_id", String, nullable=False),
    Column("engagement_id", String, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("step", String, nullable=False),
    Column("check_name", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("state", String, nullable=False),
    Column("data", JSON, nullable=False),
    _ts("raise_time"),
    _ts("resolve_time", nullable=True),
    Column("owner_queue", String, nullable=False, server_default=""),  # FINANCE_OPS, ...
    _ts("sla_due_time", nullable=True),  # none: no SLA (AUTO_CORRECTED)
    PrimaryKeyConstraint("tenant_id", "exception_id"),
    Index(None, "tenant_id", "state", "severity"),
    Index(None, "tenant_id", "engagement_id"),
    Index(None, "tenant_id", "owner_queue"),
)
EXCEPTIONS = RowMap(ExceptionRow, exceptions)

customers = Table(
    "customers",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("display_name", String, nullable=False),
    Column("status", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    _ts("create_time"),
    _ts("update_time"),
    PrimaryKeyConstraint("tenant_id", "customer_id"),
)
CUSTOMERS = RowMap(CustomerRow, customers)

rate_cards = Table(
    "rate_cards",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("rate_card_id", String, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("currency_code", String, nullable=False),
    Column("data", JSON, nullable=False),
    _ts("create_time"),
    PrimaryKeyConstraint("tenant_id", "rate_card_id", "revision"),
)
RATE_CARDS = RowMap(RateCardRow, rate_cards)

reference_versions = Table(
    "reference_versions",
    metadata,
    Column("tenant_id", String, nullable=False),
    # moved by every transaction that writes the tenant's customers or rate cards, so that a
    # host may keep them cached across batches (WriteBatch.reference_guards); absent: 0
    Column("version", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("invoice_id", String, nullable=False),
    Column("engagement_id", String, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("state", String, nullable=False),
    Column("period_key", String, nullable=False),
    Column("bill_run_id", String, nullable=False),
    Column("currency", String, nullable=False),
    Column("total", String, nullable=False),  # exact decimal text
    Column("data", JSON, nullable=False),
    _ts("create_time"),
    _ts("update_time"),
    PrimaryKeyConstraint("tenant_id", "invoice_id"),
    Index(None, "tenant_id", "engagement_id"),
    Index(None, "tenant_id", "customer_id"),
    Index(None, "tenant_id", "state"),
    Index(None, "tenant_id", "bill_run_id"),
    Index(None, "tenant_id", "create_time", "invoice_id"),
)
INVOICES = RowMap(InvoiceRow, invoices)

bill_runs = Table(
    "bill_runs",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("bill_run_id", String, nullable=False),
    Column("period_key", String, nullable=False),
    Column("state", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    _ts("create_time"),
    _ts("update_time"),
    PrimaryKeyConstraint("tenant_id", "bill_run_id"),
    Index(None, "tenant_id", "create_time", "bill_run_id"),
    Index(None, "state"),  # the sweeper's search for unfinished runs, across tenants
)
BILL_RUNS = RowMap(BillRunRow, bill_runs)

bill_run_leases = Table(  # who coordinates an unfinished run (q2c_core.app.billing.lease)
    "bill_run_leases",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("bill_run_id", String, nullable=False),
    Column("owner", String, nullable=True),  # None: free (released)
    _ts("lease_until", nullable=True),
    Column("launches", Integer, nullable=False),  # coordinators started for the run
    _ts("update_time"),
    PrimaryKeyConstraint("tenant_id", "bill_run_id"),
)

# -- outbound delivery (q2c_core.app.delivery) ------------------------------------------------------

delivery_cursors = Table(
    "delivery_cursors",
    metadata,
    Column("consumer", String, nullable=False),  # e.g. "delivery": who reads the events outbox
    Column("position", BigInteger, nullable=False),  # the last event position planned
    _ts("update_time"),
    PrimaryKeyConstraint("consumer"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String, nullable=False),
    Column("destination", String, nullable=False),  # ERP, PSA
    Column("operation", String, nullable=False),  # create_job, post_invoice, ...
    Column("key", String, nullable=False),  # the downstream idempotency key
    Column("engagement_id", String, nullable=False),
    Column("subject_id", String, nullable=False),  # engagement, invoice or payment id
    Column("invoice_id", String, nullable=True),
    Column("source_position", BigInteger, nullable=False),  # the event that asked for it
    Column("status", String, nullable=False),  # PENDING, DELIVERED, DEAD
    Column("attempts", Integer, nullable=False),
    _ts("next_attempt_time"),
    Column("failure_kind", String, nullable=True),  # FailureKind of the last failure
    Column("last_error", String, nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("last_payload", String, nullable=True),  # raw reply of a MALFORMED failure
    Column("document_number", String, nullable=True),
    _ts("create_time"),
    _ts("update_time"),
    _ts("delivered_time", nullable=True),
    _ts("dead_time", nullable=True),
    UniqueConstraint("tenant_id", "destination", "key"),
    Index(None, "status", "destination", "next_attempt_time"),
    Index(None, "destination", "engagement_id", "status"),
    Index(None, "tenant_id", "status", "delivery_id"),
    sqlite_autoincrement=True,
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("attempt_id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),  # 1, 2, ... within the item's current round
    _ts("attempt_time"),
    Column("outcome", String, nullable=False),  # DELIVERED or the FailureKind
    Column("message", String, nullable=False),
    Column("http_status", Integer, nullable=True),
    Column("payload", String, nullable=True),
    Index(None, "delivery_id", "attempt_id"),
    sqlite_autoincrement=True,
)

# -- security (q2c_core.edge.auth) ------------------------------------------------------------

security_events = Table(
    "security_events",
    metadata,
    Column("event_id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", String, nullable=False),  # the token's tenant; "" when none was verified
    Column("principal", String, nullable=False),  # the token's subject; "" when none was verified
    Column("method", String, nullable=False),  # the full RPC name
    Column("code", String, nullable=False),  # UNAUTHENTICATED or PERMISSION_DENIED
    Column("reason", String, nullable=False),  # CREDENTIALS_MISSING, SCOPE_MISSING, ...
    Column("message", String, nullable=False),
    Column("peer", String, nullable=False),  # the caller's address as gRPC reports it
    Column("correlation_id", String, nullable=False),
    Column("suppressed_before", Integer, nullable=False),  # refusals dropped by the rate limit since the last
    _ts("occurred_at"),
    Index(None, "tenant_id", "event_id"),
    sqlite_autoincrement=True,
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tenant_id", String, nullable=False),
    Column("sequence", Integer, nullable=False),  # 1, 2, ... per tenant
    _ts("created_at"),
    Column("heads", JSON, nullable=False),  # [[stream_id, seq, hash], ...] sorted by stream_id
    Column("root", String, nullable=False),  # RFC 6962 Merkle root over the heads
    Column("key_id", String, nullable=False),
    Column("signature", String, nullable=False),  # base64 Ed25519 over the canonical checkpoint
    Column("format", Integer, nullable=False),
    Column("request_id", String, nullable=True),
    PrimaryKeyConstraint("tenant_id", "sequence"),
    UniqueConstraint("tenant_id", "request_id"),
)
