"""RayRuntime: routes each command to its shard, coalescing concurrent ones into one Ray call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import ray
from ray.exceptions import RaySystemError
from ray.util.placement_group import (
    get_placement_group,
    placement_group,
    remove_placement_group,
)
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

from actors import wire
from actors.bill_run import BillRunCoordinatorActor, coordinator_name, shard_name
from actors.delivery import DeliveryActor, delivery_name
from actors.direct import ChannelClient, ChannelLost
from actors.retry import LANE_POLICY, call_with_retries
from actors.routing import shard_for
from actors.shard import EngagementShard
from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import LeaseSettings, RunLease
from q2c_core.app.billing.runner import DEFAULT_CHUNK
from q2c_core.app.billing.runs import BillRun, BillRunSpec
from q2c_core.app.connectors import ConnectorFactory
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.runtime import RuntimeServices
from q2c_core.app.store_errors import StoreError
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


RECONNECT_SECONDS = 1.0
"""After a failed connect, batches go through Ray this long before the lane tries again."""


class ShardLane:
    """One shard's queue: while a call is in flight, newer commands gather into the next.

    Batches go over the shard's direct channel (actors/direct.py) once the shard has said, over
    Ray, where it listens; through a Ray actor call while it has not, or when told to
    (`direct=False`, `--shard-channel ray`)."""

    def __init__(self, index: int, handle: Any, max_batch: int, direct: bool = True) -> None:
        self.index = index
        self.handle = handle
        self._max_batch = max_batch
        self._pending: list[tuple[CommandEnvelope, asyncio.Future[CommandResult]]] = []
        self._sender: asyncio.Task[None] | None = None
        self.calls = 0
        self.direct_calls = 0
        # a shard started by an earlier release (detached, still running) has no execute_encoded
        self.encoded = hasattr(handle, "execute_encoded")
        # batches over the shard's own socket once it has said where (actors/direct.py)
        self.direct = self.encoded and hasattr(handle, "direct_endpoint") and direct
        self._channel: ChannelClient | None = None
        self._next_connect = 0.0

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
        if not self.encoded:
            found: list[CommandResult] = await self.handle.execute_batch.remote(envelopes)
            return found
        request = wire.encode(envelopes)
        channel = await self._open_channel()
        if channel is not None:  # ChannelLost mid-call: retried like an actor death
            self.direct_calls += 1
            reply = await channel.call(request)
        else:  # pre-encoded both ways (actors/wire.py): Ray only copies bytes
            reply = await self.handle.execute_encoded.remote(request)
        results: list[CommandResult] = wire.decode(reply)
        return results

    async def _open_channel(self) -> ChannelClient | None:
        """The open direct channel, a new one, or None (not offered, or refused a moment ago)."""
        if self._channel is not None:
            if self._channel.usable:
                return self._channel
            self._channel.close()  # the shard hung up between batches (it restarted): nothing sent
            self._channel = None
        if not self.direct or time.monotonic() < self._next_connect:
            return None
        endpoint = await self.handle.direct_endpoint.remote()  # waits out a restarting shard
        try:
            self._channel = await ChannelClient.connect(endpoint)
        except ChannelLost as error:
            log.warning("shard %d: no direct channel (%s); calling through Ray for now", self.index, error)
            self._next_connect = time.monotonic() + RECONNECT_SECONDS
            return None
        return self._channel

    def close(self) -> None:
        """Close the direct channel (batches still queued go through Ray)."""
        self.direct = False
        if self._channel is not None:
            self._channel.close()


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
        channel: str = "direct",
        max_batch: int = 256,
        bill_run_chunk: int = DEFAULT_CHUNK,
        bill_run_pause: float = 0.0,
        delivery: DeliveryConfig | None = None,
        connectors: ConnectorFactory | None = None,
        self_approval: SelfApprovalPolicy = NOBODY_EXEMPT,
        log_settings: tuple[str, LogFormat] | None = None,
        bill_run_leases: LeaseSettings | None = None,
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
        self._wire_bill_runs(bill_run_leases, deployment)
        self.self_approval = self_approval
        self.lanes = [
            ShardLane(
                i,
                self._shard(
                    database_url, deployment, (i, shards), placement, max_batch, self_approval, log_settings
                ),
                max_batch,
                direct=channel == "direct",
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
        # "spread": shard i in bundle i of the deployment's SPREAD placement group, which Ray deals
        # out evenly over the nodes and moves to surviving nodes when one is lost (the shard
        # restarts there). Ray's SPREAD strategy alone left zero-CPU shards 3+1 or 4+0 on two
        # nodes. "pack" leaves the choice to Ray's default scheduler.
        index, count = position
        strategy: Any = "DEFAULT"
        if placement == "spread":
            group = _shard_group(deployment, count)
            strategy = PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index)
        return EngagementShard.options(  # type: ignore[attr-defined]
            name=shard_name(deployment, index, count),
            namespace="q2c",
            get_if_exists=True,
            lifetime="detached",
            scheduling_strategy=strategy,
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
            await self._coordinate(run)
        return run

    async def _launch_coordinator(self, run: BillRun, lease: RunLease) -> None:
        """A detached coordinator actor for the run, holding `lease`, watched from here. A
        coordinator still registered under the run's name has lost the lease: it is killed."""
        name = coordinator_name(self.deployment, run.bill_run_id)
        await asyncio.to_thread(_free_name, name)
        # On this gateway's own node: it is alive, whereas Ray's default scheduler could put a
        # resumed run's coordinator back on a node that is lost but not yet declared dead (seen
        # in bench/multinode_run.py: two coordinators lost that way before a third finished).
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        actor = BillRunCoordinatorActor.options(  # type: ignore[attr-defined]
            name=name, namespace="q2c", lifetime="detached", scheduling_strategy=here
        ).remote(
            self.database_url,
            self.deployment,
            len(self.lanes),
            run.tenant_id,
            run.bill_run_id,
            (self.bill_run_chunk, self.bill_run_pause),
            (lease.owner, lease.seconds),
        )
        run_id = run.bill_run_id
        task = asyncio.get_running_loop().create_task(self._watch(actor, run, lease))
        self.bill_run_watchers[run_id] = task
        task.add_done_callback(
            lambda done: (
                self.bill_run_watchers.pop(run_id) if self.bill_run_watchers.get(run_id) is done else None
            )
        )

    async def _watch(self, actor: Any, run: BillRun, lease: RunLease) -> None:
        """When the coordinator dies before finishing its run, free its lease and sweep: the run
        is resumed now (or failed, once it lost too many coordinators), not when the lease ends."""
        try:
            await _started(actor, lease)
            await actor.run.remote()
        except Exception as error:  # the actor exits (or died): the store says which
            log.info("bill run %s coordinator ended: %s", run.bill_run_id, type(error).__name__)
        try:
            stored, _ = await asyncio.to_thread(self.bill_runs.load, run.tenant_id, run.bill_run_id)
            if stored.state.finished or not await asyncio.to_thread(lease.release):
                return  # finished, or the lease had already passed to another coordinator
            log.warning("bill run %s: coordinator %s died, run unfinished", run.bill_run_id, lease.owner)
            await self.bill_run_sweeper.sweep()
        except StoreError as error:  # the lease lapses instead, and a periodic sweep resumes the run
            log.warning("bill run %s: not resumed at once: %s", run.bill_run_id, error)

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

        Running bill runs go on in their detached coordinator actors; only watching (and
        sweeping) stops: another gateway's sweep resumes a run whose coordinator then dies.
        """
        self._closed = True
        for lane in self.lanes:
            lane.close()
        await self.stop_bill_run_sweeper()
        for watcher in list(self.bill_run_watchers.values()):
            watcher.cancel()
        if kill_shards:
            if self.delivery_actor is not None:
                ray.kill(self.delivery_actor, no_restart=True)
            for lane in self.lanes:
                ray.kill(lane.handle, no_restart=True)
            with contextlib.suppress(ValueError):  # no group: placement "pack"
                remove_placement_group(get_placement_group(_group_name(self.deployment, len(self.lanes))))


def _group_name(deployment: str, count: int) -> str:
    return f"{deployment}-shards-of-{count}"


def _shard_group(deployment: str, count: int) -> Any:
    """The deployment's placement group: one 0.001-CPU bundle per shard, SPREAD over the nodes
    (detached and named, so every gateway of the deployment finds the same one)."""
    name = _group_name(deployment, count)
    with contextlib.suppress(ValueError):  # not created yet
        return get_placement_group(name)
    try:
        return placement_group([{"CPU": 0.001}] * count, strategy="SPREAD", name=name, lifetime="detached")
    except RaySystemError:  # another gateway created it meanwhile
        return get_placement_group(name)


async def _started(actor: Any, lease: RunLease) -> None:
    """Wait until the coordinator actor has started, renewing its lease meanwhile: a slow start
    (a new worker process on a busy node) must not look like a lost coordinator."""
    ready = asyncio.wrap_future(actor.pid.remote().future())
    while not (await asyncio.wait({ready}, timeout=lease.seconds / 3))[0]:
        if not await asyncio.to_thread(lease.renew):
            return  # taken over meanwhile: the coordinator will find out and stop
    ready.result()


def _free_name(name: str, seconds: float = 10.0) -> None:
    """Kill the actor registered under `name`, if any, and wait until the name is free."""
    try:
        stale = ray.get_actor(name, namespace="q2c")
    except ValueError:
        return
    ray.kill(stale, no_restart=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ray.get_actor(name, namespace="q2c")
        except ValueError:
            return
        time.sleep(0.05)  # polling the GCS until the deadline
    raise RuntimeError(f"actor {name} is still registered {seconds:.0f}s after it was killed")
