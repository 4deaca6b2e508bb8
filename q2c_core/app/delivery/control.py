"""DeliveryControl: what DeliveryService asks of the delivery tables (tenant-scoped, sync).

The methods block on the database; the servicer runs them in threads (asyncio.to_thread).
Reads are plain DeliveryStore reads scoped to the caller's tenant. Retrying dead letters is an
operator mutation: idempotent by request_id and audited (stream "deliveries") like the catalog
and bill-run writes, with the move and its audit record in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from q2c_core.app.audited import record_accepted, stored_response
from q2c_core.app.clock import utc_now
from q2c_core.app.delivery.model import (
    DeliveryAttempt,
    DeliveryItem,
    DeliveryStatus,
    Destination,
    DestinationStats,
    Operation,
    RetryFilter,
    RetryOutcome,
)
from q2c_core.app.messages import Caller, payload_digest
from q2c_core.app.paging import paged
from q2c_core.app.ports import DeliveryStore
from q2c_core.app.records import Page, WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId
from q2c_core.domain.errors import (
    ConflictError,
    NotFoundError,
    PreconditionError,
    Q2cError,
    RequestIdReusedError,
)

OUTBOX_CONSUMER = "delivery"
"""The delivery worker's outbox cursor (q2c_core.app.delivery.worker.CONSUMER)."""

AUDIT_STREAM = "deliveries"
"""The audit chain of the tenant's dead-letter retries."""

RETRY_COMMAND = "RetryDeadLetter"
ATTEMPTS = 5
"""How often a retry is re-run after losing a race for the audit chain."""
COMMENT_IDS = 100
"""How many moved ids the audit comment names (the reply always has them all)."""

__all__ = [
    "AUDIT_STREAM",
    "OUTBOX_CONSUMER",
    "DeliveryControl",
    "DeliveryFilter",
    "DeliveryOverview",
    "RetryFilter",
]


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    """The filters of a delivery listing (None / empty: any)."""

    status: DeliveryStatus | None = None
    destination: Destination | None = None
    operation: Operation | None = None
    engagement_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryOverview:
    """DeliveryService.GetDeliveryStats: per-destination counts and the outbox lag."""

    destinations: list[DestinationStats]
    outbox_lag: int
    read_time: datetime


