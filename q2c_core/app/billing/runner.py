"""The bill-run coordinator: fans GenerateInvoice out to every shard in chunks, tallies, saves.

Plain asyncio, no Ray: LocalRuntime runs it as a task, RayRuntime inside a coordinator actor.
Request ids are scoped to (run, engagement), so a re-sent chunk replays instead of re-billing,
and the domain's one-invoice-per-period rule makes a new run for the period bill nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from q2c_core.app.billing.control import BillRunControl
from q2c_core.app.billing.lease import RunLease
from q2c_core.app.billing.runs import MAX_SKIPS_KEPT, BillRun, BillRunSkip, BillRunState, bill_run_row
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.ports import Store
from q2c_core.app.store_errors import ConcurrencyConflict, StoreError, StoreUnavailable
from q2c_core.domain.commands import GenerateInvoice
from q2c_core.domain.errors import ErrorKind

log = logging.getLogger(__name__)
DEFAULT_CHUNK = 250
FAILING_KINDS = (ErrorKind.UNAVAILABLE, ErrorKind.INTERNAL, ErrorKind.CONFLICT)
Kind = Literal["INVOICED", "ALREADY_INVOICED", "SKIPPED", "FAILED"]
COUNTERS = (  # BillRun's counters: they only grow while it runs
    "engagements_processed",
    "invoices_created",
    "engagements_already_invoiced",
    "engagements_skipped",
    "engagements_failed",
    "shards_done",
)


class BillOutcome(BaseModel):
    """What one GenerateInvoice of a run came to (small: this is what crosses Ray)."""

    model_config = ConfigDict(frozen=True)

    engagement_id: str
    kind: Kind
    reason: str = ""
    message: str = ""
    currency: str = ""
    total: Decimal = Decimal(0)


Dispatch = Callable[[int, list[CommandEnvelope]], Awaitable[list[BillOutcome]]]


def run_caller(run: BillRun) -> Caller:
    """Who a run's commands come from: the "bill-run" principal, correlated by the run id."""
    return Caller(tenant_id=run.tenant_id, principal="bill-run", correlation_id=run.bill_run_id)


def run_envelopes(run: BillRun, engagement_ids: list[str]) -> list[CommandEnvelope]:
    """One GenerateInvoice per engagement, its request id scoped to the run."""
    caller, command = run_caller(run), GenerateInvoice(period=run.spec.period, bill_run_id=run.bill_run_id)
    return [
        CommandEnvelope(
            caller=caller, engagement_id=e, request_id=f"billrun:{run.bill_run_id}:{e}", command=command
        )
        for e in engagement_ids
    ]


def outcome_of(envelope: CommandEnvelope, result: CommandResult) -> BillOutcome:
    """Classify one result: invoiced, already invoiced, skipped (a blocker) or failed (an error)."""
    eid = envelope.engagement_id
    if result.error is not None:
        error = result.error
        if error.reason == "PERIOD_ALREADY_INVOICED":
            return BillOutcome(engagement_id=eid, kind="ALREADY_INVOICED")
        kind: Kind = "FAILED" if error.kind in FAILING_KINDS else "SKIPPED"
        return BillOutcome(engagement_id=eid, kind=kind, reason=error.reason, message=error.message)
    command, state = envelope.command, result.engagement
    assert isinstance(command, GenerateInvoice) and state is not None
    for invoice in state.invoices.values():
        if invoice.bill_run_id == command.bill_run_id and invoice.period == command.period:
            total = invoice.total.amount
            return BillOutcome(engagement_id=eid, kind="INVOICED", currency=invoice.currency, total=total)
    prefix = f"{eid}.x{result.event_ids[0].rsplit(':', 1)[1]}." if result.event_ids else "\0"
    raised = sorted((x for x in state.exceptions.values() if x.exception_id.startswith(prefix)), key=_n)
    if raised:  # parked: the run raised an exception for someone to act on
        return BillOutcome(
            engagement_id=eid, kind="SKIPPED", reason=raised[0].check, message=raised[0].message
        )
    return BillOutcome(
        engagement_id=eid, kind="SKIPPED", reason="NOT_INVOICED", message="no invoice generated"
    )


def _n(exception: Any) -> int:
    return int(exception.exception_id.rsplit(".", 1)[1])


