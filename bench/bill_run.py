"""Month-end bill run benchmark: N engagements, each 20 approved time entries, 2 expenses and
one accepted milestone, invoiced by one bill run fanned out over 1, 2 and 4 Ray shards.

    python -m bench.bill_run --db sqlite --engagements 10000 --shards 1,2,4
    python -m bench.bill_run --db postgresql --engagements 10000 --shards 1,2,4

The database is seeded once (through the real EngagementHost: decide, audit, idempotency, group
commit; not timed), then copied for every shard count (SQLite: file copy; PostgreSQL: CREATE
DATABASE ... TEMPLATE), so each run bills the same untouched month. A run is timed from
StartBillRun to the run's terminal state; peak memory is the largest sum of resident set sizes
of this process and every Ray process, sampled every 500 ms during the run.
Results are appended as JSON lines to bench/results/bill-run-<db>.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.lifecycle import DEFAULT_PG, RESULTS, fresh_database, machine, rss_bytes
from bench.seed import CALLER, seed
from q2c_core.adapters.store import Store
from q2c_core.app.billing.runs import BillRunSpec
from q2c_core.domain.periods import BillingPeriod

PERIOD = BillingPeriod.month(2026, 1)


@contextlib.contextmanager
def seeded_template(db: str, engagements: int, pg_base: str) -> Iterator[str]:
    """A seeded database to copy from (removed afterwards)."""
    with fresh_database(db, pg_base) as url:
        asyncio.run(seed(url, engagements))
        yield url


@contextlib.contextmanager
def copy_of(template: str, db: str, pg_base: str) -> Iterator[str]:
    """A fresh copy of the seeded database for one run."""
    if db == "sqlite":
        source = Path(template.removeprefix("sqlite:///"))
        target = source.with_name(f"run-{uuid.uuid4().hex[:8]}.db")
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            target.unlink(missing_ok=True)
        return
    import psycopg

    name = f"q2c_bill_run_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{pg_base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"')
    try:
        yield f"{pg_base}/{name}"
    finally:
        with psycopg.connect(f"{pg_base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ray_worker_pids() -> list[int]:
    """Every process Ray started on this machine (workers, raylet, GCS)."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            cmd = status.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "ray::" in cmd or "default_worker.py" in cmd:
                pids.append(int(status.parent.name))
    return pids


def memory_now(pids: list[int]) -> int:
    """RSS of this process plus the given Ray processes."""
    total = 0
    for pid in [*pids, os.getpid()]:
        with contextlib.suppress(OSError, RuntimeError):
            total += rss_bytes(pid)
    return total


async def one_run(url: str, shards: int) -> dict[str, Any]:
    """Start a bill run over `shards` fresh shard actors and wait for it to finish."""
    from actors.runtime import RayRuntime

    store = Store.open(url, migrate=False)
    runtime = RayRuntime(store, url, shards=shards, deployment=f"bench-{uuid.uuid4().hex[:6]}")
    await runtime.wait_ready()
    started = time.perf_counter()
    run = await runtime.start_bill_run(CALLER, f"bench-{uuid.uuid4().hex}", BillRunSpec(period=PERIOD))
    pids, peak, polls = ray_worker_pids(), 0, 0
    while not run.state.finished:
        await asyncio.sleep(0.5)  # sampling interval of the benchmark, not synchronisation
        polls += 1
        if polls % 4 == 0:  # scanning /proc is not free: refresh the process list every 2 s
            pids = ray_worker_pids()
        peak = max(peak, memory_now(pids))
        run = await asyncio.to_thread(runtime.queries.get_bill_run, CALLER.tenant_id, run.bill_run_id)
    wall = time.perf_counter() - started
    await runtime.close(kill_shards=True)
    store.close()
    return {
        "shards": shards,
        "wall_s": round(wall, 2),
        "state": run.state.value,
        "invoices": run.invoices_created,
        "invoices_per_s": round(run.invoices_created / wall, 1),
        "engagements": run.engagements_total,
        "skipped": run.engagements_skipped,
        "failed": run.engagements_failed,
        "peak_rss_mb": round(peak / 2**20, 1),
        "invoiced_total_usd": str(run.invoiced_totals.get("USD", "0")),
    }


def main(argv: list[str] | None = None) -> int:
    """Seed once, then run the bill run for each shard count on a fresh copy."""
    parser = argparse.ArgumentParser(prog="python -m bench.bill_run", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--shards", default="1,2,4")
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, namespace="q2c", log_to_driver=False)
    rows = []
    with seeded_template(args.db, args.engagements, args.pg) as template:
        for shards in (int(s) for s in args.shards.split(",")):
            with copy_of(template, args.db, args.pg) as url:
                row = {"db": args.db, **asyncio.run(one_run(url, shards)), **machine()}
                row["command"] = row["command"].replace("bench.lifecycle", "bench.bill_run")
                print(
                    json.dumps(
                        {
                            k: row[k]
                            for k in (
                                "db",
                                "shards",
                                "wall_s",
                                "invoices",
                                "invoices_per_s",
                                "peak_rss_mb",
                                "state",
                            )
                        }
                    ),
                    flush=True,
                )
                rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / f"bill-run-{args.db}.jsonl").open("a") as out:
        for row in rows:
            out.write(json.dumps(row, sort_keys=True) + "\n")
    ray.shutdown()
    return 0 if all(r["state"] == "SUCCEEDED" and r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