class DeliveryControl:
    """Dead letters, their retry, and delivery statistics; `wake` nudges the worker."""

    def __init__(
        self,
        store: DeliveryStore,
        wake: Callable[[], None],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.wake = wake
        self._clock = clock

    # -- reads ------------------------------------------------------------------------------

    def list_deliveries(
        self, tenant_id: str, wanted: DeliveryFilter, page_size: int = 0, page_token: str = ""
    ) -> Page[DeliveryItem]:
        """A page of the tenant's items by delivery_id; bad page_size / page_token -> ValidationError."""

        def fetch(size: int) -> Page[DeliveryItem]:
            return self.store.list_items(
                tenant_id,
                status=wanted.status,
                destination=wanted.destination,
                operation=wanted.operation,
                engagement_id=wanted.engagement_id,
                page_size=size,
                page_token=page_token,
            )

        return paged(fetch, page_size, lambda item: item)

    def list_dead_letters(
        self, tenant_id: str, wanted: DeliveryFilter, page_size: int = 0, page_token: str = ""
    ) -> Page[DeliveryItem]:
        """A page of the tenant's dead letters (wanted.status is ignored)."""
        dead = DeliveryFilter(DeliveryStatus.DEAD, wanted.destination, wanted.operation, wanted.engagement_id)
        return self.list_deliveries(tenant_id, dead, page_size, page_token)

    def get(self, tenant_id: str, delivery_id: int) -> DeliveryItem:
        """One item of the tenant; NotFoundError("delivery") for any other id."""
        item = self.store.get(tenant_id, delivery_id)
        if item is None:
            raise NotFoundError("delivery", str(delivery_id))
        return item

    def attempts(self, tenant_id: str, delivery_id: int) -> list[DeliveryAttempt]:
        """Every attempt of one of the tenant's items, oldest first."""
        return self.detail(tenant_id, delivery_id)[1]

    def detail(self, tenant_id: str, delivery_id: int) -> tuple[DeliveryItem, list[DeliveryAttempt]]:
        """One item of the tenant with its attempt history."""
        item = self.get(tenant_id, delivery_id)
        return item, self.store.attempts(item.delivery_id)

    def stats(self, tenant_id: str) -> DeliveryOverview:
        """The tenant's counts per destination, and how far the planner is behind the outbox."""
        now = self._clock()
        lag = self.store.last_position() - self.store.cursor(OUTBOX_CONSUMER)
        return DeliveryOverview(self.store.stats(tenant_id, now), max(0, lag), now)

    # -- retry ------------------------------------------------------------------------------

    def retry(
        self, caller: Caller, request_id: str | None, wanted: RetryFilter, reason: str = ""
    ) -> list[int]:
        """Move dead letters back to PENDING: the one named (NotFoundError, or PreconditionError
        NOT_A_DEAD_LETTER when it is not DEAD), or every one matching (possibly none). Returns
        the ids moved; a request_id seen before returns the ids its first call moved."""
        digest = payload_digest(RETRY_COMMAND, _payload(wanted, reason))
        replay = self._replay(caller, request_id, digest)
        if replay is not None:
            return replay
        for _ in range(ATTEMPTS):
            try:
                outcome = self._move(caller, request_id, digest, wanted, reason)
            except ConcurrencyConflict:
                continue  # another retry took the audit chain's next seq: run again
            except DuplicateRequestId:
                replay = self._replay(caller, request_id, digest)
                if replay is None:
                    raise ConflictError(
                        "CONCURRENT_MODIFICATION", "a concurrent request used this request_id"
                    ) from None
                return replay
            if wanted.delivery_id is not None and not outcome.moved:
                raise _not_retryable(wanted.delivery_id, outcome.status)
            if outcome.moved:
                self.wake()
            return outcome.moved
        raise ConflictError("CONCURRENT_MODIFICATION", "dead letters kept being retried concurrently; retry")

    def _move(
        self, caller: Caller, request_id: str | None, digest: str, wanted: RetryFilter, reason: str
    ) -> RetryOutcome:
        """One transaction: the move, its ACCEPTED audit record and its idempotency record."""
        now = self._clock()

        def audit(moved: list[int]) -> WriteBatch:
            comment = "; ".join(part for part in (reason.strip(), f"retried {_ids(moved)}") if part)
            return record_accepted(
                WriteBatch(),
                caller,
                request_id=request_id,
                digest=digest,
                command_type=RETRY_COMMAND,
                stream_id=AUDIT_STREAM,
                now=now,
                response={"delivery_ids": moved},
                comment=comment,
            )

        return self.store.retry_dead_audited(caller.tenant_id, wanted, now, audit)

    def _replay(self, caller: Caller, request_id: str | None, digest: str) -> list[int] | None:
        response = stored_response(self.store, caller, request_id, digest)
        if response is None:
            return None
        if "delivery_ids" not in response:  # the id was used for another kind of request
            raise RequestIdReusedError(str(request_id))
        return [int(i) for i in response["delivery_ids"]]


def _payload(wanted: RetryFilter, reason: str) -> dict[str, object]:
    """What a request_id is bound to: the selection and the reason."""
    return {
        "delivery_id": wanted.delivery_id,
        "destination": wanted.destination,
        "operation": wanted.operation,
        "engagement_id": wanted.engagement_id,
        "reason": reason,
    }


def _ids(moved: list[int]) -> str:
    """The moved ids for the audit comment (the first COMMENT_IDS of a large retry)."""
    if not moved:
        return "none"
    shown = ", ".join(map(str, moved[:COMMENT_IDS]))
    return shown if len(moved) <= COMMENT_IDS else f"{shown} ... ({len(moved)} in all)"


def _not_retryable(delivery_id: int, status: DeliveryStatus | None) -> Q2cError:
    if status is None:
        return NotFoundError("delivery", str(delivery_id))
    return PreconditionError(
        "NOT_A_DEAD_LETTER",
        f"delivery {delivery_id} is {status.value}, not a dead letter",
        {"delivery_id": str(delivery_id), "status": status.value},
    )
