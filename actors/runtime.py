"""RayRuntime: routes each command to its shard, coalescing concurrent ones into one Ray call."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray

from actors.bill_run import BillRunCoordinatorActor, coordinator_name, shard_name
from actors.delivery import DeliveryActor, delivery_name
from actors.retry import LANE_POLICY, call_with_retries
from actors.routing import shard_for
from actors.shard import EngagementShard
from q2c_core.adapters.store import Store
from q2c_core.app.billing.runner import DEFAULT_CHUNK
from q2c_core.app.billing.runs import BillRun, BillRunSpec
from q2c_core.app.connectors import ConnectorFactory
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.runtime import RuntimeServices
from q2c_core.domain.duties import NOBODY_EXEMPT, SelfApprovalPolicy
from q2c_core.domain.errors import UnavailableError
from q2c_core.logs import LogFormat

log = logging.getLogger(__name__)


def _unavailable(shard_index: int) -> CommandResult:
    error = UnavailableError(
        "SHARD_UNAVAILABLE",
        f"engagement shard {shard_index} is restarting; retry with the same request_id",
        {"shard": str(shard_index)},
    )
    return CommandResult(error=error.to_payload())


class ShardLane:
    """One shard's queue: while a Ray call is in flight, newer commands gather into the next."""

    def __init__(self, index: int, handle: Any, max_batch: int) -> None:
        self.index = index
        self.handle = handle
        self._max_batch = max_batch
        self._pending: list[tuple[CommandEnvelope, asyncio.Future[CommandResult]]] = []
        self._sender: asyncio.Task[None] | None = None
        self.calls = 0

    async def submit(self, envelope: CommandEnvelope) -> CommandResult:
        """Queue one command for this shard and wait for its result."""
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._pending.append((envelope, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        return await future

    async def _send_all(self) -> None:
        # One call in flight per shard keeps each engagement's commands in arrival order.
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            results = await self._call([envelope for envelope, _ in batch])
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _call(self, envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        return await call_with_retries(
            self._send, envelopes, lambda _: _unavailable(self.index), LANE_POLICY, f"shard {self.index}"
        )

    async def _send(self, envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        self.calls += 1
        results: list[CommandResult] = await self.handle.execute_batch.remote(envelopes)
        return results


class RayRuntime(RuntimeServices):
    """Engagements on `shards` named Ray actors; reads and reference data via the shared store."""

    def __init__(
        self,
        store: Store,
        database_url: str,
        *,
        shards: int,
        deployment: str = "q2c",
        placement: str = "spread",
        max_batch: int = 256,
        bill_run_chunk: int = DEFAULT_CHUNK,
        bill_run_pause: float = 0.0,
        delivery: DeliveryConfig | None = None,
        connectors: ConnectorFactory | None = None,
        self_approval: SelfApprovalPolicy = NOBODY_EXEMPT,
        log_settings: tuple[str, LogFormat] | None = None,
    ) -> None:
        if shards < 1:
            raise ValueError("shards must be at least 1")
        self.database_url = database_url
        self.connector_factory = connectors
        self._wire_services(store, delivery, connectors, self.execute, self.wake_delivery)
        self.bill_run_chunk = bill_run_chunk
        self.bill_run_pause = bill_run_pause
        self.bill_run_watchers: dict[str, asyncio.Task[None]] = {}
        self.deployment = deployment
        self.self_approval = self_approval
        self.lanes = [
            ShardLane(
                i,
                self._shard(
                    database_url, deployment, (i, shards), placement, max_batch, self_approval, log_settings
                ),
                max_batch,
            )
            for i in range(shards)
        ]
        self._closed = False
        self.delivery_actor: Any = None

    @staticmethod
    def _shard(
        url: str,
        deployment: str,
        position: tuple[int, int],
        placement: str,
        max_batch: int,
        self_approval: SelfApprovalPolicy,
        log_settings: tuple[str, LogFormat] | None,
    ) -> Any:
        # Named and detached: every gateway of a deployment shares the same shards, so the
        # policy of the gateway that first creates a shard holds until the shard is replaced.
        # SPREAD puts the shards on as many nodes as the cluster has (a restart after a node is
        # lost lands on a surviving one); "pack" leaves the choice to Ray's default scheduler.
        index, count = position
        return EngagementShard.options(  # type: ignore[attr-defined]
            name=shard_name(deployment, index, count),
            namespace="q2c",
            get_if_exists=True,
            lifetime="detached",
            scheduling_strategy="SPREAD" if placement == "spread" else "DEFAULT",
        ).remote(url, index, max_batch, self_approval, log_settings)

    async def start_delivery(self) -> None:
        """Start (or join) the deployment's delivery actor when an ERP or PSA is configured."""
        if not self.delivery_config.enabled or self.delivery_actor is not None:
            return
        self.delivery_actor = DeliveryActor.options(  # type: ignore[attr-defined]
            name=delivery_name(self.deployment),
            namespace="q2c",
            get_if_exists=True,
            lifetime="detached",
        ).remote(
            self.database_url, self.deployment, len(self.lanes), self.delivery_config, self.connector_factory
        )
        await self.delivery_actor.stats.remote()

    def wake_delivery(self) -> None:
        """Nudge the delivery actor (fire and forget)."""
        if self.delivery_actor is not None:
            self.delivery_actor.wake.remote()

    def lane_for(self, engagement_id: str) -> ShardLane:
        """The lane (shard) that owns the engagement."""
        return self.lanes[shard_for(engagement_id, len(self.lanes))]

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Route to the owning shard; concurrent commands for a shard share one Ray call."""
        if self._closed:
            return CommandResult(error=UnavailableError("RUNTIME_CLOSED", "shutting down").to_payload())
        return await self.lane_for(envelope.engagement_id).submit(envelope)

    async def start_bill_run(self, caller: Caller, request_id: str | None, spec: BillRunSpec) -> BillRun:
        """Record the run, then coordinate it in a detached coordinator actor (returns at once)."""
        run, created = await asyncio.to_thread(self.bill_runs.start, caller, request_id, spec)
        if created:
            self._launch(run)
        return run

    def _launch(self, run: BillRun) -> None:
        actor = BillRunCoordinatorActor.options(  # type: ignore[attr-defined]
            name=coordinator_name(self.deployment, run.bill_run_id),
            namespace="q2c",
            lifetime="detached",
            get_if_exists=True,
        ).remote(
            self.database_url,
            self.deployment,
            len(self.lanes),
            run.tenant_id,
            run.bill_run_id,
            (self.bill_run_chunk, self.bill_run_pause),
        )
        task = asyncio.get_running_loop().create_task(self._watch(actor, run))
        self.bill_run_watchers[run.bill_run_id] = task
        task.add_done_callback(lambda _: self.bill_run_watchers.pop(run.bill_run_id, None))

    async def _watch(self, actor: Any, run: BillRun) -> None:
        """When the coordinator dies before finishing its run, the run ends FAILED."""
        try:
            await actor.run.remote()
        except Exception as error:  # the actor exits (or died): the store says which
            log.info("bill run %s coordinator ended: %s", run.bill_run_id, type(error).__name__)
        message = "the bill run coordinator died; start a new run for the period to finish it"
        await asyncio.to_thread(self.bill_runs.fail, run.tenant_id, run.bill_run_id, message)

    def coordinator(self, bill_run_id: str) -> Any:
        """The live coordinator actor of a run (ValueError once it has exited)."""
        return ray.get_actor(coordinator_name(self.deployment, bill_run_id), namespace="q2c")

    async def wait_ready(self) -> None:
        """Wait until every shard actor has started."""
        await asyncio.gather(*(lane.handle.stats.remote() for lane in self.lanes))

    async def healthy(self) -> bool:
        """True when Ray is up and the runtime open."""
        return not self._closed and ray.is_initialized()

    async def shard_stats(self) -> list[dict[str, int]]:
        """Each shard's stats (pid, resident engagements, batches)."""
        return list(await asyncio.gather(*(lane.handle.stats.remote() for lane in self.lanes)))

    async def shard_metrics(self, timeout: float = 2.0) -> dict[int, dict[str, object] | None]:
        """Each shard's metrics snapshot by shard index; None for a shard that did not answer
        within `timeout` seconds (restarting, or busy with a long batch)."""

        async def one(lane: ShardLane) -> dict[str, object] | None:
            try:
                snapshot: dict[str, object] = await asyncio.wait_for(
                    lane.handle.metrics_snapshot.remote(), timeout
                )
            except Exception as error:  # a dead or slow shard must not fail the scrape
                log.info("shard %d metrics unavailable: %s", lane.index, type(error).__name__)
                return None
            return snapshot

        answers = await asyncio.gather(*(one(lane) for lane in self.lanes))
        return {lane.index: answer for lane, answer in zip(self.lanes, answers, strict=True)}

    async def close(self, *, kill_shards: bool = False) -> None:
        """Stop routing; optionally kill the shard actors (tests, or the last gateway).

        Running bill runs go on in their detached coordinator actors; only watching stops.
        """
        self._closed = True
        for watcher in list(self.bill_run_watchers.values()):
            watcher.cancel()
        if kill_shards:
            if self.delivery_actor is not None:
                ray.kill(self.delivery_actor, no_restart=True)
            for lane in self.lanes:
                ray.kill(lane.handle, no_restart=True)
