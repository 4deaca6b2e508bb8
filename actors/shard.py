"""EngagementShard: a Ray actor hosting thousands of engagement virtual actors."""

from __future__ import annotations

import gc
import os

import ray

from actors import wire
from actors.direct import ChannelServer, Endpoint
from q2c_core.adapters.store import Store
from q2c_core.app.billing.runner import BillOutcome, outcomes
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.residency import ResidencyLimits
from q2c_core.domain.duties import NOBODY_EXEMPT, SelfApprovalPolicy
from q2c_core.logs import LogFormat, configure_logging

SWEEP_SECONDS = 5.0
"""How often a shard hibernates and evicts idle engagements when no commits do it."""
OBSERVE = "observe"
"""The concurrency group of the read-only calls (stats, metrics): answered on threads of their
own while a batch runs, not queued behind a bill-run chunk."""


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0, concurrency_groups={OBSERVE: 2})  # type: ignore[call-overload]
class EngagementShard:
    """Wraps one EngagementHost; after a crash Ray restarts it and engagements re-activate lazily."""

    def __init__(
        self,
        database_url: str,
        shard_index: int,
        max_batch: int = 256,
        self_approval: SelfApprovalPolicy = NOBODY_EXEMPT,
        log_settings: tuple[str, LogFormat] | None = None,
        residency: ResidencyLimits | None = None,
    ) -> None:
        if log_settings is not None:  # the gateway's level and format (JSON lines for a pipeline)
            configure_logging(*log_settings)
        self.shard_index = shard_index
        self.store = Store.open(database_url, migrate=False)
        limits = residency or ResidencyLimits()
        self.host = EngagementHost(
            self.store,
            max_batch=max_batch,
            self_approval=self_approval,
            idle_seconds=limits.idle_seconds,
            max_resident=limits.max_hot,
            hibernate_seconds=limits.hibernate_seconds,
            max_hibernating=limits.max_hibernating,
        )
        # The shard allocates many short-lived models per command: collecting the young generation
        # every 20,000 allocations instead of 700, with start-up objects frozen out of every
        # collection, took bench/decide.py from 168 to 146 us per command (collection 42 -> 8 us).
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)
        self._sweeper = self.host.sweep_every(SWEEP_SECONDS)  # idle engagements hibernate between commits
        # the gateways' lanes send their batches here (actors/direct.py), once they have asked
        # direct_endpoint over Ray: a socket on this node's address, one thread per connection
        self._channel = ChannelServer(self.execute_encoded, ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]

    # Every method is synchronous. Ray runs the default group's calls one at a time on one
    # thread, in the order they arrive (so idle and drain come after everything sent before
    # them); the host's writer lock keeps the periodic sweep out of a batch. The async actor this
    # replaces handed each call to an event loop, then each batch to a worker thread, for about
    # 10% more shard instructions per one-command call (bench/shard_call.py --callgrind).

    def execute_batch(self, envelopes: list[CommandEnvelope]) -> list[CommandResult]:
        """Run a batch of commands (group-committed); results, never raised domain errors."""
        return self.host.run_batch(envelopes)

    def execute_encoded(self, batch: bytes) -> bytes:
        """execute_batch over `wire`-encoded envelopes and results: the C pickler on both sides
        instead of Ray's cloudpickle (the gateway's lanes call this one)."""
        return wire.encode(self.host.run_batch(wire.decode(batch)))

    def bill_batch(self, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        """A bill-run chunk: group-committed like execute_batch, answered with small outcomes.
        The engagements it had to load from the store are not kept in memory afterwards."""
        return outcomes(envelopes, self.host.run_batch(envelopes, passing=True))

    def bill_encoded(self, batch: bytes) -> bytes:
        """bill_batch over `wire`-encoded envelopes and outcomes (what coordinators call)."""
        return wire.encode(self.bill_batch(wire.decode(batch)))

    def activate(self, tenant_id: str, engagement_ids: list[str]) -> int:
        """Load engagements into memory ahead of their commands; how many are live now."""
        return self.host.activate_now([(tenant_id, e) for e in engagement_ids])

    def sweep(self) -> None:
        """Hibernate and evict idle engagements now (the shard also does it every few seconds)."""
        self.host.sweep_now()

    @ray.method(concurrency_group=OBSERVE)
    def direct_endpoint(self) -> Endpoint:
        """Where this shard serves command batches directly, and the secret that opens it. Its
        batches run through the same host entry as execute_encoded (the writer lock orders them);
        `idle` and `drain` wait for the ones already admitted."""
        return self._channel.endpoint

    @ray.method(concurrency_group=OBSERVE)
    def stats(self) -> dict[str, int]:
        """Process id, live and hibernating engagements, committed batches (tests, operators)."""
        return {
            "pid": os.getpid(),
            "shard_index": self.shard_index,
            "resident": self.host.resident_count,
            "hibernating": self.host.residency.hibernating_count,
            "hibernating_bytes": self.host.residency.hibernating_bytes(),
            "batches_committed": self.host.batches_committed,
        }

    @ray.method(concurrency_group=OBSERVE)
    def metrics_snapshot(self) -> dict[str, object]:
        """The host's cumulative counters and histograms and its gauges, as plain data."""
        return self.host.metrics_snapshot()

    def idle(self) -> None:
        """Return once every command this shard has received so far is committed."""
        self.host.idle_now()

    def drain(self) -> None:
        """Finish queued work and refuse new commands (before a planned shutdown)."""
        self.host.close_now()
