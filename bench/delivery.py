"""Delivery benchmark: N issued invoices delivered to the ERP/PSA simulator, at full speed and
after a maintenance window.

    python -m bench.delivery --db sqlite     --invoices 10000 --outage-seconds 60
    python -m bench.delivery --db postgresql --invoices 10000 --outage-seconds 60
    python -m bench.delivery --db sqlite --invoices 2000 --outage-seconds 10 --runtime ray

Seeding (timed and reported on its own, not part of the figures): a fresh database (SQLite
file in a temp dir, or ``q2c_bench_<hex>`` on PostgreSQL, dropped afterwards) gets N of
``bench/seed.py``'s billable engagements (20 time entries, 2 expenses, a milestone), each then
invoiced for January 2026 (``GenerateInvoice``) and the invoice issued (``IssueInvoice``), in
waves through ``host.submit_many`` with no delivery running. The outbox then asks for
3 N items: ``create_job`` (ERP, after an upsert of the customer), ``provision_project`` (PSA)
and ``post_invoice`` (ERP, acknowledged by ``RecordInvoicePosting``).

Each phase runs on its own copy of the seeded database (SQLite: file copy; PostgreSQL:
``CREATE DATABASE ... TEMPLATE``) and a fresh simulator process:

* ``throughput``: start delivery; time until every item is DELIVERED (polled every 0.2 s;
  confirmed with ``DeliveryStore.stats``).
* ``outage``: a maintenance window of ``--outage-seconds`` on every /erp and /psa path (one
  plan without ``path_prefix``: 503 + Retry-After) starts, and delivery with it. Reported: the
  attempts made (all of them failed ones before the window ended), and the drain time from
  the end of the window until every item is DELIVERED.

Both phases check that the simulator holds exactly N invoice documents with distinct keys and
that every q2c invoice is POSTED. One JSON line per phase is appended to
``bench/results/delivery.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.bill_run import copy_of
from bench.lifecycle import CLK_TCK, DEFAULT_PG, RESULTS, ROOT, fresh_database, machine
from bench.seed import CALLER, TENANT, WAVE, reference_data, steps
from q2c_core.adapters.erp.simulator_connectors import simulator_connectors
from q2c_core.adapters.store import Store
from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandEnvelope, CommandResult, new_resource_id
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import commands as c
from q2c_core.domain.periods import BillingPeriod
from simulator.client import SimulatorClient

PERIOD = BillingPeriod.month(2026, 1)
POLL_SECONDS = 0.2


def log(line: str) -> None:
    """Progress goes to stderr; stdout carries the summary."""
    print(line, file=sys.stderr, flush=True)


# -- seeding ------------------------------------------------------------------------------------


async def _wave(host: EngagementHost, ids: list[str], commands: list[Any]) -> list[CommandResult]:
    envelopes = [
        CommandEnvelope(caller=CALLER, engagement_id=eid, slim_reply=True, command=command)
        for eid, command in zip(ids, commands, strict=True)
    ]
    results = await host.submit_many(envelopes)
    failed = [r.error for r in results if r.error]
    if failed:
        raise RuntimeError(f"seeding failed: {failed[:3]}")
    return results


async def seed_invoices(url: str, count: int, analyze: bool) -> None:
    """`count` engagements, each with one ISSUED invoice; no delivery runs meanwhile."""
    store = Store.open(url)
    host = EngagementHost(store, max_batch=WAVE, max_resident=WAVE)
    runtime = LocalRuntime(store, host)
    customers, card = reference_data(runtime)
    started = time.perf_counter()
    for first in range(0, count, WAVE):
        wave = list(range(first, min(first + WAVE, count)))
        ids = [new_resource_id(TENANT, f"eng-{n}", "engagement") for n in wave]
        for make in steps(card):
            await _wave(host, ids, [make(n, customers[n % len(customers)]) for n in wave])
        generated = await _wave(host, ids, [c.GenerateInvoice(period=PERIOD)] * len(ids))
        issues = [c.IssueInvoice(invoice_id=r.invoice.invoice_id) for r in generated if r.invoice]
        await _wave(host, ids, issues)
        if analyze and first == 0:  # a fresh PostgreSQL database has no planner statistics
            _analyze(url)
        log(f"seeded {wave[-1] + 1}/{count} in {time.perf_counter() - started:.1f}s")
    await runtime.close()
    store.close()


def _analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


@contextlib.contextmanager
def seeded_template(db: str, count: int, pg_base: str) -> Iterator[tuple[str, float]]:
    """A seeded database to copy from (removed afterwards) and the seconds seeding took."""
    with fresh_database(db, pg_base) as url:
        started = time.perf_counter()
        asyncio.run(seed_invoices(url, count, analyze=db == "postgresql"))
        seconds = time.perf_counter() - started
        if db == "postgresql":
            _analyze(url)
        yield url, seconds


# -- the simulator ------------------------------------------------------------------------------


@contextlib.contextmanager
def simulator() -> Iterator[tuple[str, int]]:
    """A fresh ``python -m simulator`` process: (base URL, pid); SIGTERM at the end."""
    with tempfile.TemporaryDirectory(prefix="q2c-bench-sim-") as workdir:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--port", "0", "--db", f"{workdir}/sim.db"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            if not banner.startswith("simulator listening on "):
                raise RuntimeError(f"simulator did not start: {banner!r}")
            yield "http://" + banner.split()[-1], proc.pid
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def listen_overflows() -> int:
    """Connections this machine dropped because a listen queue was full (TcpExt counter)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True))["ListenOverflows"])
    return 0


