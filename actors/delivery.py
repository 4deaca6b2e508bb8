"""DeliveryActor: the one delivery worker of a deployment, next to its shards.

One worker per deployment, not one per shard: delivery is I/O-bound and limited by what the
ERP and PSA accept (their throttling and concurrency), so the per-destination limits must be
global, which one worker enforces without coordination; the outbox is one ordered table read
through one cursor. Shards stay free for commands, and a month-end bill run on every shard
does not multiply the calls the ERP sees. The worker runs in its own thread and event loop,
started by the constructor, so when Ray restarts the actor after a crash it resumes by itself
from the persisted cursor and items (``max_restarts=-1``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import defaultdict
from typing import Any

import ray

from actors.bill_run import shard_name
from actors.retry import LANE_POLICY, call_with_retries
from actors.routing import shard_for
from q2c_core.adapters.store import Store
from q2c_core.app.connectors import ConnectorFactory
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.delivery.worker import DeliveryWorker
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.runtime import connectors_for
from q2c_core.domain.errors import UnavailableError

log = logging.getLogger(__name__)


def delivery_name(deployment: str) -> str:
    """The Ray name of a deployment's delivery actor."""
    return f"{deployment}-delivery"


def _unavailable(_: CommandEnvelope) -> CommandResult:
    error = UnavailableError("SHARD_UNAVAILABLE", "the engagement's shard is restarting")
    return CommandResult(error=error.to_payload())


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class DeliveryActor:
    """Runs a DeliveryWorker in a background thread; acknowledgements go to the shards."""

    def __init__(
        self,
        database_url: str,
        deployment: str,
        shards: int,
        config: DeliveryConfig,
        connectors: ConnectorFactory | None,
    ) -> None:
        self.store = Store.open(database_url, migrate=False)
        self.shards = shards
        self.handles = [
            ray.get_actor(shard_name(deployment, i, shards), namespace="q2c") for i in range(shards)
        ]
        built = connectors_for(config, connectors)
        self.worker = DeliveryWorker(self.store, config, self._submit, erp=built.erp, psa=built.psa)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._main, name="q2c-delivery-loop", daemon=True)
        self.thread.start()
        self.started.wait(10)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop, self.stop_event = asyncio.get_running_loop(), asyncio.Event()
        self.started.set()
        await self.worker.run(self.stop_event)

    async def _submit(self, envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        by_shard: dict[int, list[int]] = defaultdict(list)
        for index, envelope in enumerate(envelopes):
            by_shard[shard_for(envelope.engagement_id, self.shards)].append(index)
        results: list[CommandResult | None] = [None] * len(envelopes)

        async def send(shard: int, indexes: list[int]) -> None:
            handle: Any = self.handles[shard]

            async def call(batch: list[CommandEnvelope]) -> list[CommandResult]:
                found: list[CommandResult] = await handle.execute_batch.remote(batch)
                return found

            batch = [envelopes[i] for i in indexes]
            for i, result in zip(
                indexes, await call_with_retries(call, batch, _unavailable, LANE_POLICY), strict=True
            ):
                results[i] = result

        await asyncio.gather(*(send(shard, indexes) for shard, indexes in by_shard.items()))
        return [r if r is not None else _unavailable(envelopes[0]) for r in results]

    def wake(self) -> None:
        """Look for work now (dead letters were retried)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.worker.wake)

    def stats(self) -> dict[str, Any]:
        """Process id and what the worker has done since this incarnation started."""
        c = self.worker.counters
        return {
            "pid": os.getpid(),
            "planned": c.planned,
            "delivered": c.delivered,
            "failed": c.failed,
            "dead": c.dead,
            "rounds": c.rounds,
            "alive": self.thread.is_alive(),
        }

    def stop(self) -> None:
        """Stop the worker loop (the actor stays until killed)."""
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)
