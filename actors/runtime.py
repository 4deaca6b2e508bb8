"""RayRuntime: routes each command to its shard, coalescing concurrent ones into one Ray call."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError

from actors.routing import shard_for
from actors.shard import EngagementShard
from q2c_core.catalog import Catalog
from q2c_core.domain.errors import UnavailableError
from q2c_core.messages import CommandEnvelope, CommandResult
from q2c_core.queries import Queries
from q2c_core.rejection_log import RejectionLog
from q2c_core.store import Store

log = logging.getLogger(__name__)
RETRIES_AFTER_SHARD_DEATH = 3
_ACTOR_ERRORS = (RayActorError, ActorUnavailableError)


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
        for attempt in range(RETRIES_AFTER_SHARD_DEATH + 1):
            try:
                self.calls += 1
                results: list[CommandResult] = await self.handle.execute_batch.remote(envelopes)
                return results
            except _ACTOR_ERRORS as error:
                log.warning("shard %d failed a call (attempt %d): %s", self.index, attempt + 1, error)
                # Only commands with a request_id are safe to send again: the store dedupes them.
                retry = [e for e in envelopes if e.request_id]
                if len(retry) != len(envelopes) or attempt == RETRIES_AFTER_SHARD_DEATH:
                    return await self._partial_retry(envelopes, retry, attempt)
                await asyncio.sleep(0.2 * (attempt + 1))  # let Ray restart the actor
        return [_unavailable(self.index) for _ in envelopes]

    async def _partial_retry(
        self, envelopes: list[CommandEnvelope], retry: list[CommandEnvelope], attempt: int
    ) -> list[CommandResult]:
        if not retry or attempt == RETRIES_AFTER_SHARD_DEATH:
            return [_unavailable(self.index) for _ in envelopes]
        retried = iter(await self._call(retry))
        return [next(retried) if e.request_id else _unavailable(self.index) for e in envelopes]


class RayRuntime:
    """Engagements on `shards` named Ray actors; reads and reference data via the shared store."""

    def __init__(
        self,
        store: Store,
        database_url: str,
        *,
        shards: int,
        deployment: str = "q2c",
        max_batch: int = 256,
    ) -> None:
        if shards < 1:
            raise ValueError("shards must be at least 1")
        self.store = store
        self.catalog = Catalog(store)
        self.queries = Queries(store)
        self.rejections = RejectionLog(store)
        self.deployment = deployment
        self.lanes = [
            ShardLane(i, self._shard(database_url, deployment, i, shards, max_batch), max_batch)
            for i in range(shards)
        ]
        self._closed = False

    @staticmethod
    def _shard(url: str, deployment: str, index: int, count: int, max_batch: int) -> Any:
        # Named and detached: every gateway of a deployment shares the same shards.
        return EngagementShard.options(  # type: ignore[attr-defined]
            name=f"{deployment}-shard-{index}-of-{count}",
            namespace="q2c",
            get_if_exists=True,
            lifetime="detached",
        ).remote(url, index, max_batch)

    def lane_for(self, engagement_id: str) -> ShardLane:
        """The lane (shard) that owns the engagement."""
        return self.lanes[shard_for(engagement_id, len(self.lanes))]

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Route to the owning shard; concurrent commands for a shard share one Ray call."""
        if self._closed:
            return CommandResult(error=UnavailableError("RUNTIME_CLOSED", "shutting down").to_payload())
        return await self.lane_for(envelope.engagement_id).submit(envelope)

    async def wait_ready(self) -> None:
        """Wait until every shard actor has started."""
        await asyncio.gather(*(lane.handle.stats.remote() for lane in self.lanes))

    async def healthy(self) -> bool:
        """True when Ray is up and the runtime open."""
        return not self._closed and ray.is_initialized()

    async def shard_stats(self) -> list[dict[str, int]]:
        """Each shard's stats (pid, resident engagements, batches)."""
        return list(await asyncio.gather(*(lane.handle.stats.remote() for lane in self.lanes)))

    async def close(self, *, kill_shards: bool = False) -> None:
        """Stop routing; optionally kill the shard actors (tests, or the last gateway)."""
        self._closed = True
        if kill_shards:
            for lane in self.lanes:
                ray.kill(lane.handle, no_restart=True)