# -- one phase ----------------------------------------------------------------------------------


async def open_runtime(kind: str, store: Store, url: str, config: DeliveryConfig) -> Any:
    """A LocalRuntime, or a RayRuntime over 2 fresh shards (Ray already initialised)."""
    if kind == "local":
        return LocalRuntime(store, delivery=config, connectors=simulator_connectors)
    from actors.runtime import RayRuntime

    runtime = RayRuntime(
        store,
        url,
        shards=2,
        deployment=f"bench-dlv-{uuid.uuid4().hex[:6]}",
        delivery=config,
        connectors=simulator_connectors,
    )
    await runtime.wait_ready()
    return runtime


async def close_runtime(runtime: Any) -> None:
    """Stop delivery and the runtime (Ray: kill the shards and the delivery actor)."""
    if isinstance(runtime, LocalRuntime):
        await runtime.close()
    else:
        await runtime.close(kill_shards=True)


def unfinished(store: Store) -> dict[tuple[str, str], int]:
    """Items not DELIVERED, by (destination, status): a cheap scan of the status index."""
    d = s.deliveries
    query = (
        select(d.c.destination, d.c.status, func.count())
        .where(d.c.status.in_(["PENDING", "DEAD"]))
        .group_by(d.c.destination, d.c.status)
    )
    with store.engine.connect() as conn:
        return {(dest, status): int(n) for dest, status, n in conn.execute(query)}


async def wait_delivered(store: Store, expected: dict[str, int], timeout: float) -> dict[str, float]:
    """Poll until every destination has `expected` items DELIVERED; returns the seconds (from
    the call) at which each destination and all of them were done. Raises on dead letters.

    ``DeliveryStore.stats`` (it also counts every attempt) costs ~0.2 of a core on SQLite at
    30,000 items when called every 0.2 s, so the poll counts unfinished items through the
    status index and calls ``stats`` only to confirm a destination looks done.
    """
    deliveries = DeliveryStore(store.engine)
    started = time.perf_counter()
    done: dict[str, float] = {}
    while len(done) < len(expected):
        await asyncio.sleep(POLL_SECONDS)
        open_items = await asyncio.to_thread(unfinished, store)
        elapsed = time.perf_counter() - started
        if any(status == "DEAD" for _, status in open_items):
            raise RuntimeError(f"dead letters: {open_items}")
        if elapsed > timeout:
            raise RuntimeError(f"not delivered within {timeout}s: {open_items}")
        idle = [d for d in expected if d not in done and (d, "PENDING") not in open_items]
        if not idle:
            continue
        for row in await asyncio.to_thread(deliveries.stats, None, datetime.now(UTC)):
            if row.destination in idle and row.delivered >= expected[row.destination]:
                done[row.destination] = elapsed
    done["all"] = max(done.values())
    return done


def attempts_by_outcome(store: Store, before: datetime | None = None) -> dict[str, int]:
    """delivery_attempts rows by destination and outcome ("ERP:DELIVERED": 20000, ...),
    optionally only those recorded before a time."""
    a, d = s.delivery_attempts, s.deliveries
    query = (
        select(d.c.destination, a.c.outcome, func.count())
        .select_from(a.join(d, a.c.delivery_id == d.c.delivery_id))
        .group_by(d.c.destination, a.c.outcome)
    )
    if before is not None:
        query = query.where(a.c.attempt_time < before)
    with store.engine.connect() as conn:
        return {f"{dest}:{outcome}": int(n) for dest, outcome, n in conn.execute(query)}


def verify(store: Store, sim_url: str, count: int) -> dict[str, Any]:
    """The simulator's invoice documents and q2c's invoice states; both must match N."""
    documents = SimulatorClient(sim_url, timeout=120).list_invoices()
    keys = {d["key"] for d in documents}
    i = s.invoices
    with store.engine.connect() as conn:
        states = {
            state: int(n) for state, n in conn.execute(select(i.c.state, func.count()).group_by(i.c.state))
        }
    ok = len(documents) == count and len(keys) == count and states == {"POSTED": count}
    return {
        "erp_documents": len(documents),
        "distinct_keys": len(keys),
        "invoice_states": states,
        "verified": ok,
    }


