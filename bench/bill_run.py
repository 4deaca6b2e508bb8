"""Month-end bill run benchmark: N engagements, each 20 approved time entries, 2 expenses and
one accepted milestone, invoiced by one bill run fanned out over 1, 2 and 4 Ray shards.

    python -m bench.bill_run --db sqlite --engagements 10000 --shards 1,2,4
    python -m bench.bill_run --db postgresql --engagements 10000 --shards 1,2,4

The database is seeded once (through the real EngagementHost: decide, audit, idempotency, group
commit; not timed), then copied for every shard count (SQLite: file copy; PostgreSQL: CREATE
DATABASE ... TEMPLATE), so each run bills the same untouched month. Seeding runs in a child
process that has exited before Ray starts, so this process holds what a gateway holds during a
run (the Ray driver, RayRuntime, the store) and nothing of the seeding. Ray is started the way
the server starts it (actors.cluster.start_ray). A run is timed from StartBillRun to the run's
terminal state; peak memory is the largest sum of resident set sizes of this process and every
process under it (raylet, GCS, Ray's agents, workers, shards, the coordinator): the server's
whole tree, `peak_rss_mb`, also split into this process (`driver_rss_mb`, the gateway's role)
and Ray's processes (`ray_rss_mb`); `peak_pss_mb` counts each shared page once (RSS counts a
library mapped by ten processes ten times; read every 4 s only, as reading it costs). Sampled
every 500 ms during the run, with each process's own peak beside it. CPU seconds per process
(user + system, from /proc) are taken over the run, so CPU per invoice can be compared on a
loaded machine where wall time cannot.
`--template PATH` keeps the seeded SQLite file at PATH (seeded only if missing) for later runs.
Results are appended as JSON lines to bench/results/bill-run-<db>.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.lifecycle import (
    CLK_TCK,
    DEFAULT_PG,
    RESULTS,
    _short_name,
    fresh_database,
    machine,
    process_tree,
    rss_bytes,
)
from bench.seed import CALLER
from q2c_core.adapters.store import Store
from q2c_core.app.billing.runner import DEFAULT_CHUNK
from q2c_core.app.billing.runs import BillRunSpec
from q2c_core.domain.periods import BillingPeriod

PERIOD = BillingPeriod.month(2026, 1)
PSS_EVERY = 8  # samples (4 s)
DRIVER = "driver (gateway role: Ray driver, RayRuntime, store)"
ROOT = Path(__file__).resolve().parent.parent
RENAMED = ("python", "python default_worker.py", "ray::IDLE")  # a worker takes its actor's name later


@contextlib.contextmanager
def seeded_template(db: str, engagements: int, pg_base: str, keep: str = "") -> Iterator[str]:
    """A seeded database to copy from (removed afterwards, unless kept at `keep`: SQLite only)."""
    if keep:
        path = Path(keep).resolve()
        marker = path.with_suffix(".seeded")
        if not marker.exists() or marker.read_text() != str(engagements):
            path.unlink(missing_ok=True)
            seed_in_child(f"sqlite:///{path}", engagements)
            marker.write_text(str(engagements))
        Store.open(f"sqlite:///{path}").close()  # migrations added since it was seeded
        yield f"sqlite:///{path}"
        return
    with fresh_database(db, pg_base) as url:
        seed_in_child(url, engagements)
        yield url


def seed_in_child(url: str, engagements: int) -> None:
    """Seed in a child process: none of the seeding's memory stays in this one (the gateway's role)."""
    code = (
        "import asyncio, sys\nfrom bench.seed import seed\nasyncio.run(seed(sys.argv[1], int(sys.argv[2])))"
    )
    subprocess.run([sys.executable, "-c", code, url, str(engagements)], check=True, cwd=ROOT)


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
            for suffix in ("", "-wal", "-shm"):  # WAL mode leaves these beside the file
                Path(f"{target}{suffix}").unlink(missing_ok=True)
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


def process_name(pid: int) -> str:
    """A short name for a process of the tree: the driver, a Ray actor class, an executable, or
    the script a Python daemon of Ray runs (dashboard.py, log_monitor.py, monitor.py)."""
    if pid == os.getpid():
        return DRIVER
    argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
    name = _short_name(argv[0])
    if name.startswith("ray::") and ":" in name[5:]:  # a named actor: ray::<name>:<class>
        return "ray::" + name.rsplit(":", 1)[1]
    if name.startswith("python"):
        script = next((a for a in argv[1:] if a.endswith(".py")), "")
        return f"python {Path(script).name}" if script else "python"
    return name


def pss_bytes(pid: int) -> int:
    """Proportional set size: each shared page divided among the processes mapping it."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no Pss for {pid}")


