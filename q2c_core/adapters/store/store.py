"""Store: the thread-safe, synchronous facade over the journal, audit log and read models."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine

from q2c_core.adapters.store import _billing as b
from q2c_core.adapters.store import _queries as q
from q2c_core.adapters.store import _reconciliation as rec
from q2c_core.adapters.store import _reference as reference
from q2c_core.adapters.store import audit_checkpoints as ac
from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store import security_events as sec
from q2c_core.adapters.store._commit import CommitConnection
from q2c_core.adapters.store._guard import Attempt, guard
from q2c_core.adapters.store._leases import LeaseMethods
from q2c_core.adapters.store._write import AuditHeads, write_batch
from q2c_core.adapters.store.database import READ_ONLY, make_engine
from q2c_core.adapters.store.database import migrate as run_migrations
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.adapters.store.notify import FALLBACK_SECONDS, EventNotifier, PgEventListener
from q2c_core.app.audit.anchor import Checkpoint, Sign
from q2c_core.app.audit.chain import (
    ChainCursor,
    VerifyResult,
    compare_heads,
    verify_chain,
    verify_checked,
)
from q2c_core.app.records import (
    AuditRecord,
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
from q2c_core.app.store_errors import ConcurrencyConflict


class Store(LeaseMethods):
    """Durable store; every method runs in its own connection and transaction (sync)."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine made by `make_engine` (the schema must already be migrated)."""
        self.engine = engine
        self.notifier = EventNotifier()  # woken by commits that wrote events
        self.audit_heads = AuditHeads()  # chain heads this store committed, saving a query per commit
        self._writer = CommitConnection(engine)  # commits run on one held connection
        self._listener: PgEventListener | None = None
        self._listener_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, migrate: bool = True, **engine_kwargs: Any) -> Store:
        """Create an engine for `url` (kwargs go to create_engine) and migrate it to head."""
        engine = make_engine(url, **engine_kwargs)
        if migrate:
            with guard(engine):
                run_migrations(engine)
        return cls(engine)

    def close(self) -> None:
        """Stop the event listener, if any, and dispose of the engine's connection pool."""
        with self._listener_lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        self._writer.close()
        self.engine.dispose()

    def event_notifier(self) -> EventNotifier:
        """The notifier followers wait on. On PostgreSQL the first call starts this store's one
        LISTEN thread, so commits in other processes (Ray shards) wake them too."""
        if self.dialect_name == "postgresql":
            with self._listener_lock:
                if self._listener is None:
                    dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                    self._listener = PgEventListener(dsn, self.notifier).start()
        return self.notifier

    def wait_listening(self, timeout: float) -> bool:
        """Whether the LISTEN connection is up within `timeout` (False on SQLite or unstarted)."""
        listener = self._listener
        return listener is not None and listener.listening.wait(timeout)

    @property
    def follow_fallback_seconds(self) -> float:
        """How long a follower waits for a notification before reading anyway."""
        return FALLBACK_SECONDS.get(self.dialect_name, 1.0)

    @property
    def dialect_name(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only (deferred on SQLite) transaction with error translation."""
        with guard(self.engine), self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    # -- writes -----------------------------------------------------------------------------

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        """Write the whole batch in one transaction; return the stored audit records in order.

        Raises ConcurrencyConflict, DuplicateRequestId or StoreUnavailable; on any error
        nothing of the batch is written.
        """
        if batch.is_empty():
            return []
        attempt = Attempt(batch)
        try:
            records = self._write(attempt)
        except ConcurrencyConflict:
            if not (attempt.cached_heads and attempt.conflict_table == s.audit_records.name):
                raise
            # Another process appended to a stream whose head came from the cache (now forgotten):
            # what the first attempt would have done with heads read in its transaction.
            records = self._write(Attempt(batch))
        if batch.events:  # committed: wake this process's followers
            self.notifier.notify({e.tenant_id for e in batch.events})
        return records

    def _write(self, attempt: Attempt) -> list[AuditRecord]:
        """One transaction; the audit head cache moves only once it committed."""
        try:
            with guard(self.engine, attempt):
                # a partial, not a lambda: the commit path enters this file once (tests/service/test_walk.py)
                records = self._writer.run(partial(write_batch, attempt=attempt, heads=self.audit_heads))
        except BaseException:
            self.audit_heads.forget((a.tenant_id, a.stream_id) for a in attempt.batch.audit)
            raise
        self.audit_heads.advance(attempt.new_heads)
        return records

    # -- journal ----------------------------------------------------------------------------

    def load_stream(self, tenant_id: str, engagement_id: str) -> StreamState:
        """Snapshot row (or None) plus events with seq > its version."""
        return self.load_streams(tenant_id, [engagement_id])[engagement_id]

    def load_streams(self, tenant_id: str, ids: Sequence[str]) -> dict[str, StreamState]:
        """load_stream for many engagements at once (two queries); every id is a key."""
        with self._read() as conn:
            return q.load_streams(conn, tenant_id, ids)

    def read_events(self, tenant_id: str, stream_id: str, after_seq: int = 0) -> list[StoredEvent]:
        """Events of one stream with seq > after_seq."""
        with self._read() as conn:
            return q.read_events(conn, tenant_id, stream_id, after_seq)

    def read_all_events(
        self,
        tenant_id: str,
        after_position: int = 0,
        limit: int = 1000,
        *,
        event_types: Sequence[str] = (),
        stream_id: str | None = None,
    ) -> list[StoredEvent]:
        """The tenant's events after a global position in position order, at most `limit`;
        only of `event_types` when given, only of one stream (engagement) when given.

        Committed positions are always a prefix of the assigned ones (see
        `_write.EVENT_ORDER_LOCK_KEY`), so a reader resuming after the last position it saw misses
        nothing.
        """
        with self._read() as conn:
            return q.read_all_events(conn, tenant_id, after_position, limit, event_types, stream_id)

    def find_idempotency(self, tenant_id: str, request_ids: Sequence[str]) -> dict[str, IdempotencyRecord]:
        """Stored idempotency records by request id (one query)."""
        with self._read() as conn:
            return q.find_idempotency(conn, tenant_id, request_ids)

    # -- read models (page_size <= 0 -> 50, capped at 1000; bad token -> ValueError) ---------

    def get_engagement(self, tenant_id: str, engagement_id: str) -> EngagementRow | None:
        """One engagement row or None."""
        with self._read() as conn:
            return q.get_engagement(conn, tenant_id, engagement_id)

    def list_engagements(
        self,
        tenant_id: str,
        *,
        state: str | None = None,
        customer_id: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[EngagementRow]:
        """Engagements by (create_time, engagement_id); raises ValueError('page_token')."""
        with self._read() as conn:
            return q.list_engagements(conn, tenant_id, state, customer_id, page_size, page_token)

    def get_exception(self, tenant_id: str, exception_id: str) -> ExceptionRow | None:
        """One business exception or None."""
        with self._read() as conn:
            return q.get_exception(conn, tenant_id, exception_id)

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
        """Exceptions by (raise_time, exception_id), oldest first (order_by "oldest_first", the
        default: oldest by age first) or newest first ("newest_first"); filtered by state,
        severity, engagement and owner queue. Raises ValueError('page_token'), also for a token
        made for the other order.
        """
        with self._read() as conn:
            return q.list_exceptions(
                conn,
                tenant_id,
                state,
                severity,
                engagement_id,
                page_size,
                page_token,
                owner_queue=owner_queue,
                order_by=order_by,
            )

    def get_customer(self, tenant_id: str, customer_id: str) -> CustomerRow | None:
        """One customer or None."""
        with self._read() as conn:
            return q.get_customer(conn, tenant_id, customer_id)

    def list_customers(
        self,
        tenant_id: str,
        *,
        status: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[CustomerRow]:
        """Customers by (create_time, customer_id); raises ValueError('page_token')."""
        with self._read() as conn:
            return q.list_customers(conn, tenant_id, status, page_size, page_token)

    def get_rate_card(
        self, tenant_id: str, rate_card_id: str, revision: int | None = None
    ) -> RateCardRow | None:
        """One revision of a rate card (None = latest) or None."""
        with self._read() as conn:
            return q.get_rate_card(conn, tenant_id, rate_card_id, revision)

    def list_rate_cards(
        self,
        tenant_id: str,
        *,
        currency_code: str | None = None,
        page_size: int = 50,
        page_token: str = "",
    ) -> Page[RateCardRow]:
        """Latest revision of each rate card by rate_card_id; raises ValueError('page_token')."""
        with self._read() as conn:
            return q.list_rate_cards(conn, tenant_id, currency_code, page_size, page_token)

    def get_rate_card_revisions(self, tenant_id: str, rate_card_id: str) -> list[RateCardRow]:
        """Every revision of one rate card, ascending."""
        return self.get_rate_cards(tenant_id, [rate_card_id]).get(rate_card_id, [])

    def get_rate_cards(self, tenant_id: str, ids: Sequence[str]) -> dict[str, list[RateCardRow]]:
        """All revisions of several rate cards (one query); unknown ids are absent."""
        with self._read() as conn:
            return q.rate_card_revisions(conn, tenant_id, ids)

    def reference_versions(self, tenant_ids: Sequence[str]) -> dict[str, int]:
        """Each tenant's reference version: moved by every write of its customers or rate cards
        (0 before the first); see `WriteBatch.reference_guards`."""
        with self._read() as conn:
            return reference.read_versions(conn, tenant_ids)

    # -- billing ----------------------------------------------------------------------------

    def get_invoice(self, tenant_id: str, invoice_id: str) -> InvoiceRow | None:
        """One invoice row or None."""
        with self._read() as conn:
            return b.get_invoice(conn, tenant_id, invoice_id)

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
        """Invoices by (create_time, invoice_id); raises ValueError('page_token')."""
        filters = {
            "engagement_id": engagement_id,
            "customer_id": customer_id,
            "state": state,
            "bill_run_id": bill_run_id,
        }
        with self._read() as conn:
            return b.list_invoices(conn, tenant_id, filters, page_size, page_token)

    def get_bill_run(self, tenant_id: str, bill_run_id: str) -> BillRunRow | None:
        """One bill run row or None."""
        with self._read() as conn:
            return b.get_bill_run(conn, tenant_id, bill_run_id)

    def list_bill_runs(self, tenant_id: str, page_size: int = 50, page_token: str = "") -> Page[BillRunRow]:
        """Bill runs newest first by (create_time, bill_run_id); raises ValueError('page_token')."""
        with self._read() as conn:
            return b.list_bill_runs(conn, tenant_id, page_size, page_token)

    def save_bill_run(self, row: BillRunRow) -> None:
        """Insert (version 1) or update from version n-1; raises ConcurrencyConflict otherwise."""
        self.commit(WriteBatch(bill_runs=[row]))

    def list_billable_engagements(
        self, tenant_id: str, *, customer_ids: Sequence[str] = (), currency: str | None = None
    ) -> list[str]:
        """Ids of ACTIVE / COMPLETED engagements in scope, sorted (one query, ids only)."""
        with self._read() as conn:
            return b.billable_engagements(conn, tenant_id, customer_ids, currency or None)

    # -- reconciliation and deliveries ------------------------------------------------------

    def tenants_with_invoices(self) -> list[str]:
        """Every tenant that has at least one invoice, sorted."""
        with self._read() as conn:
            return rec.tenants_with_invoices(conn)

    def owned_engagements(self, tenant_id: str, engagement_ids: Iterable[str]) -> set[str]:
        """The subset of `engagement_ids` that are engagements of `tenant_id`."""
        wanted = [e for e in engagement_ids if e]
        if not wanted:
            return set()
        with self._read() as conn:
            return rec.owned_engagements(conn, tenant_id, wanted)

    def deliveries(self) -> DeliveryStore:
        """The outbox cursor, delivery items and their attempts, over this store's engine."""
        return DeliveryStore(self.engine)

    # -- audit ------------------------------------------------------------------------------

    def list_audit(
        self, tenant_id: str, stream_id: str, page_size: int = 50, page_token: str = ""
    ) -> Page[AuditRecord]:
        """Audit records of one stream in seq order; raises ValueError('page_token')."""
        with self._read() as conn:
            return q.list_audit(conn, tenant_id, stream_id, page_size, page_token)

    def verify_audit(
        self, tenant_id: str, stream_id: str | None = None, checkpoint: Checkpoint | None = None
    ) -> VerifyResult:
        """Verify one stream's chain, or (None) every stream of the tenant, read in chunks, with
        the events each record covers; then compare the heads with `checkpoint` (whose signature
        the caller has checked)."""
        with self._read() as conn:
            return verify_checked(ac.iter_checked(conn, tenant_id, stream_id), checkpoint, stream_id)

    def verify_audit_page(
        self,
        tenant_id: str,
        stream_id: str | None,
        checkpoint: Checkpoint | None,
        start: ChainCursor | None,
        max_records: int,
        seconds: float | None = None,
    ) -> VerifyResult:
        """One bounded page of `verify_audit`: continue the chain after `start`, check at most
        `max_records` records (and stop after a chunk once `seconds` passed); `resume` is set
        when there may be more. The heads are compared with `checkpoint` on the last page only."""
        with self._read() as conn:
            after = (start.stream_id, start.seq) if start else None
            page = ac.CheckedPage(conn, tenant_id, stream_id, after, max_records, seconds)
            result = verify_chain(page, start)
            if not result.ok:
                return replace(result, checkpoint=checkpoint)
            if page.cut:
                return result
            if checkpoint is None:
                return replace(result, resume=None)
            heads = [h for h in checkpoint.heads if stream_id is None or h.stream_id == stream_id]
            seen = ac.head_hashes(conn, tenant_id, heads)
            return compare_heads(checkpoint, seen, result.records_checked, stream_id)

    def create_audit_checkpoint(
        self, tenant_id: str, sign: Sign, request_id: str | None = None, *, if_changed: bool = False
    ) -> Checkpoint:
        """Sign and store the tenant's current stream heads as its next checkpoint (one
        transaction); a request_id already used returns that checkpoint, and so does `if_changed`
        when nothing was audited since the latest one. Raises ConcurrencyConflict."""
        with guard(self.engine), self.engine.begin() as conn:
            return ac.append_checkpoint(conn, tenant_id, request_id, sign, if_changed)

    def get_audit_checkpoint(self, tenant_id: str, sequence: int | None = None) -> Checkpoint | None:
        """One checkpoint by sequence (None = the latest), or None."""
        with self._read() as conn:
            return ac.get_checkpoint(conn, tenant_id, sequence)

    def list_audit_checkpoints(
        self, tenant_id: str, page_size: int = 50, page_token: str = ""
    ) -> Page[Checkpoint]:
        """The tenant's checkpoints newest first; raises ValueError('page_token')."""
        with self._read() as conn:
            return ac.list_checkpoints(conn, tenant_id, page_size, page_token)

    def audit_tenants(self) -> list[str]:
        """Every tenant with audit records (for periodic checkpoints)."""
        with self._read() as conn:
            return ac.audit_tenants(conn)

    # -- security events --------------------------------------------------------------------

    def record_security_event(self, row: SecurityEventRow) -> None:
        """Append one refused call to the security log."""
        with guard(self.engine), self.engine.begin() as conn:
            sec.insert_event(conn, row)

    def list_security_events(
        self, tenant_ids: Sequence[str], page_size: int = 50, page_token: str = ""
    ) -> Page[SecurityEventRow]:
        """Refusals of the given tenants ("" = no verified tenant), newest first."""
        with self._read() as conn:
            return sec.list_events(conn, list(tenant_ids), page_size, page_token)
