"""An in-memory Store: the fake the app-layer unit tests run on.

It keeps the same promises as the SQLAlchemy store (tests/contract/store proves both): a
batch is written whole or not at all; a taken (engagement, seq) or a stale version is a
ConcurrencyConflict naming the stream; a stored request id is a DuplicateRequestId; a moved
reference version (WriteBatch.reference_guards) is a ReferenceDataChanged; the
audit log is hash-chained per stream with the events each record covers; lists are keyset
pages with opaque tokens that raise ValueError('page_token') when forged. What it does not
do is survive the process, which is why it lives under tests/.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from q2c_core.app.audit.chain import (
    GENESIS_HASH,
    VerifyResult,
    canonical,
    chain_hash,
    events_digest,
    verify_checked,
)
from q2c_core.app.records import (
    AuditEntry,
    AuditRecord,
    BillRunLease,
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
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId, ReferenceDataChanged
from tests.fakes.memory_leases import MemoryLeases

R = TypeVar("R")
Key = tuple[str, str]
StreamState = tuple[EngagementRow | None, list[StoredEvent]]
BILLABLE_STATES = ("ACTIVE", "COMPLETED")


class MemoryStore(MemoryLeases):
    """Store semantics in dicts under one lock; every method is one atomic step."""

    dialect_name = "memory"
    follow_fallback_seconds = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[Key, list[StoredEvent]] = {}  # (tenant, stream) -> events by seq
        self._journal: list[StoredEvent] = []  # every event in position order
        self._audit: dict[Key, list[AuditRecord]] = {}
        self._idempotency: dict[Key, IdempotencyRecord] = {}
        self._engagements: dict[Key, EngagementRow] = {}
        self._exceptions: dict[Key, ExceptionRow] = {}
        self._customers: dict[Key, CustomerRow] = {}
        self._rate_cards: dict[Key, list[RateCardRow]] = {}
        self._invoices: dict[Key, InvoiceRow] = {}
        self._bill_runs: dict[Key, BillRunRow] = {}
        self._leases: dict[Key, BillRunLease] = {}
        self._reference_versions: dict[str, int] = {}  # moved by every customer / rate card write
        self.commits = 0

    def close(self) -> None:
        """Nothing to release."""

    # -- writes -----------------------------------------------------------------------------

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        """Check every rule first, then apply everything: a failed batch writes nothing."""
        if batch.is_empty():
            return []
        with self._lock:
            self._check(batch)
            for event in batch.events:
                stored = StoredEvent(**_fields(event), position=len(self._journal) + 1)
                self._journal.append(stored)
                self._events.setdefault((event.tenant_id, event.stream_id), []).append(stored)
            records = [self._append_audit(entry, batch.events) for entry in batch.audit]
            for rec in batch.idempotency:
                self._idempotency[(rec.tenant_id, rec.request_id)] = rec
            for customer in batch.customers:
                self._customers[(customer.tenant_id, customer.customer_id)] = customer
            for card in batch.rate_cards:
                self._rate_cards.setdefault((card.tenant_id, card.rate_card_id), []).append(card)
            for tenant in {r.tenant_id for rows in (batch.customers, batch.rate_cards) for r in rows}:
                self._reference_versions[tenant] = self._reference_versions.get(tenant, 0) + 1
            for row in batch.engagements:
                self._put_engagement(row)
            for exc in batch.exceptions:
                self._exceptions[(exc.tenant_id, exc.exception_id)] = exc
            for inv in batch.invoices:
                old = self._invoices.get((inv.tenant_id, inv.invoice_id))
                self._invoices[(inv.tenant_id, inv.invoice_id)] = (
                    inv if old is None else replace(inv, create_time=old.create_time)
                )
            for run in batch.bill_runs:
                old_run = self._bill_runs.get((run.tenant_id, run.bill_run_id))
                self._bill_runs[(run.tenant_id, run.bill_run_id)] = (
                    run if old_run is None else replace(run, create_time=old_run.create_time)
                )
            self.commits += 1
            return records

    def _check(self, batch: WriteBatch) -> None:
        """Raise the error the SQL store would raise for this batch, before anything is written."""
        moved = [
            tenant
            for tenant, version in sorted(batch.reference_guards.items())
            if self._reference_versions.get(tenant, 0) != version
        ]
        if moved:
            raise ReferenceDataChanged(moved)
        stale = sorted(
            eid
            for (tenant, eid), version in batch.version_guards.items()
            if _version(self._engagements.get((tenant, eid))) != version
        )
        if stale:
            raise ConcurrencyConflict(stale, "decided on a stale version")
        taken, seen = [], set()
        for e in batch.events:
            key = (e.tenant_id, e.stream_id, e.seq)
            stream = self._events.get((e.tenant_id, e.stream_id), [])
            if key in seen or any(s.seq == e.seq for s in stream):
                taken.append(e.stream_id)
            seen.add(key)
        if taken:
            raise ConcurrencyConflict(list(dict.fromkeys(taken)), "event seq taken")
        request_keys = [(r.tenant_id, r.request_id) for r in batch.idempotency]
        dups = [k[1] for i, k in enumerate(request_keys) if k in self._idempotency or k in request_keys[:i]]
        if dups:
            dups = list(dict.fromkeys(dups))
            raise DuplicateRequestId(dups[0], dups)
        for c in batch.customers:
            if c.version < 1:
                raise ValueError("CustomerRow.version must be >= 1")
            if _version(self._customers.get((c.tenant_id, c.customer_id))) != c.version - 1:
                detail = (
                    "customer already exists"
                    if c.version == 1
                    else f"customer is not at version {c.version - 1}"
                )
                raise ConcurrencyConflict([c.customer_id], detail)
        for r in batch.rate_cards:
            revisions = self._rate_cards.get((r.tenant_id, r.rate_card_id), [])
            if any(x.revision == r.revision for x in revisions):
                raise ConcurrencyConflict([r.rate_card_id], "rate card revision exists")
        for b in batch.bill_runs:
            if b.version < 1:
                raise ValueError("BillRunRow.version must be >= 1")
            if _version(self._bill_runs.get((b.tenant_id, b.bill_run_id))) != b.version - 1:
                raise ConcurrencyConflict([b.bill_run_id], f"bill run is not at version {b.version - 1}")

    def _append_audit(self, entry: AuditEntry, batch_events: Sequence[EventRecord]) -> AuditRecord:
        """Chain one entry after its stream's head, covering the events it names."""
        stream = self._audit.setdefault((entry.tenant_id, entry.stream_id), [])
        seq = len(stream) + 1
        prev = stream[-1].hash if stream else GENESIS_HASH
        known = {
            e.event_id: e
            for e in self._journal
            if e.tenant_id == entry.tenant_id and e.event_id in entry.event_ids
        }
        known.update({e.event_id: e for e in batch_events if e.tenant_id == entry.tenant_id})
        covered = events_digest(entry.event_ids, known)
        record = AuditRecord(
            **_fields(entry),
            record_id=sum(len(s) for s in self._audit.values()) + 1,
            seq=seq,
            prev_hash=prev,
            hash=chain_hash(prev, canonical(entry, seq, covered)),
            events_digest=covered,
            chain_version=2,
        )
        stream.append(record)
        return record

    def _put_engagement(self, row: EngagementRow) -> None:
        """Snapshot rows upsert; column rows update an existing row; neither goes back in version."""
        key = (row.tenant_id, row.engagement_id)
        old = self._engagements.get(key)
        if old is not None and old.version > row.version:
            return
        if row.snapshot is not None:
            create = old.create_time if old is not None else row.create_time
            self._engagements[key] = replace(row, create_time=create, snapshot_version=row.snapshot_at)
        elif old is not None:
            self._engagements[key] = replace(
                old,
                state=row.state,
                version=row.version,
                display_name=row.display_name,
                update_time=row.update_time,
                currency=row.currency,
            )

    def save_bill_run(self, row: BillRunRow) -> None:
        """Insert (version 1) or update from version n-1."""
        self.commit(WriteBatch(bill_runs=[row]))

    # -- journal ----------------------------------------------------------------------------

    def load_stream(self, tenant_id: str, engagement_id: str) -> StreamState:
        """Snapshot row (or None) plus the events after it."""
        return self.load_streams(tenant_id, [engagement_id])[engagement_id]

    def load_streams(self, tenant_id: str, ids: Sequence[str]) -> dict[str, StreamState]:
        """load_stream for many engagements; every id is a key."""
        with self._lock:
            out: dict[str, StreamState] = {}
            for eid in dict.fromkeys(ids):
                row = self._engagements.get((tenant_id, eid))
                after = (row.snapshot_version or 0) if row is not None else 0
                out[eid] = (row, [e for e in self._events.get((tenant_id, eid), []) if e.seq > after])
            return out

    def read_events(self, tenant_id: str, stream_id: str, after_seq: int = 0) -> list[StoredEvent]:
        """Events of one stream with seq > after_seq."""
        with self._lock:
            return [e for e in self._events.get((tenant_id, stream_id), []) if e.seq > after_seq]

    def read_all_events(
        self,
        tenant_id: str,
        after_position: int = 0,
        limit: int = 1000,
        *,
        event_types: Sequence[str] = (),
        stream_id: str | None = None,
    ) -> list[StoredEvent]:
        """The tenant's events after a position, in position order, at most `limit`."""
        with self._lock:
            found = (
                e
                for e in self._journal[after_position:]
                if e.tenant_id == tenant_id
                and (not event_types or e.event_type in event_types)
                and (stream_id is None or e.stream_id == stream_id)
            )
            return [e for _, e in zip(range(limit), found, strict=False)]

    def find_idempotency(self, tenant_id: str, request_ids: Sequence[str]) -> dict[str, IdempotencyRecord]:
        """Stored idempotency records by request id."""
        with self._lock:
            return {
                r: self._idempotency[(tenant_id, r)]
                for r in request_ids
                if (tenant_id, r) in self._idempotency
            }

    # -- read models ------------------------------------------------------------------------

    def get_engagement(self, tenant_id: str, engagement_id: str) -> EngagementRow | None:
        """One engagement row or None."""
        return self._engagements.get((tenant_id, engagement_id))

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
        rows = _of(self._engagements, tenant_id, state=state, customer_id=customer_id)
        return _page(
            "engagements", rows, lambda r: (r.create_time.isoformat(), r.engagement_id), page_size, page_token
        )

    def get_exception(self, tenant_id: str, exception_id: str) -> ExceptionRow | None:
        """One business exception or None."""
        return self._exceptions.get((tenant_id, exception_id))

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
        """Exceptions oldest (or newest) first, filtered."""
        if order_by not in ("oldest_first", "newest_first"):
            raise ValueError("order_by must be one of ('oldest_first', 'newest_first')")
        rows = _of(
            self._exceptions,
            tenant_id,
            state=state,
            severity=severity,
            engagement_id=engagement_id,
            owner_queue=owner_queue,
        )
        key: Callable[[ExceptionRow], tuple[Any, ...]] = lambda x: (x.raise_time.isoformat(), x.exception_id)  # noqa: E731
        newest = order_by == "newest_first"
        return _page(f"exceptions:{order_by}", rows, key, page_size, page_token, descending=newest)

    def get_customer(self, tenant_id: str, customer_id: str) -> CustomerRow | None:
        """One customer or None."""
        return self._customers.get((tenant_id, customer_id))

    def list_customers(
        self, tenant_id: str, *, status: str | None = None, page_size: int = 50, page_token: str = ""
    ) -> Page[CustomerRow]:
        """Customers by (create_time, customer_id)."""
        rows = _of(self._customers, tenant_id, status=status)
        return _page(
            "customers", rows, lambda c: (c.create_time.isoformat(), c.customer_id), page_size, page_token
        )

    def reference_versions(self, tenant_ids: Sequence[str]) -> dict[str, int]:
        """Each tenant's reference version (0 before its first customer or rate card write)."""
        with self._lock:
            return {t: self._reference_versions.get(t, 0) for t in tenant_ids}

    def get_rate_card(
        self, tenant_id: str, rate_card_id: str, revision: int | None = None
    ) -> RateCardRow | None:
        """One revision (None = latest) or None."""
        revisions = self._rate_cards.get((tenant_id, rate_card_id), [])
        if revision is None:
            return max(revisions, key=lambda r: r.revision, default=None)
        return next((r for r in revisions if r.revision == revision), None)

    def list_rate_cards(
        self, tenant_id: str, *, currency_code: str | None = None, page_size: int = 50, page_token: str = ""
    ) -> Page[RateCardRow]:
        """Latest revision of each rate card by rate_card_id."""
        latest = [
            max(v, key=lambda r: r.revision) for (t, _), v in self._rate_cards.items() if t == tenant_id
        ]
        rows = [r for r in latest if currency_code is None or r.currency_code == currency_code]
        return _page("rate_cards", rows, lambda r: (r.rate_card_id,), page_size, page_token)

    def get_rate_card_revisions(self, tenant_id: str, rate_card_id: str) -> list[RateCardRow]:
        """Every revision of one rate card, ascending."""
        return self.get_rate_cards(tenant_id, [rate_card_id]).get(rate_card_id, [])

    def get_rate_cards(self, tenant_id: str, ids: Sequence[str]) -> dict[str, list[RateCardRow]]:
        """All revisions of several rate cards; unknown ids are absent."""
        found = {i: self._rate_cards.get((tenant_id, i), []) for i in sorted(set(ids))}
        return {i: sorted(v, key=lambda r: r.revision) for i, v in found.items() if v}

    def get_invoice(self, tenant_id: str, invoice_id: str) -> InvoiceRow | None:
        """One invoice row or None."""
        return self._invoices.get((tenant_id, invoice_id))

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
        """Invoices by (create_time, invoice_id)."""
        rows = _of(
            self._invoices,
            tenant_id,
            engagement_id=engagement_id,
            customer_id=customer_id,
            state=state,
            bill_run_id=bill_run_id,
        )
        return _page(
            "invoices", rows, lambda i: (i.create_time.isoformat(), i.invoice_id), page_size, page_token
        )

    def get_bill_run(self, tenant_id: str, bill_run_id: str) -> BillRunRow | None:
        """One bill run or None."""
        return self._bill_runs.get((tenant_id, bill_run_id))

    def list_bill_runs(self, tenant_id: str, page_size: int = 50, page_token: str = "") -> Page[BillRunRow]:
        """Bill runs newest first."""
        rows = _of(self._bill_runs, tenant_id)
        key: Callable[[BillRunRow], tuple[Any, ...]] = lambda b: (b.create_time.isoformat(), b.bill_run_id)  # noqa: E731
        return _page("bill_runs", rows, key, page_size, page_token, descending=True)

    def list_billable_engagements(
        self, tenant_id: str, *, customer_ids: Sequence[str] = (), currency: str | None = None
    ) -> list[str]:
        """Ids of ACTIVE / COMPLETED engagements in scope, sorted."""
        return sorted(
            r.engagement_id
            for r in _of(self._engagements, tenant_id)
            if r.state in BILLABLE_STATES
            and (not customer_ids or r.customer_id in customer_ids)
            and (not currency or r.currency == currency)
        )

    # -- audit ------------------------------------------------------------------------------

    def list_audit(
        self, tenant_id: str, stream_id: str, page_size: int = 50, page_token: str = ""
    ) -> Page[AuditRecord]:
        """Audit records of one stream in seq order."""
        rows = list(self._audit.get((tenant_id, stream_id), []))
        return _page("audit", rows, lambda a: (a.seq,), page_size, page_token)

    def verify_audit(
        self, tenant_id: str, stream_id: str | None = None, checkpoint: Any = None
    ) -> VerifyResult:
        """Verify one stream's chain, or every stream of the tenant, with the events each covers."""
        with self._lock:
            streams = sorted(k for k in self._audit if k[0] == tenant_id and stream_id in (None, k[1]))
            by_id = {e.event_id: e for e in self._journal if e.tenant_id == tenant_id}
            checked = [
                (r, events_digest(r.event_ids, by_id) if r.chain_version >= 2 else None)
                for k in streams
                for r in self._audit[k]
            ]
        return verify_checked(checked, checkpoint, stream_id)

    def tamper_audit(self, tenant_id: str, stream_id: str, seq: int, **changes: Any) -> None:
        """Change one stored audit record in place (for tamper-detection tests)."""
        stream = self._audit[(tenant_id, stream_id)]
        stream[seq - 1] = replace(stream[seq - 1], **changes)

    def delete_audit(self, tenant_id: str, stream_id: str, seq: int) -> None:
        """Remove one stored audit record (for tamper-detection tests)."""
        del self._audit[(tenant_id, stream_id)][seq - 1]


