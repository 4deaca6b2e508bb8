"""Noisy-neighbour load test: does the per-tenant rate limit protect a quiet tenant?

    python -m bench.noisy_tenant --db postgresql --budget 50 --noisy-rate 500
    python -m bench.noisy_tenant --db postgresql --budget 0 --noisy-rate 500   # no limit, to compare

Starts ``server.py`` (Ray shards, a development key, ``--tenant-mutations-per-second BUDGET``)
on a fresh database, as ``bench/lifecycle.py`` does. A quiet tenant runs whole engagement
lifecycles (12 mutations each) from one client paced at ``--quiet-rate`` commands/s, well inside
the budget; first alone (unloaded), then while a noisy tenant fires ``CreateEngagement`` open-loop
at ``--noisy-rate`` calls/s (at most ``--noisy-in-flight`` outstanding) from its own process for
as long as the quiet run lasts (loaded). Reported: the quiet tenant's latency percentiles in
both phases and their ratio, the noisy tenant's accepted rate against its budget, and the
status codes it got.
Loopback only; bounded by ``--quiet-engagements`` per phase. One JSON line per run goes to
``bench/results/noisy-tenant.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.lifecycle import (
    RESULTS,
    Driver,
    Tally,
    cpu_by_process,
    cpu_delta,
    fresh_database,
    machine,
    percentile,
    running_server,
)
from q2c_core.edge.auth.devkey import DevKey, create_dev_key

DEADLINE_SECONDS = 30.0


class PacedDriver(Driver):
    """A lifecycle driver whose calls start on a fixed schedule (`rate` per second) when it can."""

    def __init__(self, *args: Any, rate: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interval = 1.0 / rate
        self.next_at = 0.0

    async def call(self, tally: Tally, kind: str, request: Any) -> Any:
        now = time.perf_counter()
        self.next_at = max(self.next_at + self.interval, now)
        if self.next_at > now:
            await asyncio.sleep(self.next_at - now)
        return await super().call(tally, kind, request)


async def quiet_phase(driver: PacedDriver, engagements: int) -> tuple[Tally, float]:
    """The quiet tenant's lifecycles, one client; (tally, wall seconds)."""
    driver.next_at = time.perf_counter()
    return await driver.run(1, engagements)


class Noisy:
    """Open-loop CreateEngagement calls from one tenant, counted by status code."""

    def __init__(self, target: str, metadata: list[tuple[str, str]], customer_id: str, rate: float) -> None:
        self.target, self.metadata, self.customer_id, self.rate = target, metadata, customer_id, rate
        self.codes: Counter[str] = Counter()
        self.offered = 0
        self.skipped = 0  # ticks that found --noisy-in-flight calls outstanding

    async def one(self, stub: Any, limit: asyncio.Semaphore) -> None:
        import grpc

        from q2c.v1 import engagement_pb2 as pb

        request = pb.CreateEngagementRequest(
            request_id=uuid.uuid4().hex, customer_id=self.customer_id, display_name="Noise"
        )
        try:
            await stub.CreateEngagement(request, metadata=self.metadata, timeout=DEADLINE_SECONDS)
            self.codes["OK"] += 1
        except grpc.aio.AioRpcError as error:
            self.codes[error.code().name] += 1
        finally:
            limit.release()

    async def run(self, stop: Any, in_flight: int) -> float:
        """Fire at `rate` per second (in 10 ms ticks) until `stop` is set; the seconds it ran."""
        import grpc

        from q2c.v1 import engagement_pb2_grpc

        limit = asyncio.Semaphore(in_flight)
        tasks: set[asyncio.Task[None]] = set()
        async with grpc.aio.insecure_channel(self.target) as channel:
            stub = engagement_pb2_grpc.EngagementServiceStub(channel)
            started = time.perf_counter()
            due = 0.0
            while not stop.is_set():
                due += self.rate * 0.01
                while due >= 1.0:
                    due -= 1.0
                    self.offered += 1
                    if limit.locked():
                        self.skipped += 1
                        continue
                    await limit.acquire()
                    task = asyncio.create_task(self.one(stub, limit))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            await asyncio.gather(*tasks)
        return elapsed


def noisy_process(noisy: Noisy, in_flight: int, stop: Any, results: Any, nice: int = 0) -> None:
    """The noisy tenant in its own process (its client CPU must not slow the quiet client).

    With `nice` > 0 the process yields the CPU to the server and the quiet client, as a noisy
    client on another host would: on one 2-core machine its own CPU (about 0.3 of a core at
    500 calls/s) would otherwise be charged to the server's latency.
    """
    if nice:
        os.nice(nice)
    seconds = asyncio.run(noisy.run(stop, in_flight))
    results.put((seconds, noisy.offered, noisy.skipped, dict(noisy.codes)))


