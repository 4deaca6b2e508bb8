"""Store exceptions: the only errors the store raises besides ValueError for bad page tokens."""

from __future__ import annotations

from collections.abc import Sequence


class StoreError(Exception):
    """Root of every store failure."""


class ConcurrencyConflict(StoreError):
    """A stream moved under the writer: (tenant, stream, seq) taken, or a stale version."""

    def __init__(self, stream_ids: Sequence[str], detail: str = "") -> None:
        """Record the conflicting stream ids (engagement / customer / rate card / audit ids)."""
        self.stream_ids: tuple[str, ...] = tuple(stream_ids)
        self.detail = detail
        super().__init__(f"concurrency conflict on {list(self.stream_ids)} {detail}".strip())


class DuplicateRequestId(StoreError):
    """An idempotency record with this (tenant, request_id) already exists."""

    def __init__(self, request_id: str, request_ids: Sequence[str] = ()) -> None:
        """Record the first duplicate request id and every duplicate found in the batch."""
        self.request_id = request_id
        self.request_ids: tuple[str, ...] = tuple(request_ids) or (request_id,)
        super().__init__(f"duplicate request_id {request_id!r}")


class StoreUnavailable(StoreError):
    """The database is down, unreachable, locked or aborted the transaction; retry later."""


class ReferenceDataChanged(StoreError):
    """Customers or rate cards of these tenants changed since the batch's decisions read them
    (their reference version moved past `WriteBatch.reference_guards`); decide again."""

    def __init__(self, tenant_ids: Sequence[str]) -> None:
        """Record the tenants whose reference version moved."""
        self.tenant_ids: tuple[str, ...] = tuple(tenant_ids)
        super().__init__(f"reference data of {list(self.tenant_ids)} changed")