def _fields(record: Any) -> dict[str, Any]:
    """A slotted dataclass's fields as a dict (shallow)."""
    return {name: getattr(record, name) for name in type(record).__dataclass_fields__}


def _version(row: Any) -> int:
    """A versioned row's version, 0 when absent."""
    return 0 if row is None else int(row.version)


def _of(table: dict[Key, R], tenant_id: str, **filters: Any) -> list[R]:
    """The tenant's rows matching every filter that is not None."""
    return [
        row
        for (tenant, _), row in table.items()
        if tenant == tenant_id and all(v is None or getattr(row, k) == v for k, v in filters.items())
    ]


def _page(
    kind: str,
    rows: Iterable[R],
    key: Callable[[R], tuple[Any, ...]],
    page_size: int,
    page_token: str,
    *,
    descending: bool = False,
) -> Page[R]:
    """One keyset page of `rows` ordered by `key`; tokens name the list they were made for."""
    size = 50 if page_size <= 0 else min(page_size, 1000)
    ordered = sorted(rows, key=key, reverse=descending)
    if page_token:
        after = _decode(page_token, kind)
        ordered = [r for r in ordered if (list(key(r)) < after if descending else list(key(r)) > after)]
    items = ordered[:size]
    more = len(ordered) > size
    return Page(items=items, next_page_token=_encode(kind, list(key(items[-1]))) if more else "")


def _encode(kind: str, after: list[Any]) -> str:
    raw = json.dumps({"list": kind, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, kind: str) -> list[Any]:
    try:
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("page_token") from exc
    if not isinstance(body, dict) or body.get("list") != kind or not isinstance(body.get("after"), list):
        raise ValueError("page_token")
    return list(body["after"])
