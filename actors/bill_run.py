"""BillRunCoordinatorActor: runs one bill run's coordinator next to the shards, then exits."""

from __future__ import annotations

import os
from typing import Any

import ray

from actors import wire
from actors.retry import BILL_RUN_POLICY, call_with_retries
from actors.routing import shard_for
from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import RunLease
from q2c_core.app.billing.runner import DEFAULT_CHUNK, BillOutcome, BillRunCoordinator, failed_outcomes
from q2c_core.app.messages import CommandEnvelope


def shard_name(deployment: str, index: int, count: int) -> str:
    """The Ray name of a deployment's shard actor."""
    return f"{deployment}-shard-{index}-of-{count}"


def coordinator_name(deployment: str, bill_run_id: str) -> str:
    """The Ray name of a bill run's coordinator actor."""
    return f"{deployment}-billrun-{bill_run_id}"


def _unavailable(envelope: CommandEnvelope) -> BillOutcome:
    message = "the engagement's shard stayed unavailable; a new run will retry it"
    return failed_outcomes([envelope], "SHARD_UNAVAILABLE", message)[0]


@ray.remote(num_cpus=0, max_restarts=0)
class BillRunCoordinatorActor:
    """Sends each shard its engagements chunk by chunk (one Ray call per chunk), shards in parallel."""

    def __init__(
        self,
        database_url: str,
        deployment: str,
        shards: int,
        tenant_id: str,
        bill_run_id: str,
        pacing: tuple[int, float] = (DEFAULT_CHUNK, 0.0),
        lease: tuple[str, float] | None = None,
    ) -> None:
        """`lease`: (owner, seconds) of the run's lease the launching gateway took for this actor."""
        self.store = Store.open(database_url, migrate=False)
        held = RunLease(self.store, tenant_id, bill_run_id, *lease) if lease else None
        self.handles = [
            ray.get_actor(shard_name(deployment, i, shards), namespace="q2c") for i in range(shards)
        ]
        self.coordinator = BillRunCoordinator(
            self.store,
            tenant_id,
            bill_run_id,
            shards=shards,
            shard_of=lambda engagement_id: shard_for(engagement_id, shards),
            dispatch=self._dispatch,
            chunk_size=pacing[0],
            pause=pacing[1],
            lease=held,
        )

    async def _dispatch(self, index: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        handle: Any = self.handles[index]

        async def send(batch: list[CommandEnvelope]) -> list[BillOutcome]:
            if not hasattr(handle, "bill_encoded"):  # a shard started by an earlier release
                found: list[BillOutcome] = await handle.bill_batch.remote(batch)
                return found
            outcomes: list[BillOutcome] = wire.decode(await handle.bill_encoded.remote(wire.encode(batch)))
            return outcomes

        return await call_with_retries(send, envelopes, _unavailable, BILL_RUN_POLICY, f"shard {index}")

    async def pid(self) -> int:
        """The coordinator's process id (for operators, and tests that kill it)."""
        return os.getpid()

    async def run(self) -> str:
        """Run the bill run to its end, save it, and exit this actor, also when the run raised
        (a detached actor left behind would keep its process and connections for good)."""
        try:
            run = await self.coordinator.run()
        finally:
            self.store.close()
            ray.actor.exit_actor()  # type: ignore[no-untyped-call]
        return run.state.value  # pragma: no cover - exit_actor does not return