async def run_phase(url: str, args: argparse.Namespace, outage: float) -> dict[str, Any]:
    """Deliver every item of a seeded copy to a fresh simulator, with or without an outage."""
    n = args.invoices
    expected = {"ERP": 2 * n, "PSA": n}
    with simulator() as (sim_url, sim_pid):
        config = DeliveryConfig(
            erp_url=sim_url,
            psa_url=sim_url,
            erp_concurrency=args.erp_concurrency,
            psa_concurrency=args.psa_concurrency,
        )
        store = Store.open(url, migrate=False)
        runtime = await open_runtime(args.runtime, store, url, config)
        sim_cpu, own_cpu, overflows = cpu_seconds(sim_pid), time.process_time(), listen_overflows()
        started, outage_end = time.perf_counter(), datetime.now(UTC) + timedelta(seconds=outage)
        if outage:  # no path_prefix: the window covers every /erp and /psa path
            SimulatorClient(sim_url).set_faults({"maintenance_seconds": outage})
        await runtime.start_delivery()
        done = await wait_delivered(store, expected, args.timeout)
        wall = time.perf_counter() - started
        sim_cpu, own_cpu = cpu_seconds(sim_pid) - sim_cpu, time.process_time() - own_cpu
        overflows = listen_overflows() - overflows
        await close_runtime(runtime)
        attempts = await asyncio.to_thread(attempts_by_outcome, store)
        during = await asyncio.to_thread(attempts_by_outcome, store, outage_end)
        checked = await asyncio.to_thread(verify, store, sim_url, n)
        store.close()
    items = sum(expected.values())
    active = wall - outage
    failed = sum(v for k, v in attempts.items() if not k.endswith(":DELIVERED"))
    return {
        "phase": "outage" if outage else "throughput",
        "outage_s": outage,
        "wall_s": round(wall, 2),
        "drain_s": round(active, 2),
        "erp_done_s": round(done["ERP"] - outage, 2),
        "psa_done_s": round(done["PSA"] - outage, 2),
        "items": items,
        "items_per_s": round(items / active, 1),
        "invoices_per_s": round(n / active, 1),
        "attempts": sum(attempts.values()),
        "failed_attempts": failed,
        "attempts_by_outcome": attempts,
        "attempts_during_outage": sum(during.values()) if outage else 0,
        "cpu_s_benchmark_process": round(own_cpu, 1),
        "cpu_s_simulator": round(sim_cpu, 1),
        "listen_overflows": overflows,
        **checked,
    }


# -- main ---------------------------------------------------------------------------------------

SUMMARY = (
    "phase",
    "db",
    "runtime",
    "wall_s",
    "drain_s",
    "items_per_s",
    "invoices_per_s",
    "attempts_during_outage",
    "failed_attempts",
)


def main(argv: list[str] | None = None) -> int:
    """Seed once, then run the throughput and the outage phase on fresh copies."""
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--runtime", choices=["local", "ray"], default="local")
    parser.add_argument("--erp-concurrency", type=int, default=8)
    parser.add_argument("--psa-concurrency", type=int, default=4)
    parser.add_argument("--phases", default="throughput,outage")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up on a phase after this")
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    if args.runtime == "ray":
        import ray

        ray.init(num_cpus=2, include_dashboard=False, namespace="q2c", log_to_driver=False)
    rows = []
    with seeded_template(args.db, args.invoices, args.pg) as (template, seed_s):
        log(f"seeded {args.invoices} issued invoices in {seed_s:.1f}s")
        for phase in args.phases.split(","):
            outage = args.outage_seconds if phase == "outage" else 0.0
            with copy_of(template, args.db, args.pg) as url:
                row = asyncio.run(run_phase(url, args, outage))
            row |= {
                "db": args.db,
                "runtime": args.runtime,
                "invoices": args.invoices,
                "erp_concurrency": args.erp_concurrency,
                "psa_concurrency": args.psa_concurrency,
                "seed_s": round(seed_s, 1),
                "poll": "unfinished-by-status-index",
                **machine(),
            }
            row["command"] = row["command"].replace("bench.lifecycle", "bench.delivery")
            print(json.dumps({k: row[k] for k in (*SUMMARY, "verified")}), flush=True)
            rows.append(row)
            RESULTS.mkdir(parents=True, exist_ok=True)
            with (RESULTS / "delivery.jsonl").open("a") as out:
                out.write(json.dumps(row, sort_keys=True) + "\n")
    if args.runtime == "ray":
        import ray

        ray.shutdown()
    return 0 if all(r["verified"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