def latency(tally: Tally, wall: float) -> dict[str, Any]:
    """The quiet tenant's figures (ms)."""
    values = sorted(v for kind in tally.latencies.values() for v in kind)
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    return {
        "commands": len(values),
        "commands_per_s": round(len(values) / wall, 1),
        "p50_ms": ms(percentile(values, 50)),
        "p95_ms": ms(percentile(values, 95)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(values[-1]) if values else None,
        "errors": len(tally.errors),
        "error_samples": sorted(set(tally.errors))[:3],
    }


async def measure(args: argparse.Namespace, target: str, server_pid: int, key: DevKey) -> dict[str, Any]:
    """Unloaded phase, then loaded phase; the record."""
    quiet = PacedDriver(target, DEADLINE_SECONDS, f"quiet-{uuid.uuid4().hex[:8]}", key, rate=args.quiet_rate)
    noisy_driver = Driver(target, DEADLINE_SECONDS, f"noisy-{uuid.uuid4().hex[:8]}", key)
    try:
        await quiet.setup()
        await noisy_driver.setup()
        await quiet_phase(quiet, args.warmup)
        cpu0 = cpu_by_process(server_pid)
        alone, alone_wall = await quiet_phase(quiet, args.quiet_engagements)
        cpu1 = cpu_by_process(server_pid)
        await asyncio.sleep(2.0)  # the noisy tenant's bucket refills after its setup
        spawn = multiprocessing.get_context("spawn")
        stop, results = spawn.Event(), spawn.Queue()
        noisy = Noisy(target, list(noisy_driver.metadata), noisy_driver.customer_id, args.noisy_rate)
        flood = spawn.Process(
            target=noisy_process, args=(noisy, args.noisy_in_flight, stop, results, args.noisy_nice)
        )
        flood.start()
        try:
            await asyncio.sleep(1.0)  # the flood is under way before the quiet tenant starts
            loaded, loaded_wall = await quiet_phase(quiet, args.quiet_engagements)
        finally:
            stop.set()
        noisy_seconds, offered, skipped, codes = results.get(timeout=120)
        flood.join(timeout=30)
        cpu2 = cpu_by_process(server_pid)
    finally:
        await quiet.close()
        await noisy_driver.close()
    unloaded_fig, loaded_fig = latency(alone, alone_wall), latency(loaded, loaded_wall)
    accepted = codes.get("OK", 0)
    budget = args.budget or None
    return {
        **machine(),
        "command": "python -m bench.noisy_tenant " + " ".join(sys.argv[1:]),
        "mode": "noisy-tenant",
        "db": args.db,
        "shards": args.shards,
        "budget_per_s": args.budget,
        "burst": args.burst,
        "quiet_rate_per_s": args.quiet_rate,
        "quiet_engagements": args.quiet_engagements,
        "quiet_unloaded": unloaded_fig,
        "quiet_loaded": loaded_fig,
        "quiet_p99_ratio": round(loaded_fig["p99_ms"] / unloaded_fig["p99_ms"], 2),
        "noisy": {
            "nice": args.noisy_nice,
            "seconds": round(noisy_seconds, 2),
            "offered_per_s": round(offered / noisy_seconds, 1),
            "sent_per_s": round((offered - skipped) / noisy_seconds, 1),
            "accepted": accepted,
            "accepted_per_s": round(accepted / noisy_seconds, 1),
            "allowed_at_most": None if budget is None else round(args.budget * noisy_seconds + args.burst),
            "accepted_over_budget": None if budget is None else round(accepted / noisy_seconds / budget, 3),
            "codes": codes,
        },
        "server_cpu_s": {
            "unloaded": round(sum(cpu_delta(cpu0, cpu1).values()), 2),
            "loaded": round(sum(cpu_delta(cpu1, cpu2).values()), 2),
        },
    }


async def main_async(args: argparse.Namespace) -> int:
    with (
        fresh_database(args.db, args.pg_url) as url,
        tempfile.TemporaryDirectory(prefix="q2c-noisy-") as logs,
    ):
        key = create_dev_key(Path(logs) / "dev-key")
        flags = [
            "--dev-key-dir",
            str(key.directory),
            "--tenant-mutations-per-second",
            str(args.budget),
            "--tenant-mutation-burst",
            str(args.burst),
        ]
        with running_server(url, args.shards, Path(logs) / "server.log", None, flags) as (target, pid):
            record = await measure(args, target, pid, key)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "noisy-tenant.jsonl").open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
    print(json.dumps(record, indent=2, sort_keys=True))
    bad = record["quiet_unloaded"]["errors"] or record["quiet_loaded"]["errors"]
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--budget", type=float, default=50.0, help="tenant mutations/s (0: unlimited)")
    parser.add_argument("--burst", type=float, default=50.0, help="tenant mutation burst")
    parser.add_argument("--quiet-rate", type=float, default=30.0, help="quiet tenant commands/s")
    parser.add_argument("--quiet-engagements", type=int, default=40, help="lifecycles per phase")
    parser.add_argument("--warmup", type=int, default=3, help="quiet lifecycles before measuring")
    parser.add_argument("--noisy-rate", type=float, default=500.0, help="noisy tenant calls/s offered")
    parser.add_argument("--noisy-in-flight", type=int, default=64, help="noisy calls outstanding at most")
    parser.add_argument(
        "--noisy-nice", type=int, default=0, help="niceness of the noisy client (emulates another host)"
    )
    args = parser.parse_args(argv)
    if args.quiet_rate >= args.budget > 0:
        parser.error("--quiet-rate must stay below --budget: the quiet tenant is meant to be inside it")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
