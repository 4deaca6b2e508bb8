"""DeliveryWorker: plans delivery items from the events outbox and delivers them downstream.

One asyncio loop runs a planner and one lane per destination:

* The **planner** reads outbox events after its persisted cursor (every tenant, position
  order), inserts their items and moves the cursor in one transaction (``DeliveryStore.enqueue``).
* A **lane** takes the destination's due items (FIFO per engagement), calls the connector with
  at most ``concurrency`` calls in flight (a thread pool: the connectors are blocking HTTP), and
  records each round's outcomes in one transaction. A failure that may be retried waits
  ``RetryPolicy.delay`` (exponential, jittered, at least Retry-After); after ``max_attempts`` the
  item is a dead letter, as is a permanent failure at once (retrying cannot help). A MALFORMED
  reply is retried like an unknown outcome (the document may exist), its payload kept.
* When a destination says "not now" (throttled or in maintenance with Retry-After, or no reply
  at all), the whole lane pauses until then instead of spending every item's attempts on it.

A posted invoice becomes POSTED in q2c through the engagement's ``RecordInvoicePosting``
command (``submit``: the runtime's own path to the engagement's host), under a request id
derived from the item, so a repeat is a replay. Until that command is accepted the item stays
PENDING; the next attempt posts again under the same key and the ERP returns the same document.

Nothing here is lost on a crash: an item in flight when the process dies is still PENDING and
is attempted again under the same idempotency key, which the downstream system deduplicates.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from q2c_core.app.catalog import Catalog
from q2c_core.app.connectors import (
    Ack,
    DeliveryFailure,
    ErpConnector,
    FailureKind,
    PostedDocument,
    PsaConnector,
    customer_key,
)
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.delivery.model import (
    Q2C_REJECTED,
    Q2C_UNAVAILABLE,
    DeliveryItem,
    Destination,
    Operation,
    Outcome,
    RetryPolicy,
)
from q2c_core.app.delivery.planner import PLANNED_EVENT_TYPES, invoice_key, plan_all
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.ports import Store
from q2c_core.app.reads import Queries
from q2c_core.app.store_errors import ConcurrencyConflict, StoreError
from q2c_core.domain.billing_commands import RecordInvoicePosting
from q2c_core.domain.errors import ErrorKind, ErrorPayload, Q2cError, UnavailableError
from q2c_core.logs import log_context

log = logging.getLogger(__name__)

Submit = Callable[[list[CommandEnvelope]], Awaitable[list[CommandResult]]]
CONSUMER = "delivery"
PRINCIPAL = "system:delivery"
#: Longest pause of a lane whose destination gives no Retry-After (it is probed again then).
MAX_LANE_PAUSE = 30.0
#: Correlation ids kept by outbox position (cleared when full; a miss reads the outbox).
CORRELATIONS_KEPT = 4096


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def posting_request_id(item: DeliveryItem) -> str:
    """The request id of the RecordInvoicePosting an item's acknowledgement becomes."""
    return f"delivery:{item.delivery_id}:posted"


@dataclass
class Attempted:
    """One attempt's raw result, before the acknowledgement and the retry policy apply."""

    item: DeliveryItem
    success: Ack | PostedDocument | None = None
    failure: DeliveryFailure | None = None


@dataclass
class Counters:
    """What the worker has done since it started (for stats and benchmarks)."""

    planned: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    rounds: int = 0
    paused: dict[str, float] = field(default_factory=dict)


class Lane:
    """One destination: its connector calls, concurrency, pause, and the items in flight.

    Items move through a pipeline: the feeder takes due items (up to ``window`` in flight),
    each is attempted under the ``concurrency`` semaphore, and the recorder writes finished
    attempts in batches, so calling, acknowledging and recording overlap.
    """

    #: Items in flight (queued, calling, or waiting to be recorded) per allowed concurrent call.
    WINDOW_PER_CALL = 8

    def __init__(self, destination: Destination, concurrency: int) -> None:
        self.destination = destination
        self.concurrency = concurrency
        self.window = concurrency * self.WINDOW_PER_CALL
        self.paused_until: datetime | None = None
        self.consecutive_failures = 0
        self.in_flight: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.semaphore = asyncio.Semaphore(concurrency)
        self.finished: asyncio.Queue[tuple[DeliveryItem, Attempted | None]] = asyncio.Queue()
        self.room = asyncio.Event()

    def paused(self, now: datetime) -> bool:
        """Whether the destination asked not to be called before a later time."""
        return self.paused_until is not None and self.paused_until > now