def outcomes(envelopes: list[CommandEnvelope], results: list[CommandResult]) -> list[BillOutcome]:
    """outcome_of for a whole chunk."""
    return [outcome_of(e, r) for e, r in zip(envelopes, results, strict=True)]


def failed_outcomes(envelopes: list[CommandEnvelope], reason: str, message: str) -> list[BillOutcome]:
    """Every engagement of a chunk failed with the same error."""
    return [
        BillOutcome(engagement_id=e.engagement_id, kind="FAILED", reason=reason, message=message)
        for e in envelopes
    ]


@dataclass(slots=True)
class Progress:
    """The run's counters, grown chunk by chunk."""

    processed: int = 0
    counts: dict[Kind, int] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=dict)
    skips: list[BillRunSkip] = field(default_factory=list)
    shards_done: int = 0

    def add(self, outcome: BillOutcome) -> None:
        """Count one outcome."""
        self.processed += 1
        self.counts[outcome.kind] = self.counts.get(outcome.kind, 0) + 1
        if outcome.kind == "INVOICED":
            self.totals[outcome.currency] = self.totals.get(outcome.currency, Decimal(0)) + outcome.total
        elif outcome.kind != "ALREADY_INVOICED" and len(self.skips) < MAX_SKIPS_KEPT:
            self.skips.append(
                BillRunSkip(
                    engagement_id=outcome.engagement_id, reason=outcome.reason, message=outcome.message
                )
            )

    def fields(self) -> dict[str, Any]:
        """The BillRun fields these counters set."""
        return {
            "engagements_processed": self.processed,
            "invoices_created": self.counts.get("INVOICED", 0),
            "engagements_already_invoiced": self.counts.get("ALREADY_INVOICED", 0),
            "engagements_skipped": self.counts.get("SKIPPED", 0),
            "engagements_failed": self.counts.get("FAILED", 0),
            "invoiced_totals": dict(sorted(self.totals.items())),
            "skips": list(self.skips),
            "shards_done": self.shards_done,
        }


def partition(ids: list[str], shards: int, shard_of: Callable[[str], int]) -> list[list[str]]:
    """The engagement ids of each shard, in order."""
    buckets: list[list[str]] = [[] for _ in range(shards)]
    for engagement_id in ids:
        buckets[shard_of(engagement_id)].append(engagement_id)
    return buckets


