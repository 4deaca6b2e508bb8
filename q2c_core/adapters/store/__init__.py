"""Durable store: event journal, hash-chained audit log, idempotency records and read models."""

from q2c_core.adapters.store.database import make_engine, migrate, normalize_url
from q2c_core.adapters.store.schema import metadata
from q2c_core.adapters.store.store import Store
from q2c_core.app.audit.chain import (
    GENESIS_HASH,
    ChainCursor,
    VerifyResult,
    canonical,
    chain_hash,
    format_utc,
    record_hash,
    verify,
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
    Page,
    RateCardRow,
    StoredEvent,
    WriteBatch,
)
from q2c_core.app.store_errors import (
    ConcurrencyConflict,
    DuplicateRequestId,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditRecord",
    "BillRunRow",
    "ChainCursor",
    "ConcurrencyConflict",
    "CustomerRow",
    "DuplicateRequestId",
    "EngagementRow",
    "EventRecord",
    "ExceptionRow",
    "IdempotencyRecord",
    "InvoiceRow",
    "Page",
    "RateCardRow",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoredEvent",
    "VerifyResult",
    "WriteBatch",
    "canonical",
    "chain_hash",
    "format_utc",
    "make_engine",
    "metadata",
    "migrate",
    "normalize_url",
    "record_hash",
    "verify",
]