class DeliveryWorker:
    """Plans and delivers; ``run`` until ``stop`` is set. See the module docstring."""

    def __init__(
        self,
        store: Store,
        config: DeliveryConfig,
        submit: Submit,
        *,
        erp: ErpConnector | None = None,
        psa: PsaConnector | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.deliveries = store.deliveries()
        self.queries = Queries(store)
        self.catalog = Catalog(store)
        self.config = config
        self.policy: RetryPolicy = config.policy
        self.submit = submit
        self.erp = erp
        self.psa = psa
        self.clock = clock
        self.rng = rng or random.Random()
        self.counters = Counters()
        self.lanes: dict[Destination, Lane] = {}
        if erp is not None:
            self.lanes[Destination.ERP] = Lane(Destination.ERP, config.erp_concurrency)
        if psa is not None:
            self.lanes[Destination.PSA] = Lane(Destination.PSA, config.psa_concurrency)
        workers = sum(lane.concurrency for lane in self.lanes.values()) or 1
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="q2c-delivery")
        self._wake = asyncio.Event()
        self._correlations: dict[int, str] = {}

    def wake(self) -> None:
        """New work may be waiting (events committed, dead letters retried): look now."""
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Plan and deliver until ``stop`` is set; store outages are waited out, never fatal."""
        self._wake = asyncio.Event()  # bound to the running loop
        tasks = [asyncio.create_task(self._forever(self.plan_once, stop), name="delivery-planner")]
        for d, lane in self.lanes.items():
            lane.semaphore, lane.finished, lane.room = (
                asyncio.Semaphore(lane.concurrency),
                asyncio.Queue(),
                asyncio.Event(),
            )
            tasks.append(
                asyncio.create_task(self._forever(functools.partial(self.feed, lane), stop), name=f"feed-{d}")
            )
            tasks.append(asyncio.create_task(self._record_forever(lane), name=f"record-{d}"))
        try:
            await stop.wait()
        finally:
            attempts = [t for lane in self.lanes.values() for t in lane.tasks]
            for task in tasks + attempts:
                task.cancel()
            await asyncio.gather(*tasks, *attempts, return_exceptions=True)
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def _forever(self, step: Callable[[], Awaitable[int]], stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                done = await step()
            except (StoreError, ConcurrencyConflict) as error:
                log.warning("delivery: store trouble, retrying shortly: %s", error)
                done = 0
            except Exception:  # a bug must not stop delivery for good: log it and go on
                log.exception("delivery step failed")
                done = 0
            if done == 0:
                await self._idle()

    async def _idle(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
        except TimeoutError:
            return
        self._wake.clear()

    # -- planning -------------------------------------------------------------------------------

    async def plan_once(self) -> int:
        """Plan the next batch of outbox events; returns how many events were read."""
        return await asyncio.to_thread(self._plan_batch)

    def _plan_batch(self) -> int:
        cursor = self.deliveries.cursor(CONSUMER)
        events = self.deliveries.read_outbox(cursor, self.config.plan_batch, PLANNED_EVENT_TYPES)
        if not events:
            return 0
        planned = [p for p in plan_all(events) if p.destination in self.lanes]
        self._remember_correlations({e.position: e.correlation_id for e in events})
        self.counters.planned += self.deliveries.enqueue(
            CONSUMER, cursor, events[-1].position, planned, self.clock()
        )
        self._wake.set()
        return len(events)

    # -- delivering -----------------------------------------------------------------------------

    async def feed(self, lane: Lane) -> int:
        """Start attempts of the lane's due items while it has room; returns how many started
        (0: nothing due, paused, or full: the caller idles until woken)."""
        if lane.paused(self.clock()):
            return 0
        room = lane.window - len(lane.in_flight)
        if room <= 0:
            lane.room.clear()
            await lane.room.wait()  # the recorder frees room
            return 1
        busy = list(lane.in_flight)
        items = await asyncio.to_thread(self.deliveries.due, lane.destination, self.clock(), room, busy)
        items = [i for i in items if i.delivery_id not in lane.in_flight]
        for item in items:
            lane.in_flight.add(item.delivery_id)
            task = asyncio.create_task(self._attempt_in(lane, item))
            lane.tasks.add(task)
            task.add_done_callback(lane.tasks.discard)
        return len(items)

    async def _attempt_in(self, lane: Lane, item: DeliveryItem) -> None:
        result: Attempted | None = None
        try:
            async with lane.semaphore:
                if not lane.paused(self.clock()):  # else: leave the item due, unattempted
                    loop = asyncio.get_running_loop()
                    result = await loop.run_in_executor(self.pool, self._attempt, item)
                    self._steer(lane, result)
        finally:
            lane.finished.put_nowait((item, result))

    async def _record_forever(self, lane: Lane) -> None:
        """Record finished attempts in batches (acknowledgements first), then free their room."""
        while True:
            batch = [await lane.finished.get()]
            while not lane.finished.empty() and len(batch) < lane.window:
                batch.append(lane.finished.get_nowait())
            try:
                await self.record_batch([result for _, result in batch if result is not None])
            except Exception:  # the items stay PENDING in the store and are attempted again
                log.exception("delivery: recording %d outcomes failed", len(batch))
            finally:
                for item, _ in batch:
                    lane.in_flight.discard(item.delivery_id)
                lane.room.set()
                self._wake.set()

    async def record_batch(self, attempted: Sequence[Attempted]) -> None:
        """Acknowledge postings on their engagements, then record every outcome (one transaction)."""
        if not attempted:
            return
        self.counters.rounds += 1
        outcomes = await self._acknowledge(attempted)
        await asyncio.to_thread(self.deliveries.record, outcomes, self.clock())

    def _steer(self, lane: Lane, result: Attempted) -> None:
        """Pause the lane when its destination is refusing or silent; resume on success."""
        failure = result.failure
        if failure is None:
            lane.consecutive_failures = 0
            return
        if failure.kind not in (FailureKind.RETRYABLE, FailureKind.UNKNOWN_OUTCOME):
            return
        lane.consecutive_failures += 1
        pause = failure.retry_after
        if pause is None:
            pause = min(MAX_LANE_PAUSE, self.policy.delay(lane.consecutive_failures, rng=self.rng))
        until = self.clock() + timedelta(seconds=pause)
        if lane.paused_until is None or until > lane.paused_until:
            lane.paused_until = until
            self.counters.paused[lane.destination.value] = pause

    def _remember_correlations(self, correlations: dict[int, str]) -> None:
        if len(self._correlations) + len(correlations) > CORRELATIONS_KEPT:
            self._correlations.clear()
        self._correlations.update(correlations)

    def correlation_of(self, item: DeliveryItem) -> str:
        """The correlation id of the call whose event planned the item (read once if not kept)."""
        known = self._correlations.get(item.source_position)
        if known is None:
            events = self.deliveries.read_outbox(item.source_position - 1, 1, PLANNED_EVENT_TYPES)
            found = events[0] if events and events[0].position == item.source_position else None
            known = found.correlation_id if found else ""
            self._remember_correlations({item.source_position: known})
        return known or f"delivery-{item.delivery_id}"

    def _attempt(self, item: DeliveryItem) -> Attempted:
        """Call the destination for one item (in a pool thread); never raises. Its log lines
        and the downstream request carry the correlation id of the call that planned it."""
        try:
            correlation_id = self.correlation_of(item)
        except Exception:  # an unreadable correlation id must not hold up the delivery
            correlation_id = f"delivery-{item.delivery_id}"
        fields = {"tenant": item.tenant_id, "engagement_id": item.engagement_id}
        with log_context(**fields, delivery_id=item.delivery_id, correlation_id=correlation_id):
            attempted = self._attempt_once(item)
            failure = attempted.failure
            if failure is None:
                log.debug("delivery %s accepted by %s", item.key, item.destination)
            else:
                log.info("delivery %s failed: %s %s", item.key, failure.kind.value, failure.message)
            return attempted

    def _attempt_once(self, item: DeliveryItem) -> Attempted:
        try:
            return Attempted(item, *self._call(item))
        except Q2cError as error:  # the item's subject cannot be read: a person must look
            failure = DeliveryFailure(FailureKind.PERMANENT, item.operation.value, item.key, error.message)
            return Attempted(item, failure=failure)
        except StoreError as error:
            failure = DeliveryFailure(
                FailureKind.RETRYABLE, item.operation.value, item.key, f"q2c store: {error}"
            )
            return Attempted(item, failure=failure)

    def _call(self, item: DeliveryItem) -> tuple[Ack | PostedDocument | None, DeliveryFailure | None]:
        tenant, op = item.tenant_id, item.operation
        if op is Operation.PROVISION_PROJECT:
            assert self.psa is not None
            engagement = self.queries.get_engagement(tenant, item.engagement_id)
            return _split(self.psa.provision_project(engagement, key=item.key))
        assert self.erp is not None
        if op is Operation.CREATE_JOB:
            engagement = self.queries.get_engagement(tenant, item.engagement_id)
            customer = self.catalog.get_customer(tenant, engagement.customer_id)
            upserted = self.erp.upsert_customer(customer, key=customer_key(customer))
            if isinstance(upserted, DeliveryFailure):
                return None, upserted
            return _split(self.erp.create_job(engagement, key=item.key))
        assert item.invoice_id is not None
        invoice = self.queries.get_invoice(tenant, item.invoice_id)
        if op is Operation.POST_INVOICE:
            return _split(self.erp.post_invoice(invoice, key=item.key))
        payment = next((p for p in invoice.payments if p.payment_id == item.subject_id), None)
        number = invoice.erp_document_number or self.deliveries.document_number(
            tenant, Destination.ERP, invoice_key(invoice.invoice_id)
        )
        if payment is None or not number:
            missing = "payment" if payment is None else "the invoice's ERP number"
            message = f"{missing} not known yet for {item.key}"
            return None, DeliveryFailure(FailureKind.RETRYABLE, op.value, item.key, message)
        return _split(self.erp.record_payment(invoice, payment, invoice_number=number, key=item.key))

    async def _acknowledge(self, attempted: Sequence[Attempted]) -> list[Outcome]:
        """Outcomes of a round; posted invoices are first recorded on their engagements."""
        postings = [
            a
            for a in attempted
            if a.item.operation is Operation.POST_INVOICE and isinstance(a.success, PostedDocument)
        ]
        acks: dict[int, CommandResult] = {}
        if postings:
            envelopes = [self._posting_envelope(a.item, a.success) for a in postings]  # type: ignore[arg-type]
            try:
                results = await self.submit(envelopes)
            except Exception as error:  # the runtime itself failed: every ack waits for a retry
                log.warning("delivery: could not record postings: %s", error)
                results = [CommandResult(error=_unavailable(str(error))) for _ in envelopes]
            acks = {a.item.delivery_id: r for a, r in zip(postings, results, strict=True)}
        return [self._outcome(a, acks.get(a.item.delivery_id)) for a in attempted]

    @staticmethod
    def _posting_envelope(item: DeliveryItem, document: PostedDocument) -> CommandEnvelope:
        assert item.invoice_id is not None
        command = RecordInvoicePosting(
            engagement_id=item.engagement_id,
            invoice_id=item.invoice_id,
            erp_document_number=document.document_number,
        )
        caller = Caller(
            tenant_id=item.tenant_id, principal=PRINCIPAL, correlation_id=f"delivery-{item.delivery_id}"
        )
        return CommandEnvelope(
            caller=caller,
            engagement_id=item.engagement_id,
            request_id=posting_request_id(item),
            command=command,
            slim_reply=True,
        )

    def _outcome(self, attempted: Attempted, ack: CommandResult | None) -> Outcome:
        item, success, failure = attempted.item, attempted.success, attempted.failure
        number = success.document_number if isinstance(success, PostedDocument) else None
        if failure is None and ack is not None and ack.error is not None:
            retry = ack.error.kind in (ErrorKind.UNAVAILABLE, ErrorKind.CONFLICT)
            kind = Q2C_UNAVAILABLE if retry else Q2C_REJECTED
            message = (
                f"ERP document {number}; q2c could not record it: {ack.error.reason}: {ack.error.message}"
            )
            failure = DeliveryFailure(
                FailureKind.RETRYABLE if retry else FailureKind.PERMANENT,
                item.operation.value,
                item.key,
                message,
            )
            return self._failed(item, failure, kind)
        if failure is None:
            self.counters.delivered += 1
            message = f"{item.destination} accepted {item.key}" + (f" as {number}" if number else "")
            return Outcome(item.delivery_id, True, "DELIVERED", message, document_number=number)
        return self._failed(item, failure, failure.kind.value)

    def _failed(self, item: DeliveryItem, failure: DeliveryFailure, kind: str) -> Outcome:
        attempts = item.attempts + 1
        may_retry = failure.kind is not FailureKind.PERMANENT
        dead = not may_retry or self.policy.exhausted(attempts)
        self.counters.failed += 1
        self.counters.dead += int(dead)
        delay = self.policy.delay(attempts, failure.retry_after, self.rng)
        return Outcome(
            item.delivery_id,
            False,
            kind,
            failure.message,
            http_status=failure.status,
            payload=failure.payload,
            dead=dead,
            next_attempt_time=None if dead else self.clock() + timedelta(seconds=delay),
        )


def _split(
    result: Ack | PostedDocument | DeliveryFailure,
) -> tuple[Ack | PostedDocument | None, DeliveryFailure | None]:
    return (None, result) if isinstance(result, DeliveryFailure) else (result, None)


def _unavailable(message: str) -> ErrorPayload:
    return UnavailableError("DELIVERY_ACK_FAILED", message).to_payload()
