"""Plain counters of an EngagementHost, cheap to bump and picklable across Ray.

The app room does not import prometheus: a host counts into a `HostTelemetry`, a Ray shard
returns `snapshot()` (cumulative values, like Prometheus counters), and the gateway's collector
(`edge/metrics.py`) turns the snapshots of every host it can reach into metrics.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from q2c_core.app.records import WriteBatch

BATCH_SIZE_BUCKETS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
"""Commands per batch (a host takes at most max_batch, 256 by default)."""
COMMIT_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds one group commit (one store transaction) takes."""
ROWS_BUCKETS = (1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0)
"""Rows one group commit writes (events, audit, idempotency, read models)."""


@dataclass(slots=True)
class Histogram:
    """Cumulative-able bucket counts (`counts[i]`: observations <= bounds[i]; last: +Inf)."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        """Count one observation into its bucket."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def snapshot(self) -> dict[str, Any]:
        """Bounds, per-bucket (not cumulative) counts and the sum."""
        return {"bounds": list(self.bounds), "counts": list(self.counts), "sum": self.total}


@dataclass(slots=True)
class HostTelemetry:
    """What one EngagementHost has done since it started (and what it holds now)."""

    batch_size: Histogram = field(default_factory=lambda: Histogram(BATCH_SIZE_BUCKETS))
    commit_seconds: Histogram = field(default_factory=lambda: Histogram(COMMIT_SECONDS_BUCKETS))
    commit_rows: Histogram = field(default_factory=lambda: Histogram(ROWS_BUCKETS))
    activations: int = 0
    evictions: int = 0
    replays: int = 0
    commands: int = 0
    rejections: int = 0

    def snapshot(self, resident: int, mailbox: int) -> dict[str, Any]:
        """Cumulative counters and histograms, plus the gauges passed in (plain data)."""
        return {
            "batch_size": self.batch_size.snapshot(),
            "commit_seconds": self.commit_seconds.snapshot(),
            "commit_rows": self.commit_rows.snapshot(),
            "activations": self.activations,
            "evictions": self.evictions,
            "replays": self.replays,
            "commands": self.commands,
            "rejections": self.rejections,
            "resident": resident,
            "mailbox": mailbox,
        }


def rows_written(writes: WriteBatch) -> int:
    """How many rows one commit of `writes` inserts or updates."""
    return (
        len(writes.events)
        + len(writes.audit)
        + len(writes.idempotency)
        + len(writes.engagements)
        + len(writes.exceptions)
        + len(writes.customers)
        + len(writes.rate_cards)
        + len(writes.invoices)
        + len(writes.bill_runs)
    )