class TreeSampler:
    """RSS and CPU of this process and every descendant (Ray's daemons, workers and actors)."""

    def __init__(self) -> None:
        self.pids: dict[int, str] = {}
        self.peak_total = 0
        self.peak_ray = 0  # the largest sum over every process but this one
        self.peak_pss = 0  # of the samples that read it (every PSS_EVERY-th)
        self.samples = 0
        self.peak_by_pid: dict[int, int] = {}
        self.cpu_start = self._cpu()

    def refresh(self) -> None:
        """Re-read the process tree (new workers appear while the run starts)."""
        for pid in process_tree(os.getpid()):
            if self.pids.get(pid, "python") in RENAMED:
                with contextlib.suppress(OSError):
                    self.pids[pid] = process_name(pid)

    def sample(self) -> None:
        """One sample: the sums of RSS and PSS, and each process's own peak RSS (by pid, named)."""
        self.samples += 1
        with_pss = self.samples % PSS_EVERY == 1  # PSS walks page tables: ~60 ms for 8 processes
        total = pss = driver = 0
        for pid in list(self.pids):
            try:
                rss = rss_bytes(pid)
                pss += pss_bytes(pid) if with_pss else 0
            except (OSError, RuntimeError):
                continue
            total += rss
            driver += rss if pid == os.getpid() else 0
            self.peak_by_pid[pid] = max(self.peak_by_pid.get(pid, 0), rss)
            if self.pids[pid] in RENAMED:  # renamed only every 2 s: the coordinator starts meanwhile
                with contextlib.suppress(OSError):
                    self.pids[pid] = process_name(pid)
        self.peak_total = max(self.peak_total, total)
        self.peak_ray = max(self.peak_ray, total - driver)
        self.peak_pss = max(self.peak_pss, pss)

    def peak_by_process(self) -> dict[str, int]:
        """Each process's own peak, named as it was last seen (a worker takes its actor's name)."""
        return {f"{self.pids[pid]}[{pid}]": peak for pid, peak in self.peak_by_pid.items()}

    def _cpu(self) -> dict[int, float]:
        out = {}
        for pid in process_tree(os.getpid()):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
        return out

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each named process group spent since this sampler was made."""
        spent: dict[str, float] = {}
        for pid, secs in self._cpu().items():
            name = self.pids.get(pid) or process_name(pid)
            spent[name] = spent.get(name, 0.0) + secs - self.cpu_start.get(pid, 0.0)
        return {k: round(v, 2) for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.01}


async def one_run(url: str, shards: int, chunk: int = DEFAULT_CHUNK, py_spy: str = "") -> dict[str, Any]:
    """Start a bill run over `shards` fresh shard actors and wait for it to finish."""
    from actors.runtime import RayRuntime

    store = Store.open(url, migrate=False)
    deployment = f"bench-{uuid.uuid4().hex[:6]}"
    runtime = RayRuntime(store, url, shards=shards, deployment=deployment, bill_run_chunk=chunk)
    await runtime.wait_ready()
    profilers = [
        subprocess.Popen(
            [
                *("py-spy", "record", "--pid", str(stats["pid"]), "--format", "raw", "--rate", "200"),
                *("--output", f"{py_spy}-shard{stats['shard_index']}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for stats in (await runtime.shard_stats() if py_spy else [])
    ]
    sampler = TreeSampler()
    sampler.refresh()
    started = time.perf_counter()
    run = await runtime.start_bill_run(CALLER, f"bench-{uuid.uuid4().hex}", BillRunSpec(period=PERIOD))
    polls = 0
    while not run.state.finished:
        await asyncio.sleep(0.5)  # sampling interval of the benchmark, not synchronisation
        polls += 1
        if polls % 4 == 1:  # scanning /proc is not free: refresh the process list every 2 s
            sampler.refresh()
        sampler.sample()
        run = await asyncio.to_thread(runtime.queries.get_bill_run, CALLER.tenant_id, run.bill_run_id)
    wall = time.perf_counter() - started
    sampler.sample()
    cpu = sampler.cpu_seconds()
    for profiler in profilers:  # py-spy writes its file on SIGINT
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)
    await runtime.close(kill_shards=True)
    store.close()
    return {
        "shards": shards,
        "chunk": chunk,
        "wall_s": round(wall, 2),
        "state": run.state.value,
        "invoices": run.invoices_created,
        "invoices_per_s": round(run.invoices_created / wall, 1),
        "engagements": run.engagements_total,
        "skipped": run.engagements_skipped,
        "failed": run.engagements_failed,
        "peak_rss_mb": round(sampler.peak_total / 2**20, 1),
        "driver_rss_mb": round(sampler.peak_by_pid.get(os.getpid(), 0) / 2**20, 1),
        "ray_rss_mb": round(sampler.peak_ray / 2**20, 1),
        "peak_pss_mb": round(sampler.peak_pss / 2**20, 1),
        "peak_rss_mb_by_process": {
            k: round(v / 2**20, 1)
            for k, v in sorted(sampler.peak_by_process().items(), key=lambda kv: -kv[1])
            if v >= 20 * 2**20
        },
        "cpu_s_by_process": cpu,
        "cpu_ms_per_invoice": round(1000 * sum(cpu.values()) / max(run.invoices_created, 1), 3),
        "shard_cpu_ms_per_invoice": round(
            1000 * sum(v for k, v in cpu.items() if "EngagementShard" in k) / max(run.invoices_created, 1), 3
        ),
        "invoiced_total_usd": str(run.invoiced_totals.get("USD", "0")),
    }


def main(argv: list[str] | None = None) -> int:
    """Seed once, then run the bill run for each shard count on a fresh copy."""
    parser = argparse.ArgumentParser(prog="python -m bench.bill_run", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--shards", default="1,2,4")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="engagements per shard call")
    parser.add_argument("--py-spy", default="", help="record each shard with py-spy to PREFIX-shardN.txt")
    parser.add_argument("--template", default="", help="keep the seeded SQLite file here and reuse it")
    args = parser.parse_args(argv)
    if args.template and args.db != "sqlite":
        parser.error("--template is for --db sqlite")
    from actors.cluster import start_ray, stop_ray

    rows = []
    with seeded_template(args.db, args.engagements, args.pg, args.template) as template:
        start_ray(None, 2)  # after seeding: the tree holds only what a server runs
        for shards in (int(s) for s in args.shards.split(",")):
            with copy_of(template, args.db, args.pg) as url:
                row = {
                    "db": args.db,
                    **asyncio.run(one_run(url, shards, args.chunk, args.py_spy)),
                    **machine(),
                }
                row["command"] = row["command"].replace("bench.lifecycle", "bench.bill_run")
                row["profiled"] = bool(args.py_spy)
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
                                "driver_rss_mb",
                                "ray_rss_mb",
                                "peak_pss_mb",
                                "cpu_ms_per_invoice",
                                "shard_cpu_ms_per_invoice",
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
    stop_ray()
    return 0 if all(r["state"] == "SUCCEEDED" and r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
