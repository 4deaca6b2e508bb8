"""EngagementHost: many engagement virtual actors in one process, committed in groups.

A batch of commands is decided command by command against each engagement's state and
committed in one transaction (group commit). One batch at a time per host keeps every
engagement's commands strictly serial and in order, while many engagements share each commit.
Two ways in share one writer lock (`writer.WriterGate`): `run_batch` / `run_job_now` run in the
calling thread (a threaded shard actor's Ray threads), and `submit_many` / `run_job` queue from
an event loop, where one worker coalesces what has queued into batches (the in-process
runtime). Which engagements stay in memory, live or compacted, is `residency.Residency`'s
business; sweeps and other maintenance jobs run under the same lock, between batches, so that
only one thread at a time touches it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import TypeVar

from q2c_core.app.clock import utc_now
from q2c_core.app.commands import BatchDecider, Key, StagedBatch
from q2c_core.app.decoding import UnreadableEngagementError, rebuild
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.ports import Store
from q2c_core.app.read_models import InvoiceJson
from q2c_core.app.records import IdempotencyRecord
from q2c_core.app.reference_data import ReferenceCache, ReferenceData
from q2c_core.app.replayed_state import with_replayed_state
from q2c_core.app.residency import Residency, ResidencyLimits
from q2c_core.app.store_errors import (
    ConcurrencyConflict,
    DuplicateRequestId,
    ReferenceDataChanged,
    StoreError,
)
from q2c_core.app.telemetry import HostTelemetry, rows_written
from q2c_core.app.writer import WriterGate
from q2c_core.domain.duties import NOBODY_EXEMPT, SelfApprovalPolicy
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.errors import ConflictError, ErrorKind, ErrorPayload, UnavailableError
from q2c_core.logs import batch_fields, log_context

log = logging.getLogger(__name__)
MAX_RETRIES = 3
Job = Callable[[], object]
_T = TypeVar("_T")


class EngagementHost:
    """Hosts engagements in memory, activating them from the store on first use."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        max_batch: int = 256,
        idle_seconds: float = 300.0,
        max_resident: int = 5_000,
        self_approval: SelfApprovalPolicy = NOBODY_EXEMPT,
        hibernate_seconds: float = 30.0,
        max_hibernating: int = 100_000,
    ) -> None:
        self.store = store
        self.self_approval = self_approval  # which tenants may approve their own time / expenses
        self._clock = clock
        self._max_batch = max_batch
        self.residency = Residency(
            ResidencyLimits(max_resident, hibernate_seconds, max_hibernating, idle_seconds)
        )
        self._invoice_json = InvoiceJson()  # the JSON of the invoices written last
        self._reference = ReferenceCache()  # customers and rate cards, across batches
        self._replays_expected = False  # the last idempotency lookup found stored requests
        self._queue: list[tuple[CommandEnvelope, asyncio.Future[CommandResult], bool]] = []
        self._jobs: list[tuple[Job, asyncio.Future[object]]] = []
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._gate = WriterGate()
        self.batches_committed = 0
        self._not_kept: set[Key] = set()  # the batch's passing engagements not held before it
        self.telemetry = HostTelemetry()

    # -- public: in the calling thread --------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once close() or close_now() was called: new commands are refused."""
        return self._gate.closed

    def run_batch(self, envelopes: list[CommandEnvelope], *, passing: bool = False) -> list[CommandResult]:
        """Decide and commit `envelopes` in this thread, in order, `max_batch` at a time, once no
        other batch or job runs; their results, never raised errors. `passing`: as submit_many."""
        token = self._gate.admit(len(envelopes), refusable=True)
        if token is None:
            return _refused(envelopes)
        try:
            with self._gate.lock:
                self._gate.started(token)
                step = self._max_batch
                results: list[CommandResult] = []
                for first in range(0, len(envelopes), step):
                    batch = envelopes[first : first + step]
                    results += self._run_batch(batch, {_key(e) for e in batch} if passing else None)
                return results
        finally:
            self._gate.done(token)

    def run_job_now(self, job: Job) -> object:
        """Run `job` in this thread between batches (it may touch residency); its result."""
        token = self._gate.admit(0, refusable=False)
        assert token is not None
        try:
            with self._gate.lock:
                return job()
        finally:
            self._gate.done(token)

    def sweep_now(self) -> None:
        """Hibernate and evict what has been idle too long (also done after every commit)."""
        self.run_job_now(self._sweep)

    def activate_now(self, keys: list[Key]) -> int:
        """Load engagements into memory ahead of their commands; how many are now live."""
        found = self.run_job_now(partial(self._load, keys))
        assert isinstance(found, int)
        return found

    def idle_now(self) -> None:
        """Block until every run_batch / run_job_now call begun before this one has finished."""
        self._gate.wait_for(self._gate.running())

    def close_now(self) -> None:
        """Refuse new commands, then block until the run_batch / run_job_now calls begun before
        have finished (the event loop's queue: see close)."""
        self._gate.wait_for(self._gate.close())

    def sweep_every(self, seconds: float) -> threading.Thread:
        """Sweep every `seconds` on a daemon thread until the host closes. A sweep that raises
        is logged and the next one runs on time: a timer that died would leave idle engagements
        live for good."""

        def sweeping() -> None:
            while not self._gate.closing.wait(seconds):
                try:
                    self.sweep_now()
                except Exception:
                    log.exception("periodic sweep failed")

        thread = threading.Thread(target=sweeping, name="q2c-host-sweep", daemon=True)
        thread.start()
        return thread

    # -- public: from an event loop -----------------------------------------------------------

    async def submit(self, envelope: CommandEnvelope) -> CommandResult:
        """Queue one command and wait for its result (after its batch commits)."""
        return (await self.submit_many([envelope]))[0]

    async def submit_many(
        self, envelopes: list[CommandEnvelope], *, passing: bool = False
    ) -> list[CommandResult]:
        """Queue commands in order and wait for all their results. `passing`: the commands visit
        engagements once (a bill run's sweep), so those they activate from the store are evicted
        again after the commit instead of crowding out the engagements in use."""
        if self.closed:
            return _refused(envelopes)
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in envelopes]
        self._queue.extend(
            (envelope, future, passing) for envelope, future in zip(envelopes, futures, strict=True)
        )
        self._ensure_worker()
        return list(await asyncio.gather(*futures))

    async def run_job(self, job: Job) -> object:
        """Run `job` on the worker between batches (it may touch residency), and return its result."""
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._jobs.append((job, future))
        self._ensure_worker()
        return await future

    async def sweep(self) -> None:
        """Hibernate and evict what has been idle too long (also done after every commit)."""
        await self.run_job(self._sweep)

    async def activate(self, keys: list[Key]) -> int:
        """Load engagements into memory ahead of their commands; how many are now live."""
        found = await self.run_job(partial(self._load, keys))
        assert isinstance(found, int)
        return found

    async def idle(self) -> None:
        """Wait until every command queued so far has been committed (or rejected)."""
        running = self._gate.running()  # and the run_batch calls under way
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)
        if running:
            await asyncio.to_thread(self._gate.wait_for, running)

    async def close(self) -> None:
        """Finish queued work, then refuse new commands."""
        running = self._gate.close()
        if self._worker is not None:
            await self._worker
        if running:
            await asyncio.to_thread(self._gate.wait_for, running)

    # -- either way ------------------------------------------------------------------------------

    @property
    def resident_count(self) -> int:
        """How many engagements are activated live in memory (hibernating ones not counted)."""
        return self.residency.hot_count

    def metrics_snapshot(self) -> dict[str, object]:
        """Cumulative counters and histograms, resident engagements and mailbox depth."""
        residency = self.residency
        self.telemetry.evictions = residency.evictions
        mailbox = len(self._queue) + self._gate.waiting()
        return {
            **self.telemetry.snapshot(residency.hot_count, mailbox),
            "hibernating": residency.hibernating_count,
            "hibernations": residency.hibernations,
            "thaws": residency.thaws,
        }

    def evict_all(self) -> None:
        """Forget every resident engagement (they re-activate from the store on next use)."""
        self.residency.clear()

    # -- worker ------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        self._wakeup.set()
        if self._worker is None or self._worker.done():
            # a fresh context: the batch task must not keep the log fields of the call that woke it
            self._worker = asyncio.get_running_loop().create_task(
                self._drain(), context=contextvars.Context()
            )

    async def _drain(self) -> None:
        while self._queue or self._jobs:
            if not self._queue:
                job, done = self._jobs.pop(0)
                try:
                    result = await asyncio.to_thread(self._locked, job)
                except Exception as error:  # the job's caller gets it
                    if not done.done():  # a caller that gave up (cancelled) gets nothing
                        done.set_exception(error)
                else:
                    if not done.done():
                        done.set_result(result)
                continue
            taken, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            envelopes = [envelope for envelope, _, _ in taken]
            passing = {_key(e) for e, _, p in taken if p} - {_key(e) for e, _, p in taken if not p}
            results = await asyncio.to_thread(self._locked, partial(self._run_batch, envelopes, passing))
            for (_, future, _), result in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def _locked(self, job: Callable[[], _T]) -> _T:
        with self._gate.lock:
            return job()

    def _run_batch(self, envelopes: list[CommandEnvelope], passing: set[Key] | None) -> list[CommandResult]:
        """process_batch, for a caller holding the writer lock: every command gets a result."""
        self.telemetry.batch_size.observe(len(envelopes))
        try:
            return self.process_batch(envelopes, passing)
        except Exception:  # never leave a caller without an answer
            log.exception("batch of %d failed", len(envelopes))
            payload = ErrorPayload(kind=ErrorKind.INTERNAL, reason="INTERNAL", message="internal error")
            return [CommandResult(error=payload)] * len(envelopes)

    def _sweep(self) -> None:
        self.residency.sweep(time.monotonic())

    def _load(self, keys: list[Key]) -> int:
        now = time.monotonic()
        states = self._activate(keys)
        for key, state in states.items():
            if state is not None:
                self.residency.put(key, state, now)
        self.residency.sweep(now)
        self._drop_unheld(states)
        return self.residency.hot_count

    # -- the pipeline (sync: its caller holds the writer lock, or is the host's only user) --

    def process_batch(
        self, envelopes: list[CommandEnvelope], passing: set[Key] | None = None
    ) -> list[CommandResult]:
        """Decide and group-commit a batch; fall back to one-by-one if another host raced us.
        Engagements in `passing` that were not in memory before the batch are not kept after it
        (never held live, so that they do not push the engagements in use out to hibernation)."""
        fields = batch_fields(
            [e.caller.correlation_id for e in envelopes],
            [e.engagement_id for e in envelopes],
            [e.caller.tenant_id for e in envelopes],
        )
        self._not_kept = passing - self._loaded_cold(passing) if passing else set()
        with log_context(**fields):
            try:
                return self._process_batch(envelopes)
            finally:
                if self._not_kept:
                    self.residency.forget_many(self._not_kept)
                    self._not_kept = set()

    def _loaded_cold(self, keys: set[Key] | None) -> set[Key]:
        """Which of `keys` are in memory (live or hibernating) now."""
        return {key for key in keys if self.residency.holds(key)} if keys else set()

    def _process_batch(self, envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        try:
            staged = self._decide_and_commit(envelopes)
            return with_replayed_state(self.store, envelopes, staged)
        except UnreadableEngagements as poisoned:
            return self._around(envelopes, poisoned.errors)
        except (ConcurrencyConflict, DuplicateRequestId, ReferenceDataChanged):
            self._forget(envelopes)
            return [self._process_alone(envelope) for envelope in envelopes]
        except StoreError as error:
            return self._unavailable(envelopes, error)

    def _decide_and_commit(self, envelopes: list[CommandEnvelope]) -> StagedBatch:
        """Decide the batch optimistically (see _decide) and commit it; decide it again with
        its request ids looked up if the store refused one as stored, or with fresh reference
        data if the cached one changed (at most MAX_RETRIES attempts in all)."""
        optimistic = not self._replays_expected
        # Loaded once: a refused commit changed none of them, so every attempt starts from these.
        # Optimistically, an engagement a command creates is not looked for: its id is new but
        # for a retry, and a retry's stored reply (DuplicateRequestId) or the stored engagement's
        # journal and version (ConcurrencyConflict: decided one by one, loaded) refuse the commit.
        creates = {_key(e) for e in envelopes if e.command.kind == "CreateEngagement"} if optimistic else None
        states = self._activate({_key(e) for e in envelopes}, absent=creates)
        for attempt in range(1, MAX_RETRIES + 1):
            try:
                staged = self._decide(envelopes, optimistic=optimistic, states=states)
                self._commit(staged)
                return staged
            except DuplicateRequestId:
                if not optimistic or attempt == MAX_RETRIES:
                    raise
                optimistic = False
            except ReferenceDataChanged:
                if attempt == MAX_RETRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _around(
        self, envelopes: list[CommandEnvelope], errors: dict[Key, UnreadableEngagementError]
    ) -> list[CommandResult]:
        """Refuse the commands of engagements that cannot be decoded; run the others as a batch."""
        rest = [e for e in envelopes if _key(e) not in errors]
        done = iter(self._process_batch(rest) if rest else [])  # within this batch's residency
        return [
            CommandResult(error=errors[_key(e)].to_payload()) if _key(e) in errors else next(done)
            for e in envelopes
        ]

    def _process_alone(self, envelope: CommandEnvelope) -> CommandResult:
        for _ in range(MAX_RETRIES):
            try:
                staged = self._decide([envelope])
                self._commit(staged)
                return with_replayed_state(self.store, [envelope], staged)[0]
            except UnreadableEngagements as poisoned:
                return CommandResult(error=poisoned.errors[_key(envelope)].to_payload())
            except (ConcurrencyConflict, DuplicateRequestId, ReferenceDataChanged):
                self._forget([envelope])
            except StoreError as error:
                return self._unavailable([envelope], error)[0]
        conflict = ConflictError(
            "CONCURRENT_MODIFICATION",
            f"engagement {envelope.engagement_id} kept changing under this command; retry",
            {"engagement_id": envelope.engagement_id},
        )
        return CommandResult(error=conflict.to_payload())

    def _unavailable(self, envelopes: list[CommandEnvelope], error: StoreError) -> list[CommandResult]:
        log.warning("store unavailable: %s", error)
        self._forget(envelopes)
        payload = UnavailableError("STORE_UNAVAILABLE", "the store is unavailable; retry").to_payload()
        return [CommandResult(error=payload) for _ in envelopes]

    def _decide(
        self,
        envelopes: list[CommandEnvelope],
        *,
        optimistic: bool = False,
        states: dict[Key, Engagement | None] | None = None,
    ) -> StagedBatch:
        """Decide the batch against its engagements' states and the stored replies of its
        request ids. `optimistic`: without looking those up, as a request id is almost always
        new: a command decided afresh stages its idempotency record, whose unique key makes the
        commit raise DuplicateRequestId if the id was stored (the caller then decides again
        with the lookup). Only the request ids no record was staged for (a rejection that is
        not remembered) are looked up before the commit, and the batch decided again if any
        was stored. `states`: the engagements as already loaded for this batch."""
        if states is None:
            states = self._activate({_key(e) for e in envelopes})
        reference = ReferenceData(self.store, self._reference)
        if not optimistic:
            stored = self._idempotency(envelopes)
            # a batch of retried requests (a bill run re-run) tends to be followed by more: the
            # next batch looks up first too, until a lookup finds none stored
            self._replays_expected = bool(stored)
            return self._decide_on(envelopes, states, stored, reference)
        known: dict[Key, IdempotencyRecord] = {}
        asked: set[Key] = set()
        while True:
            staged = self._decide_on(envelopes, states, known, reference)
            staged_ids = {(r.tenant_id, r.request_id) for r in staged.writes.idempotency}
            unguarded = [e for e in envelopes if e.request_id and _request(e) not in staged_ids | asked]
            asked.update(map(_request, unguarded))
            found = self._idempotency(unguarded) if unguarded else {}
            if not found:
                return staged
            known.update(found)

    def _decide_on(
        self,
        envelopes: list[CommandEnvelope],
        states: dict[Key, Engagement | None],
        idempotency: dict[Key, IdempotencyRecord],
        reference: ReferenceData,
    ) -> StagedBatch:
        decider = BatchDecider(
            dict(states),  # the decider moves its copy's states on
            idempotency,
            reference,
            self._clock,
            {key: self.residency.snapshot_at.get(key, 0) for key in states},
            self.self_approval,
            self._invoice_json,
        )
        staged = decider.decide_all(envelopes)
        staged.writes.reference_guards.update(reference.guards)  # what its decisions read
        return staged

    def _commit(self, staged: StagedBatch) -> None:
        started = time.monotonic()
        try:
            self.store.commit(staged.writes)
        except ReferenceDataChanged as changed:  # read again by the next decision
            self._reference.forget(changed.tenant_ids)
            raise
        now = time.monotonic()
        self.batches_committed += 1
        self._count(staged, now - started)
        self.residency.snapshot_at.update(staged.snapshot_at)
        for key, state in staged.states.items():
            if key not in self._not_kept:
                self.residency.put(key, state, now)
        self.residency.sweep(now)
        self._drop_unheld(staged.bases)

    def _count(self, staged: StagedBatch, seconds: float) -> None:
        telemetry = self.telemetry
        telemetry.commit_seconds.observe(seconds)
        telemetry.commit_rows.observe(rows_written(staged.writes))
        for result in staged.results:
            telemetry.commands += 1
            if result.replayed:
                telemetry.replays += 1
            elif result.error is not None:
                telemetry.rejections += 1

    def _idempotency(self, envelopes: list[CommandEnvelope]) -> dict[Key, IdempotencyRecord]:
        by_tenant: dict[str, list[str]] = {}
        for envelope in envelopes:
            if envelope.request_id:
                by_tenant.setdefault(envelope.caller.tenant_id, []).append(envelope.request_id)
        found: dict[Key, IdempotencyRecord] = {}
        for tenant_id, request_ids in by_tenant.items():
            for request_id, record in self.store.find_idempotency(tenant_id, request_ids).items():
                found[(tenant_id, request_id)] = record
        return found

    # -- residency -----------------------------------------------------------------------------

    def _activate(self, keys: Iterable[Key], absent: set[Key] | None = None) -> dict[Key, Engagement | None]:
        """Resident states for the keys, loading the missing ones from the store in one go
        (those in `absent` are taken as not stored, unread)."""
        states: dict[Key, Engagement | None] = {}
        missing: dict[str, list[str]] = {}
        for key in keys:
            resident = self.residency.get(key)
            if resident is not None:
                states[key] = resident
            elif absent and key in absent:  # as if loaded and not found
                states[key] = None
                self.residency.snapshot_at[key] = 0
                self.telemetry.activations += 1
            else:
                missing.setdefault(key[0], []).append(key[1])
        broken: dict[Key, UnreadableEngagementError] = {}
        for tenant_id, ids in missing.items():
            for engagement_id, (row, tail) in self.store.load_streams(tenant_id, ids).items():
                key = (tenant_id, engagement_id)
                journal = partial(self.store.read_events, tenant_id, engagement_id)
                try:
                    states[key] = rebuild(row, tail, journal, engagement_id)
                except UnreadableEngagementError as bad:
                    log.error("%s", bad.message)
                    broken[key] = bad
                    continue
                self.residency.snapshot_at[key] = row.snapshot_at if row else 0
                self.telemetry.activations += 1
        if broken:
            raise UnreadableEngagements(broken)
        return states

    def _drop_unheld(self, keys: Iterable[Key]) -> None:
        """Forget the snapshot versions of engagements loaded but not kept (unknown ones, or
        ones whose commands were all refused): only those held in memory have one."""
        for key in keys:
            if not self.residency.holds(key):
                self.residency.snapshot_at.pop(key, None)

    def _forget(self, envelopes: Iterable[CommandEnvelope]) -> None:
        for envelope in envelopes:
            self.residency.forget(_key(envelope))


def _key(envelope: CommandEnvelope) -> Key:
    return (envelope.caller.tenant_id, envelope.engagement_id)


def _refused(envelopes: list[CommandEnvelope]) -> list[CommandResult]:
    error = UnavailableError("HOST_CLOSED", "the engagement host is shutting down")
    return [CommandResult(error=error.to_payload()) for _ in envelopes]


def _request(envelope: CommandEnvelope) -> Key:
    return (envelope.caller.tenant_id, envelope.request_id or "")


class UnreadableEngagements(Exception):
    """Engagements of a batch whose stored state does not decode (their commands are refused)."""

    def __init__(self, errors: dict[Key, UnreadableEngagementError]) -> None:
        super().__init__(f"{len(errors)} engagement(s) cannot be decoded")
        self.errors = errors
