"""SQLAlchemy Core tables; every table carries tenant_id and every query filters on it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: Autoincrementing 64-bit id that is still an INTEGER PRIMARY KEY (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


def _ts(name: str, nullable: bool = False) -> Column[object]:
    """A timezone-aware timestamp column (stored as UTC)."""
    return Column(name, DateTime(timezone=True), nullable=nullable)


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