class BillRunCoordinator:
    """Drives one run: lists the engagements in scope, dispatches every shard in parallel."""

    def __init__(
        self,
        store: Store,
        tenant_id: str,
        bill_run_id: str,
        *,
        shards: int,
        shard_of: Callable[[str], int],
        dispatch: Dispatch,
        chunk_size: int = DEFAULT_CHUNK,
        pause: float = 0.0,
        lease: RunLease | None = None,
    ) -> None:
        self._store = store
        self._lease = lease  # held while running; without one, nobody resumes the run if this dies
        self._pause = pause  # seconds between a shard's chunks: throttles the run's load
        self._control = BillRunControl(store)
        self._key = (tenant_id, bill_run_id)
        self._shards = shards
        self._shard_of = shard_of
        self._dispatch = dispatch
        self._chunk = chunk_size
        self._progress = Progress()
        self._lock = asyncio.Lock()
        self._run: BillRun | None = None
        self._version = 0
        self._shown: BillRun | None = None  # a resumed run as it stood: the recount saves nothing below it
        self._held: dict[str, Any] = {}  # changes not saved yet (held while below what was shown)
        self.stopped = False  # cancelled (or failed) from outside
        self.lost = False  # another coordinator took the lease: stop, and write nothing more

    async def run(self) -> BillRun:
        """Run to a terminal state and return it; FAILED only if the run itself crashed. With a
        lease: unfinished when the lease was lost, or released when interrupted (to be resumed)."""
        lease = self._lease
        if lease is not None and not await asyncio.to_thread(lease.renew):  # a lease from its start
            log.warning("bill run %s: coordinator %s does not hold the lease", self._key[1], lease.owner)
            return (await asyncio.to_thread(self._control.load, *self._key))[0]
        keeper = asyncio.get_running_loop().create_task(lease.keep(self._lose)) if lease else None
        try:
            run = await self._run_all()
        except asyncio.CancelledError:
            if lease is not None:  # another sweep (this gateway restarted, or another) resumes it
                await asyncio.to_thread(lease.release)
            else:
                await asyncio.to_thread(self._control.fail, *self._key, "the bill run was interrupted")
            raise
        except Exception as error:
            log.exception("bill run %s crashed", self._key[1])
            self.stopped = True  # the other shards stop at their next chunk
            run = await self._crashed(error)
        finally:
            if keeper is not None:
                keeper.cancel()
        if lease is not None and run.state.finished:
            with contextlib.suppress(StoreError):  # the run is done; its lease lapses instead
                await asyncio.to_thread(lease.release)
        return run

    async def _crashed(self, error: Exception) -> BillRun:
        """Mark the crashed run FAILED. A leased coordinator saves that like progress, fenced by
        the run's version: one that lost its lease (the run resumed elsewhere) writes nothing.
        When the store was unavailable, a leased run is not failed: its lease is given back and a
        sweep resumes it (recounting), as after a lost coordinator."""
        message = f"the bill run crashed: {error}"
        if self._lease is None:
            return await asyncio.to_thread(self._control.fail, *self._key, message)
        if self._run is not None and not isinstance(error, StoreUnavailable):
            try:
                return await self._save(state=BillRunState.FAILED, failure_message=message, finish=True)
            except StoreError:
                pass
        log.warning("bill run %s: left to a sweep to resume (store: %s)", self._key[1], error)
        with contextlib.suppress(StoreError):  # else the lease lapses, with the same effect
            await asyncio.to_thread(self._lease.release)
        if self._run is not None:
            return self._run
        return (await asyncio.to_thread(self._control.load, *self._key))[0]

    def _lose(self) -> None:
        self.lost = self.stopped = True

    async def _run_all(self) -> BillRun:
        run, self._version = await asyncio.to_thread(self._control.load, *self._key)
        self._run = run
        if run.state.finished:
            return run
        if run.state is BillRunState.RUNNING:  # resumed: its counters stay until the recount passes them
            self._shown = run
        spec = run.spec
        ids = await asyncio.to_thread(
            self._store.list_billable_engagements,
            self._key[0],
            customer_ids=spec.customer_ids,
            currency=spec.currency or None,
        )
        buckets = partition(ids, self._shards, self._shard_of)
        await self._save(state=BillRunState.RUNNING, shards_total=self._shards, engagements_total=len(ids))
        await asyncio.gather(*(self._shard(index, bucket) for index, bucket in enumerate(buckets)))
        failed = self._progress.counts.get("FAILED", 0)
        message = f"{failed} engagements failed; start a new run to retry them" if failed else ""
        return await self._save(state=BillRunState.SUCCEEDED, failure_message=message, finish=True)

    async def _shard(self, index: int, ids: list[str]) -> None:
        """Send the shard its chunks one at a time. Unpaced, the next chunk goes as soon as the
        last one is back and a read of the run finds it neither cancelled nor taken over: the
        progress save (a write, waiting for the store's writer behind the shards' commits) then
        runs while the shard works, instead of keeping it idle between chunks."""
        chunks = [ids[start : start + self._chunk] for start in range(0, len(ids), self._chunk)]
        sending = asyncio.ensure_future(self._send(index, chunks[0])) if chunks and not self.stopped else None
        for following in [*chunks[1:], None] if chunks else []:
            if sending is None:  # stopped
                return
            results = await sending
            sending = None
            if following is not None and not self._pause:
                await self._look()
                if not self.stopped:
                    sending = asyncio.ensure_future(self._send(index, following))
            try:
                for outcome in results:
                    self._progress.add(outcome)
                await self._save()
            except BaseException:
                if sending is not None:
                    sending.cancel()
                raise
            if self._pause:
                await asyncio.sleep(self._pause)
            if sending is None and following is not None and not self.stopped:
                sending = asyncio.ensure_future(self._send(index, following))
        if not self.stopped:
            self._progress.shards_done += 1
            await self._save()

    async def _send(self, index: int, ids: list[str]) -> list[BillOutcome]:
        """Dispatch one chunk; a broken dispatch fails its chunk, not the run."""
        assert self._run is not None
        envelopes = run_envelopes(self._run, ids)
        try:
            return await self._dispatch(index, envelopes)
        except Exception as error:
            log.exception("bill run %s: shard %d chunk failed", self._key[1], index)
            return failed_outcomes(envelopes, "INTERNAL", str(error) or "internal error")

    async def _look(self) -> None:
        """Before the next chunk goes: notice a cancel or a lost lease as a save's conflict would
        (the run as stored is kept; a lost lease stops this coordinator)."""
        async with self._lock:  # a save in flight moves the version: read after it
            if self.lost:
                return
            try:
                stored, version = await asyncio.to_thread(self._control.load, *self._key)
                if version == self._version:
                    return
                self._run, self._version = stored, version
                if self._lease is not None and not await asyncio.to_thread(self._lease.holds):
                    log.warning("bill run %s: lease taken over; coordinator stops", self._key[1])
                    self._lose()
                    return
            except StoreError as error:  # the save after the chunk looks again
                log.warning("bill run %s: not re-read: %s", self._key[1], error)
                return
            self.stopped = self.stopped or stored.state.finished

    async def _save(self, *, finish: bool = False, **changes: Any) -> BillRun:
        """Save progress (and changes); a run finished from outside keeps its state, gets counters."""
        async with self._lock:
            for _ in range(5):
                assert self._run is not None
                changes = {**self._held, **changes}
                if self.lost or (not finish and self._below_shown()):
                    self._held = changes
                    if not self.lost:
                        await self._notice()
                    return self._run
                run = self._next(finish, changes)
                try:
                    await asyncio.to_thread(self._store.save_bill_run, bill_run_row(run, self._version + 1))
                except ConcurrencyConflict:
                    stored, self._version = await asyncio.to_thread(self._control.load, *self._key)
                    self._run = stored
                    if self._lease is not None and not await asyncio.to_thread(self._lease.holds):
                        log.warning("bill run %s: lease taken over; coordinator stops", self._key[1])
                        self._lose()
                        return stored
                    self.stopped = self.stopped or stored.state.finished
                    continue
                except StoreError as error:
                    if finish:
                        raise
                    log.warning("bill run %s: progress not saved: %s", self._key[1], error)
                    self._held = changes
                    return run
                self._run, self._version, self._held = run, self._version + 1, {}
                return run
            raise RuntimeError(f"bill run {self._key[1]} kept changing under its coordinator")

    async def _notice(self) -> None:
        """While a recount saves nothing, still notice what a save would: a cancel, a lease lost."""
        try:
            stored, version = await asyncio.to_thread(self._control.load, *self._key)
            if version == self._version:
                return
            if self._lease is not None and not await asyncio.to_thread(self._lease.holds):
                log.warning("bill run %s: lease taken over; coordinator stops", self._key[1])
                self._lose()
                return
        except StoreError as error:  # the next chunk's save looks again
            log.warning("bill run %s: not re-read: %s", self._key[1], error)
            return
        self._run, self._version = stored, version
        self.stopped = self.stopped or stored.state.finished

    def _below_shown(self) -> bool:
        """Whether the recount of a resumed run counts less than the run showed, in any counter
        (its shards finish in another order than the lost coordinator's did)."""
        shown = self._shown
        if shown is None:
            return False
        counted = self._progress.fields()
        totals: dict[str, Decimal] = counted["invoiced_totals"]
        if any(counted[name] < getattr(shown, name) for name in COUNTERS) or any(
            totals.get(currency, Decimal(0)) < total for currency, total in shown.invoiced_totals.items()
        ):
            return True
        self._shown = None  # passed: from here on every counter only grows
        return False

    def _next(self, finish: bool, changes: dict[str, Any]) -> BillRun:
        assert self._run is not None
        now = self._control.now()
        succeeds = not self._run.state.finished and changes.get("state") is BillRunState.SUCCEEDED
        # a recount that ends short of SUCCEEDED (it crashed, or the run was cancelled) keeps
        # what the run showed; one that completes writes its own, exact counts
        counted = self._progress.fields() if succeeds or not self._below_shown() else {}
        update: dict[str, Any] = {**counted, "update_time": now}
        if not self._run.state.finished:
            update.update(changes)
            if finish:
                update["finish_time"] = now
        return self._run.model_copy(update=update)
